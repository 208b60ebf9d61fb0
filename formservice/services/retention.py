"""Removing the child's identity after the retention period (SPEC §7).

SIP meetings and BUS-individ records rest on consent and may name the child. When
FORMSERVICE_RETENTION_MONTHS (default 24) have passed since the meeting, everything that
could identify the child is emptied and the documents (which contain it) are deleted. What
the statistics count stays: dates, gender, meeting type, units, attendance and outcome.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from dateutil.relativedelta import relativedelta
from flask import current_app
from sqlalchemy import select

from .. import clock
from ..domain.deadlines import local_date
from ..domain.sip import retention_due
from ..extensions import db
from ..models import BusIndivid, SipMeeting
from . import audit
from .files import delete_files

ACTOR = "system"
#: Consent keys that say nothing about who the child or the guardians are.
SIP_CONSENT_KEYS = ("date", "given_by", "form")
#: Month arithmetic clamps to the month's end, which cannot be inverted: a meeting on 31 January
#: is due on 28 February, but 28 February minus one month is 28 January. So a due meeting is up
#: to three days later than `today - months`; candidates are fetched with this margin, then
#: checked with retention_due.
MARGIN = timedelta(days=4)


def remove_expired_identities(today: date | None = None) -> dict[str, int]:
    """Empty the identity of every record whose retention has run out; idempotent."""
    tz = clock.zone()
    months = current_app.config["FORMSERVICE_RETENTION_MONTHS"]
    today = today or clock.today()
    latest = _months_before(today, months) + MARGIN
    sip = [
        m
        for m in _sip_candidates(latest, tz)
        if retention_due(local_date(m.meeting_at, tz), months, today)
    ]
    records = [
        r for r in _bus_individ_candidates(latest) if retention_due(r.meeting_date, months, today)
    ]
    for meeting in sip:
        _clear_sip(meeting)
    for record in records:
        _clear_bus_individ(record)
    return {"sip": len(sip), "bus_individ": len(records)}


def _months_before(day: date, months: int) -> date:
    return day - relativedelta(months=months)


def _sip_candidates(latest: date, tz: str) -> list[SipMeeting]:
    bound = datetime.combine(latest + timedelta(days=1), time(0), ZoneInfo(tz))
    query = select(SipMeeting).where(
        SipMeeting.identity_removed_at.is_(None), SipMeeting.meeting_at < bound
    )
    return list(db.session.scalars(query.order_by(SipMeeting.id)))


def _bus_individ_candidates(latest: date) -> list[BusIndivid]:
    query = select(BusIndivid).where(
        BusIndivid.identity_removed_at.is_(None), BusIndivid.meeting_date <= latest
    )
    return list(db.session.scalars(query.order_by(BusIndivid.id)))


def _clear_sip(meeting: SipMeeting) -> None:
    """One transaction per meeting: identity, free text and documents go; the counts stay."""
    _lock(meeting)
    if meeting.identity_removed_at is not None:
        return
    meeting.child_name = None
    meeting.child_personnummer = None
    meeting.guardians = []
    meeting.consent = {k: v for k, v in (meeting.consent or {}).items() if k in SIP_CONSENT_KEYS}
    meeting.question = None
    meeting.place = None
    meeting.invitees = []
    meeting.short_notice_reason = None
    files = _drop_documents(meeting)
    meeting.identity_removed_at = clock.now()
    audit.record(ACTOR, "sip.identity_removed", "sip", meeting.id, files_deleted=files)
    db.session.commit()


def _clear_bus_individ(record: BusIndivid) -> None:
    _lock(record)
    if record.identity_removed_at is not None:
        return
    record.child_name = None
    record.consent = {}
    record.question = None
    record.agreements = []
    files = _drop_documents(record)
    record.identity_removed_at = clock.now()
    audit.record(
        ACTOR, "bus_individ.identity_removed", "bus_individ", record.id, files_deleted=files
    )
    db.session.commit()


def _drop_documents(owner: SipMeeting | BusIndivid) -> int:
    """Unlink and delete the kallelse or minutes files; they contain the identity."""
    ids = [i for i in (owner.docx_file_id, owner.pdf_file_id) if i is not None]
    owner.docx_file_id = owner.pdf_file_id = None
    owner.document_error = owner.document_error_args = None
    db.session.flush()
    delete_files(ids)
    return len(ids)


def _lock(row: SipMeeting | BusIndivid) -> None:
    """Reload under a write lock, so a document job or a second run cannot interleave."""
    db.session.refresh(row, with_for_update=True)
