"""Building SIP meetings and BUS-individ records for tests: synthetic content only."""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from formservice.extensions import db
from formservice.models import BusIndivid, SipCalledUnit, SipMeeting, StoredFile

from .helpers import CHEF_A, user

OWN_UNIT = "familjeenheten-skarpnack"
CHILD = "Testbarn Hemligsson"
PNR = "811218-9876"  # synthetic, valid check digit
QUESTION = "Frågeställning med hemlig detalj QX-17."
AGREEMENT = "Skolan gör en kartläggning AGR-42"


def stockholm_today() -> date:
    return datetime.now(ZoneInfo("Europe/Stockholm")).date()


def stored(name: str, data: bytes = b"%PDF-1.4 test") -> StoredFile:
    file = StoredFile(
        name=name,
        content_type="application/pdf",
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        data=data,
    )
    db.session.add(file)
    db.session.flush()
    return file


def sip_meeting(
    meeting_at: datetime,
    *,
    state: str = "genomford",
    gender: str = "flicka",
    meeting_type: str = "forsta",
    group_id: str | None = "skarpnack",
    initiator_unit: str = OWN_UNIT,
    initiator: str = CHEF_A,
    called: tuple[str, ...] = ("bup-farsta",),
    with_files: bool = False,
    held: bool | None = None,
) -> SipMeeting:
    """A SIP meeting with the child's identity filled in, committed."""
    meeting = SipMeeting(
        state=state,
        meeting_type=meeting_type,
        group_id=group_id,
        child_name=CHILD,
        child_personnummer=PNR,
        child_gender=gender,
        child_over_15=False,
        guardians=[{"name": "Vårdnadshavare Hemligsson", "contact": "070-000 00 00"}],
        consent={"date": "2024-01-02", "given_by": ["vardnadshavare_1"], "form": "skriftligt"},
        question=QUESTION,
        meeting_at=meeting_at,
        place="Skolan, rum 3",
        initiator_unit_id=initiator_unit,
        initiator_user_id=user(initiator).id,
        invitees=[{"name": "Moster Hemligsson", "organisation": "", "email": ""}],
        short_notice=False,
        held_at=meeting_at if (held if held is not None else state == "genomford") else None,
    )
    meeting.called = [SipCalledUnit(unit_id=u, attendance="narvarande") for u in called]
    if with_files:
        meeting.docx_file_id = stored("kallelse.docx").id
        meeting.pdf_file_id = stored("kallelse.pdf").id
    db.session.add(meeting)
    db.session.commit()
    return meeting


def bus_individ(
    meeting_date: date,
    *,
    state: str = "genomford",
    gender: str = "pojke",
    group_id: str | None = "skarpnack",
    with_files: bool = False,
    agreement_reached: bool = True,
) -> BusIndivid:
    """A BUS-individ record with the child's identity filled in, committed."""
    record = BusIndivid(
        state=state,
        group_id=group_id,
        sip_date=meeting_date - timedelta(days=30),
        child_name=CHILD,
        child_gender=gender,
        consent={"date": "2024-01-02", "given_by": ["vardnadshavare_1"], "form": "muntligt"},
        raised_by_unit_id=OWN_UNIT,
        created_by_id=user(CHEF_A).id,
        convener_unit_id=OWN_UNIT,
        chair_unit_id="grundskola-skarpnack",
        participants=[OWN_UNIT, "bup-farsta"],
        question=QUESTION,
        meeting_date=meeting_date,
        agreement_reached=agreement_reached,
        agreements=[{"what": AGREEMENT, "who": "Rektor", "by_when": ""}],
        follow_up=False,
        held_at=datetime.combine(meeting_date, datetime.min.time(), UTC) + timedelta(hours=12),
    )
    if with_files:
        record.docx_file_id = stored("protokoll.docx").id
        record.pdf_file_id = stored("protokoll.pdf").id
    db.session.add(record)
    db.session.commit()
    return record
