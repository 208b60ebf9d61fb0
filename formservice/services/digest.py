"""Compiling the digest for a steering-group meeting: request, progress, result (SPEC §6)."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import current_app
from sqlalchemy import select, update
from sqlalchemy.orm import selectinload

from .. import queue
from ..domain.deadlines import local_date
from ..domain.deviation import GENDERS
from ..domain.statistics import current_half
from ..extensions import db
from ..models import Attachment, Deviation, Digest, GroupMeeting, User
from . import audit, commit_keeping_loaded
from .deviation_statistics import category_counts, rows, summarize
from .files import DOCX_TYPE, PDF_TYPE, new_file

#: Seconds the worker may spend on one digest (RQ stops the job after that).
JOB_TIMEOUT = 1800


def request(meeting: GroupMeeting, user: User) -> Digest:
    """A new compilation, queued for the worker (a failed one is retried by asking again)."""
    digest = Digest(meeting_id=meeting.id, requested_by_id=user.id, state="queued", step="I kö")
    db.session.add(digest)
    db.session.flush()
    audit.record(user, "digest.requested", "digest", digest.id, meeting=meeting.id)
    db.session.commit()
    queue.enqueue_job("worker.jobs.build_digest", digest.id, timeout=JOB_TIMEOUT)
    return digest


def progress(digest_id: int, percent: int, step: str) -> None:
    """Record how far the worker has come (its own short transaction). The cases read so far
    stay loaded: the job goes on using them."""
    db.session.execute(
        update(Digest)
        .where(Digest.id == digest_id)
        .values(state="running", progress=percent, step=step)
    )
    commit_keeping_loaded()
    queue.report_progress(percent, step)


def tz() -> str:
    return current_app.config["FORMSERVICE_TIMEZONE"]


def today():
    return local_date(datetime.now(UTC), tz())


def gather(digest: Digest):
    """The cases the meeting covers and the figures of the digest."""
    from .meetings import cases_for_meeting

    meeting = digest.meeting
    cases = cases_for_meeting(meeting, *DIGEST_LOADS)
    return cases, summarize(cases, today(), tz()), statistics(meeting.group_id)


#: Everything the digest reads of a case, loaded for all cases at once (a handful of queries
#: instead of five per case; the attachments' bytes stay deferred, read one at a time).
DIGEST_LOADS = (
    selectinload(Deviation.reporting_unit),
    selectinload(Deviation.receiving_unit),
    selectinload(Deviation.answer),
    selectinload(Deviation.closing),
    selectinload(Deviation.attachments).selectinload(Attachment.file),
)


def statistics(group_id: str) -> dict:
    """The current half-year's figures for the digest's statistics section."""
    from .statistics import meeting_counts

    period = current_half(today())
    counts = meeting_counts(group_id, period.start, period.end)
    return {
        "period": period.label,
        "by_category": [r for r in rows(category_counts(group_id, period, tz())) if r["count"]],
        "meetings": [
            {"title": title, "rows": [{"label": GENDERS[g], "count": n} for g, n in by_gender]}
            for title, by_gender in _meeting_tables(counts)
        ],
    }


def _meeting_tables(counts: dict) -> list[tuple[str, list[tuple[str, int]]]]:
    sip = counts.get("sip", {}).get("by_gender", {})
    individ = counts.get("bus_individ", {}).get("by_gender", {})
    return [
        ("SIP-möten per barnets kön", [(g, sip.get(g, 0)) for g in GENDERS]),
        ("BUS-individmöten per barnets kön", [(g, individ.get(g, 0)) for g in GENDERS]),
    ]


def finish(digest_id: int, case_ids: list[int], docx: bytes, pdf: bytes) -> None:
    """Store both files, mark the digest done and put the cases on the agenda: one commit."""
    from .meetings import put_on_agenda

    digest = db.session.get(Digest, digest_id)
    name = f"sammanstallning-{digest.meeting.group_id}-{digest.meeting.meeting_date}"
    digest.docx_file = new_file(f"{name}.docx", DOCX_TYPE, docx)
    digest.pdf_file = new_file(f"{name}.pdf", PDF_TYPE, pdf)
    digest.case_ids = case_ids
    digest.state, digest.progress, digest.step = "done", 100, "Klar"
    digest.finished_at = datetime.now(UTC)
    from ..models import Deviation

    cases = db.session.scalars(select(Deviation).where(Deviation.id.in_(case_ids))).all()
    put_on_agenda(digest.meeting, cases)
    audit.record(None, "digest.compiled", "digest", digest.id, cases=len(case_ids))
    db.session.commit()


def fail(digest_id: int, reason: str) -> None:
    db.session.rollback()
    db.session.execute(
        update(Digest)
        .where(Digest.id == digest_id)
        .values(state="failed", error=reason[:500], step="Misslyckades")
    )
    db.session.commit()


def give_up_if_stale(digest: Digest) -> None:
    """A compilation whose worker died never settles: after the longest time the job may take,
    say so, so the secretary can ask again (the files were never half-stored)."""
    if digest.state not in ("queued", "running"):
        return
    limit = 2 * current_app.config["FORMSERVICE_SOFFICE_TIMEOUT"] + 600
    if (datetime.now(UTC) - digest.requested_at).total_seconds() > limit:
        fail(digest.id, "Sammanställningen avbröts innan den blev klar. Försök igen.")
        db.session.refresh(digest)
