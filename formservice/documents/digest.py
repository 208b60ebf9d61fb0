"""The digest "Sammanställning av avvikelser": DOCX context, its parts for LibreOffice and the
PDF's outline (SPEC §6).

A long digest is converted to PDF in parts of at most `PART_SIZE` cases, each one document
for LibreOffice, whose time per case grows with the document (1,000 cases in one document:
105 s, in four: 80 s; 2,000 in one: 320 s; docs/performance.md). The parts are rendered from
the same template as the whole digest; `part` in the context says what each holds.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any

from ..domain import deviation as rules
from ..domain.meetings import ASSESSMENTS
from .docx import answer_context, clean, day, feedback_context, supplement_context
from .pdfjoin import Bookmark

if TYPE_CHECKING:
    from ..models import Deviation, DeviationClosing, GroupMeeting

#: Sections of the digest, in order: (title, states).
SECTIONS = (
    ("Skickade och ännu inte besvarade", (rules.SKICKAD,)),
    ("Besvarade", (rules.BESVARAD,)),
    ("Behandlade vid tidigare möte", (rules.BEHANDLAD,)),
    ("Avslutade sedan förra mötet", (rules.AVSLUTAD,)),
)

#: Most cases in one document for LibreOffice (about 20 s each on a 2-core machine).
PART_SIZE = 200


@dataclass
class Part:
    """One rendering of the template: the whole digest, or a stretch of its cases."""

    front: bool = True  # title, meeting and summary
    statistics: bool = True  # the statistics at the end
    #: (section title, whether this part shows the title, the section's case ids in it)
    sections: list[tuple[str, bool, list[int]]] = field(default_factory=list)

    @property
    def size(self) -> int:
        return sum(len(ids) for _, _, ids in self.sections)


def sections(cases: Iterable[Any]) -> list[tuple[str, list[int]]]:
    """The digest's sections that have cases: (title, ids in order). `cases` are reports (or
    rows with `id` and `state`) in the order the digest lists them."""
    cases = list(cases)
    found = [(title, [c.id for c in cases if c.state in states]) for title, states in SECTIONS]
    return [(title, ids) for title, ids in found if ids]


def whole(sections: Sequence[tuple[str, list[int]]]) -> Part:
    return Part(sections=[(title, True, ids) for title, ids in sections])


def parts(sections: Sequence[tuple[str, list[int]]], size: int = PART_SIZE) -> list[Part]:
    """The digest cut into parts of at most `size` cases: the first opens the digest, the last
    holds the statistics, and a section cut between parts is titled in the first one only."""
    result = [Part(statistics=False)]
    count = 0
    for title, ids in sections:
        for n, case_id in enumerate(ids):
            if count == size:
                result.append(Part(front=False, statistics=False))
                count = 0
            part = result[-1]
            if n == 0 or not part.sections:
                part.sections.append((title, n == 0, []))
            part.sections[-1][2].append(case_id)
            count += 1
    result[-1].statistics = True
    return result


def context(
    meeting: GroupMeeting,
    part: Part,
    cases: Callable[[list[int]], Iterable[dict]],
    summary: dict,
    statistics: dict,
    today: date,
) -> dict:
    """The template context of one part; `cases(ids)` gives the case dicts (`case`) of a
    section, and may give them as they are read."""
    return {
        "part": {"front": part.front, "statistics": part.statistics},
        "group_name": clean(meeting.group.name),
        "meeting_date": meeting.meeting_date.isoformat(),
        "meeting_place": clean(meeting.place or ""),
        "compiled_on": today.isoformat(),
        "summary": clean(_summary(summary)),
        "sections": [
            {"title": title, "heading": heading, "cases": cases(ids)}
            for title, heading, ids in part.sections
        ],
        "statistics": clean(statistics),
    }


def _summary(summary: dict) -> dict:
    median = summary["median_answer_days"]
    share_in_time = summary["share_in_time"]
    return {
        **summary,
        "median_answer_days": "–" if median is None else f"{median:g} dagar".replace(".", ","),
        "share_in_time": "–" if share_in_time is None else f"{share_in_time:g} %".replace(".", ","),
        "measures": _measures(summary.get("measures") or {}),
    }


def _measures(found: dict[str, list[dict]]) -> dict[str, list[dict[str, str]]]:
    """The decided measures done and overdue since the last meeting, as text for Word."""
    in_time = {True: " (i tid)", False: " (efter datum)", None: ""}
    return {
        kind: [
            {
                "case_number": m["case_number"],
                "action": m["action"],
                "unit": m["unit"],
                "due": m["due"].isoformat() if m["due"] else "–",
                "done": m["done_on"].isoformat() + in_time[m["in_time"]] if m["done_on"] else "",
                "comment": m["comment"],
            }
            for m in found.get(kind, [])
        ]
        for kind in ("done", "overdue")
    }


def case(deviation: Deviation, today: date, tz: str, categories: list[str]) -> dict[str, Any]:
    """One case of the digest, ready for Word (`clean`); `categories`: its labels as filed."""
    overdue = deviation.state == rules.SKICKAD and deviation.deadline and today > deviation.deadline
    heading = f"{deviation.case_number}: {deviation.reporting_unit.name} till "
    heading += deviation.receiving_unit.name + (" – obesvarad" if overdue else "")
    feedback = feedback_context(deviation.feedback, tz)
    if feedback is not None and feedback["insufficient"]:
        heading += " – Återkoppling: räcker inte"
    answer = answer_context(deviation.answer, tz)
    if answer is not None:
        answer["measures"] = [
            " – ".join(v for v in (m["action"], m["responsible"], m["due"]) if v)
            for m in answer.pop("planned_measures")
        ]
    return clean(
        {
            "heading": heading,
            "case_number": deviation.case_number,
            "state": "Obesvarad" if overdue else rules.STATE_LABELS[deviation.state],
            "reporting_unit": deviation.reporting_unit.name,
            "receiving_unit": deviation.receiving_unit.name,
            "event_date": day(deviation.event_date, tz),
            "sent_at": day(deviation.sent_at, tz),
            "deadline": day(deviation.deadline, tz),
            "answered_at": day(deviation.answered_at, tz),
            "categories": list(categories),
            "description": deviation.description,
            "actions_taken": deviation.actions_taken,
            "proposal": deviation.proposal or "",
            "attachments": [a.file.name for a in deviation.attachments],
            "answer": answer,
            "feedback": feedback,
            "supplement": supplement_context(deviation.supplement, tz),
            "closing": _closing(deviation.closing),
        }
    )


def _closing(closing: DeviationClosing | None) -> dict[str, Any]:
    """The decision if the case is closed; otherwise empty lines to fill in at the meeting."""
    if closing is None:
        return {"assessment": " ", "measures": [], "escalate": "Ja / Nej"}
    return {
        "assessment": ASSESSMENTS.get(closing.assessment, closing.assessment),
        "measures": [
            " – ".join(str(v) for v in (m.get("action"), m.get("unit"), m.get("due")) if v)
            for m in closing.measures or []
        ],
        "escalate": "Ja" if closing.escalate else "Nej",
    }


@dataclass(frozen=True)
class Appendix:
    """A report's PDF attachment, appended after the digest."""

    case_number: str
    name: str
    first_page: int  # in the joined PDF


def outline(
    headings: Sequence[tuple[str, int]], levels: Sequence[int], appendices: Sequence[Appendix]
) -> list[Bookmark]:
    """The PDF's bookmarks: one per heading, nested by the headings' levels in the DOCX (each
    part's own outline from LibreOffice starts afresh, so its nesting cannot be kept), then
    "Bilagor" with one bookmark per case and per attached file. `headings`: LibreOffice's,
    (title, page) in document order; `levels`: the rendered headings' outline levels."""
    if len(levels) != len(headings):  # not expected: LibreOffice makes one per heading
        levels = [1] * len(headings)
    root: list[Bookmark] = []
    open_: list[tuple[int, Bookmark]] = []
    for (title, page), level in zip(headings, levels, strict=True):
        while open_ and open_[-1][0] >= level:
            open_.pop()
        mark = Bookmark(title, page)
        (open_[-1][1].children if open_ else root).append(mark)
        open_.append((level, mark))
    if appendices:
        attached = Bookmark("Bilagor", appendices[0].first_page)
        by_case: dict[str, Bookmark] = {}
        for item in appendices:
            if item.case_number not in by_case:
                by_case[item.case_number] = Bookmark(item.case_number, item.first_page)
                attached.children.append(by_case[item.case_number])
            by_case[item.case_number].children.append(Bookmark(item.name, item.first_page))
        root.append(attached)
    return root
