"""Synthetic data at scale, for the benchmarks and their smoke test: BUS groups, meetings,
sent cases in a mix of states, held SIP and BUS-individ meetings.

Groups and meetings go through the services, as an administrator and a secretary make them
(with their audit events). Cases, answers, closings, attachments and meetings held go in as
model objects, a chunk per flush: a service call per case (with its outbox and audit rows)
would take most of an hour for the 10,000 cases of the digest benchmarks, and a case's
history (sent long ago, answered, closed) is what no service lets one write. All text is
Swedish-looking words without digits, so it passes the de-identification scan. In the app
context, on the demo directory.
"""

from __future__ import annotations

import dataclasses
import io
import random
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select

from formservice.domain.directory import GroupInput
from formservice.extensions import db
from formservice.models import (
    Attachment,
    BusGroup,
    BusIndivid,
    Deviation,
    DeviationAnswer,
    DeviationClosing,
    GroupMeeting,
    SipMeeting,
    Unit,
    User,
)
from formservice.services import directory, files, meetings
from formservice.services.accounts import find_user

CHEF_A = "fia.familj@stad.example"  # chef of familjeenheten-skarpnack
SECRETARY = "sam.prevent@stad.example"  # secretary of skarpnack (and of every seeded group)
ADMIN = "ada@stad.example"
UNITS = [
    "familjeenheten-skarpnack",
    "grundskola-skarpnack",
    "forskola-skarpnack",
    "bup-farsta",
    "hc-soderstaden",
]
STATE_MIX = (("skickad", 0.35), ("besvarad", 0.30), ("behandlad", 0.20), ("avslutad", 0.15))
CHUNK = 2000

WORDS = [
    "remissen",
    "mottagningen",
    "samverkan",
    "kontakt",
    "skolan",
    "verksamheten",
    "insatsen",
    "möte",
    "barnet",
    "familjen",
    "uppföljning",
    "ansvar",
    "planen",
    "överenskommelsen",
    "handläggare",
    "vecka",
    "besked",
    "utredning",
    "stöd",
    "elevhälsa",
    "vårdnadshavare",
    "hälsa",
    "samordning",
    "kallelse",
    "förfrågan",
    "rutinen",
    "svar",
    "tid",
    "information",
    "behandling",
    "bedömning",
    "resurs",
    "placering",
    "hemmet",
    "fritid",
    "kontaktperson",
    "återkoppling",
    "ärendet",
    "beslut",
]


def text(rng: random.Random, words: int, paragraphs: int = 1) -> str:
    """Synthetic Swedish-looking text without digits (passes the de-identification scan)."""
    parts = []
    for _ in range(paragraphs):
        body = " ".join(rng.choice(WORDS) for _ in range(words))
        parts.append(body[0].upper() + body[1:] + ".")
    return "\n".join(parts)


def pdf_bytes(pages: int, label: str = "Bilaga") -> bytes:
    """A small PDF with `pages` pages of text (pypdf only)."""
    from pypdf import PdfWriter
    from pypdf.generic import DecodedStreamObject, DictionaryObject, NameObject

    writer = PdfWriter()
    font = DictionaryObject(
        {
            NameObject("/Type"): NameObject("/Font"),
            NameObject("/Subtype"): NameObject("/Type1"),
            NameObject("/BaseFont"): NameObject("/Helvetica"),
        }
    )
    font_ref = writer._add_object(font)
    for n in range(pages):
        page = writer.add_blank_page(width=595, height=842)
        stream = DecodedStreamObject()
        stream.set_data(f"BT /F1 14 Tf 72 770 Td ({label} sida {n + 1}) Tj ET".encode())
        page[NameObject("/Contents")] = writer._add_object(stream)
        page[NameObject("/Resources")] = DictionaryObject(
            {NameObject("/Font"): DictionaryObject({NameObject("/F1"): font_ref})}
        )
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def person(email: str) -> User:
    user = find_user(email)
    assert user is not None, f"{email} is not in the directory"
    return user


def add_group(group_id: str, name: str) -> None:
    """A BUS group with the demo group's convener and secretary, and the demo units in it,
    made as an administrator makes it (services.directory)."""
    admin = person(ADMIN)
    demo = db.session.get(BusGroup, "skarpnack")
    assert demo is not None and demo.convener is not None and demo.secretary is not None
    data = GroupInput(name=name, convener=demo.convener.email, secretary=demo.secretary.email)
    directory.save_group(admin, group_id, data)
    for unit_id in UNITS:
        unit = db.session.get(Unit, unit_id)
        assert unit is not None
        current = directory.unit_input(unit)
        wanted = dataclasses.replace(current, bus_groups=(*current.bus_groups, group_id))
        directory.save_unit(admin, unit_id, wanted)


def add_meeting(group_id: str, meeting_date: date, place: str = "Stadsdelshuset") -> int:
    """The group's meeting on `meeting_date`, planned by the secretary unless there is one."""
    found = db.session.scalar(
        select(GroupMeeting.id).where(
            GroupMeeting.group_id == group_id, GroupMeeting.meeting_date == meeting_date
        )
    )
    if found is not None:
        return found
    return meetings.plan(person(SECRETARY), group_id, meeting_date, place).id


def seed_cases(
    group_id: str,
    n: int,
    *,
    prefix: str,
    pdf_attachments: int = 0,
    other_attachments: int = 0,
    seed: int = 1,
    sent_from: datetime | None = None,
) -> list[int]:
    """n sent deviations of the group in a mix of states, with answers and closings where the
    state has them; `pdf_attachments` of them carry one small PDF each (2 pages), and
    `other_attachments` a PNG. Their ids, in order."""
    from formservice.domain.deviation import AGE_GROUPS, DEFAULT_CATEGORIES, GENDERS

    rng = random.Random(seed)
    codes = [code for code, _ in DEFAULT_CATEGORIES]
    now = datetime.now(UTC)
    sent_from = sent_from or now - timedelta(days=120)
    span = (now - sent_from).total_seconds()
    author, secretary = person(CHEF_A).id, person(SECRETARY).id
    states = [s for s, share in STATE_MIX for _ in range(round(share * n))]
    states = (states + ["skickad"] * n)[:n]
    rng.shuffle(states)
    earlier = add_meeting(group_id, (now - timedelta(days=200)).date(), "Tidigare möte")
    chosen = rng.sample(range(n), min(n, pdf_attachments + other_attachments))
    attached = {index: k for k, index in enumerate(chosen)}  # the first ones get a PDF
    ids: list[int] = []
    batch: list[Deviation] = []
    for i, state in enumerate(states):
        sent = sent_from + timedelta(seconds=rng.random() * span)
        reporting, receiving = rng.sample(UNITS, 2)
        answered = sent + timedelta(days=rng.randint(1, 45)) if state != "skickad" else None
        if answered and answered > now:
            answered = now
        case = Deviation(
            case_number=f"{prefix}-{i + 1:06d}",
            state=state,
            form_version=1,
            reporting_unit_id=reporting,
            receiving_unit_id=receiving,
            group_id=group_id,
            created_by_id=author,
            event_date=(sent - timedelta(days=rng.randint(1, 20))).date(),
            categories=rng.sample(codes, rng.randint(1, 3)),
            description=text(rng, 60, 2),
            actions_taken=text(rng, 30),
            bus_individ=False,
            bus_individ_date=None,
            proposal=text(rng, 15) if rng.random() < 0.6 else "",
            child_gender=rng.choice(list(GENDERS)),
            age_group=rng.choice(list(AGE_GROUPS)),
            link_version=2 if answered else 1,
            created_at=sent,
            sent_at=sent,
            deadline=(sent + timedelta(days=30)).date(),
            answered_at=answered,
            closed_at=answered + timedelta(days=1) if answered and state == "avslutad" else None,
        )
        if answered:
            case.answer = DeviationAnswer(
                responder_name="Ines Sved",
                responder_email="ines.sved@region.example",
                assessment=text(rng, 40),
                actions_taken=text(rng, 20),
                planned_measures=[
                    {"action": text(rng, 5), "responsible": "BUP Farsta", "due": "2027-01-31"}
                ],
                agrees=rng.choice(["ja", "delvis", "nej"]),
                raise_regional=False,
                created_at=answered,
            )
        if answered and state == "avslutad":
            case.closing = DeviationClosing(
                meeting_id=earlier,
                assessment=rng.choice(["bekraftad", "delvis", "ej"]),
                measures=[{"action": text(rng, 4), "unit": "BUP Farsta", "due": "2027-03-01"}],
                escalate=False,
                escalate_reason="",
                closed_by_id=secretary,
                closed_at=answered + timedelta(days=1),
            )
        if i in attached:
            k = attached[i]
            case.attachments = [_attachment(k < pdf_attachments, k + 1)]
        batch.append(case)
        if len(batch) == CHUNK:
            ids += _store(batch)
    return ids + _store(batch)


def _attachment(pdf: bool, number: int) -> Attachment:
    if pdf:
        data = pdf_bytes(2, f"Bilaga {number}")
        return Attachment(
            file=files.new_file(f"utredning-{number}.pdf", files.PDF_TYPE, data), page_count=2
        )
    png = b"\x89PNG\r\n\x1a\n" + bytes(64)
    return Attachment(file=files.new_file(f"bild-{number}.png", "image/png", png))


def _store(batch: list) -> list[int]:
    """Commit `batch` (emptied) and let go of it; the ids of what it held."""
    db.session.add_all(batch)
    db.session.flush()
    ids = [row.id for row in batch]
    db.session.commit()
    db.session.expunge_all()
    batch.clear()
    return ids


def seed_meetings(group_id: str, sip: int, bus_individ: int, *, seed: int = 2) -> None:
    """Held SIP meetings and BUS-individ records in the group over the last 120 days."""
    from formservice.domain.deviation import GENDERS

    rng = random.Random(seed)
    now = datetime.now(UTC)
    author = person(CHEF_A).id
    batch: list = []
    for _ in range(sip):
        at = now - timedelta(days=rng.random() * 120)
        batch.append(
            SipMeeting(
                state="genomford",
                meeting_type=rng.choice(["forsta", "uppfoljning"]),
                group_id=group_id,
                child_name=None,
                child_personnummer=None,
                child_gender=rng.choice(list(GENDERS)),
                child_over_15=False,
                guardians=[],
                consent={},
                meeting_at=at,
                initiator_unit_id=UNITS[0],
                initiator_user_id=author,
                invitees=[],
                short_notice=rng.random() < 0.1,
                created_at=at - timedelta(days=25),
                sent_at=at - timedelta(days=24),
                held_at=at,
            )
        )
        if len(batch) == CHUNK:
            _store(batch)
    for _ in range(bus_individ):
        day = (now - timedelta(days=rng.random() * 120)).date()
        batch.append(
            BusIndivid(
                state="genomford",
                group_id=group_id,
                sip_date=day - timedelta(days=30),
                child_name=None,
                child_gender=rng.choice(list(GENDERS)),
                consent={},
                raised_by_unit_id=UNITS[0],
                created_by_id=author,
                convener_unit_id=UNITS[0],
                chair_unit_id=UNITS[1],
                participants=UNITS[:3],
                meeting_date=day,
                agreement_reached=rng.random() < 0.7,
                agreements=[],
                created_at=now,
                held_at=datetime.combine(day, datetime.min.time(), UTC),
            )
        )
        if len(batch) == CHUNK:
            _store(batch)
    _store(batch)
