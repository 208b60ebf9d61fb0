"""The digest "Sammanställning av avvikelser": DOCX context and the assembled PDF (SPEC §6)."""

from __future__ import annotations

import io
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from pypdf import PdfReader, PdfWriter
from pypdf.errors import PdfReadError

from ..domain import deviation as rules
from .docx import _answer, _day

#: Sections of the digest, in order: (title, states).
SECTIONS = (
    ("Skickade och ännu inte besvarade", (rules.SKICKAD,)),
    ("Besvarade", (rules.BESVARAD,)),
    ("Behandlade vid tidigare möte", (rules.BEHANDLAD,)),
    ("Avslutade sedan förra mötet", (rules.AVSLUTAD,)),
)
CLOSING_ASSESSMENTS = {"bekraftad": "Avvikelse bekräftad", "delvis": "Delvis", "ej": "Ej avvikelse"}


def context(meeting, cases: list, summary: dict, statistics: dict, today, tz: str) -> dict:
    """The whole template context; plain strings, lists and dicts only."""
    return {
        "group_name": meeting.group.name,
        "meeting_date": meeting.meeting_date.isoformat(),
        "meeting_place": meeting.place or "",
        "compiled_on": today.isoformat(),
        "summary": _summary(summary),
        "sections": [
            {"title": title, "cases": [_case(c, today, tz) for c in cases if c.state in states]}
            for title, states in SECTIONS
            if any(c.state in states for c in cases)
        ],
        "statistics": statistics,
    }


def _summary(summary: dict) -> dict:
    median = summary["median_answer_days"]
    share_in_time = summary["share_in_time"]
    return {
        **summary,
        "median_answer_days": "–" if median is None else f"{median:g} dagar".replace(".", ","),
        "share_in_time": "–" if share_in_time is None else f"{share_in_time:g} %".replace(".", ","),
    }


def _case(deviation, today, tz: str) -> dict[str, Any]:
    overdue = deviation.state == rules.SKICKAD and deviation.deadline and today > deviation.deadline
    heading = f"{deviation.case_number}: {deviation.reporting_unit.name} till "
    heading += deviation.receiving_unit.name + (" – obesvarad" if overdue else "")
    answer = _answer(deviation.answer, tz)
    if answer is not None:
        answer["measures"] = [
            " – ".join(v for v in (m["action"], m["responsible"], m["due"]) if v)
            for m in answer.pop("planned_measures")
        ]
    return {
        "heading": heading,
        "case_number": deviation.case_number,
        "state": "Obesvarad" if overdue else rules.STATE_LABELS[deviation.state],
        "reporting_unit": deviation.reporting_unit.name,
        "receiving_unit": deviation.receiving_unit.name,
        "event_date": _day(deviation.event_date, tz),
        "sent_at": _day(deviation.sent_at, tz),
        "deadline": _day(deviation.deadline, tz),
        "answered_at": _day(deviation.answered_at, tz),
        "categories": list(deviation.categories or []),
        "description": deviation.description,
        "actions_taken": deviation.actions_taken,
        "proposal": deviation.proposal or "",
        "attachments": [a.file.name for a in deviation.attachments],
        "answer": answer,
        "closing": _closing(deviation.closing),
    }


def _closing(closing) -> dict[str, Any]:
    """The decision if the case is closed; otherwise empty lines to fill in at the meeting."""
    if closing is None:
        return {"assessment": " ", "measures": [], "escalate": "Ja / Nej"}
    return {
        "assessment": CLOSING_ASSESSMENTS.get(closing.assessment, closing.assessment),
        "measures": [
            " – ".join(str(v) for v in (m.get("action"), m.get("unit"), m.get("due")) if v)
            for m in closing.measures or []
        ],
        "escalate": "Ja" if closing.escalate else "Nej",
    }


@dataclass(frozen=True)
class AttachedPdf:
    case_number: str
    name: str
    data: bytes


def assemble(
    digest_pdf: bytes, attachments: Iterable[AttachedPdf], title: str, subject: str
) -> bytes:
    """Append the reports' PDF attachments with one bookmark per case and per attachment."""
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(digest_pdf)))
    parent = None
    by_case: dict[str, Any] = {}
    for item in attachments:
        try:
            reader = PdfReader(io.BytesIO(item.data))
            first_page = len(writer.pages)
            writer.append(reader, import_outline=False)
        except (PdfReadError, ValueError, KeyError):
            continue  # checked at upload; a file that no longer opens is left out, not fatal
        if parent is None:
            parent = writer.add_outline_item(title="Bilagor", page_number=first_page)
        if item.case_number not in by_case:
            by_case[item.case_number] = writer.add_outline_item(
                title=item.case_number, page_number=first_page, parent=parent
            )
        writer.add_outline_item(
            title=item.name, page_number=first_page, parent=by_case[item.case_number]
        )
    writer.add_metadata({"/Title": title, "/Subject": subject, "/Author": "BUS-formservice"})
    writer.page_mode = "/UseOutlines"
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
