"""Compiling the digest for a steering-group meeting: request, progress, result (SPEC §6)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select, update
from sqlalchemy.orm import selectinload

from .. import clock, queue
from ..documents import digest as document
from ..domain.deviation import GENDERS
from ..domain.statistics import current_half
from ..extensions import db
from ..models import Attachment, Deviation, Digest, GroupMeeting, StoredFile, User
from . import audit, categories, commit_keeping_loaded, monitoring
from .deviation_statistics import category_counts, category_rows, summarize
from .files import DOCX_TYPE, PDF_TYPE, store

#: Seconds the worker may spend on one digest (RQ stops the job after that): a digest of
#: 10,000 cases takes about 20 minutes on a 2-core machine, most of it in LibreOffice.
JOB_TIMEOUT = 3600


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
    """Record how far the worker has come (its own short transaction). What the job has
    loaded stays loaded: it goes on using it."""
    db.session.execute(
        update(Digest)
        .where(Digest.id == digest_id)
        .values(state="running", progress=percent, step=step)
    )
    commit_keeping_loaded()
    queue.report_progress(percent, step)


@dataclass(frozen=True)
class Contents:
    """What a digest covers: its sections of case ids in order (`document.sections`), its
    summary and its statistics."""

    sections: list[tuple[str, list[int]]]
    summary: dict
    statistics: dict

    @property
    def case_ids(self) -> list[int]:
        return [case_id for _, ids in self.sections for case_id in ids]


def gather(digest: Digest) -> Contents:
    """The cases the meeting covers (their ids only) and the figures of the digest."""
    from .meetings import case_rows_for_meeting

    rows = case_rows_for_meeting(digest.meeting)
    summary = summarize(rows, clock.today(), clock.zone())
    return Contents(document.sections(rows), summary, statistics(digest.meeting.group_id))


def case_dicts(ids: list[int], batch: int = 200) -> Iterator[dict]:
    """The cases as the digest shows them (`document.case`), in the order of `ids`, read
    `batch` at a time: what the session holds does not grow with the digest."""
    day, zone = clock.today(), clock.zone()
    for start in range(0, len(ids), batch):
        chunk = ids[start : start + batch]
        query = select(Deviation).where(Deviation.id.in_(chunk)).options(*DIGEST_LOADS)
        found = {case.id: case for case in db.session.scalars(query)}
        for case_id in chunk:
            case = found[case_id]
            yield document.case(case, day, zone, categories.labels_for(case))


#: Everything the digest reads of a case, loaded with each batch of cases (a handful of
#: queries instead of five per case; the attachments' bytes stay deferred).
DIGEST_LOADS = (
    selectinload(Deviation.reporting_unit),
    selectinload(Deviation.receiving_unit),
    selectinload(Deviation.answer),
    selectinload(Deviation.closing),
    selectinload(Deviation.attachments).selectinload(Attachment.file),
)


def pdf_attachments(ids: list[int]) -> Iterator[tuple[str, str, bytes]]:
    """The cases' PDF attachments in the digest's order: (case number, file name, bytes),
    the bytes read one file at a time."""
    query = (
        select(Deviation.id, Deviation.case_number, StoredFile.id, StoredFile.name)
        .join(Attachment, Attachment.deviation_id == Deviation.id)
        .join(StoredFile, StoredFile.id == Attachment.file_id)
        .where(Deviation.id.in_(ids), StoredFile.content_type == PDF_TYPE)
        .order_by(Attachment.id)
    )
    position = {case_id: n for n, case_id in enumerate(ids)}
    found = sorted(db.session.execute(query).all(), key=lambda row: position[row[0]])
    for _, case_number, file_id, name in found:
        data = db.session.scalar(select(StoredFile.data).where(StoredFile.id == file_id))
        yield case_number, name, data


def statistics(group_id: str) -> dict:
    """The current half-year's figures for the digest's statistics section."""
    from .statistics import meeting_counts

    period = current_half(clock.today())
    counts = meeting_counts(group_id, period.start, period.end)
    return {
        "period": period.label,
        "by_category": sorted(  # most reported first; ties in the form's order
            category_rows(category_counts(group_id, period, clock.zone())),
            key=lambda r: -r["count"],
        ),
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


def finish(
    digest_id: int, case_ids: list[int], docx: Path, pdf: Path, seconds: float | None = None
) -> None:
    """Store both files, mark the digest done and put the cases on the agenda: one commit
    (with the build's duration, `seconds`, among the build timings)."""
    from .meetings import put_on_agenda

    digest = db.session.get(Digest, digest_id)
    name = f"sammanstallning-{digest.meeting.group_id}-{digest.meeting.meeting_date}"
    digest.docx_file = store(f"{name}.docx", DOCX_TYPE, docx)
    digest.pdf_file = store(f"{name}.pdf", PDF_TYPE, pdf)
    digest.case_ids = case_ids
    digest.state, digest.progress, digest.step = "done", 100, "Klar"
    digest.finished_at = clock.now()
    db.session.flush()
    for start in range(0, len(case_ids), 500):  # a batch at a time, as they were read
        batch = case_ids[start : start + 500]
        put_on_agenda(
            digest.meeting,
            db.session.scalars(select(Deviation).where(Deviation.id.in_(batch))).all(),
        )
    audit.record(None, "digest.compiled", "digest", digest.id, cases=len(case_ids))
    if seconds is not None:
        monitoring.record_build("digest", seconds)
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
    """A compilation whose worker died never settles: after the longest time the job may take
    (and ten minutes in the queue), say so, so the secretary can ask again (the files were
    never half-stored)."""
    if digest.state not in ("queued", "running"):
        return
    limit = JOB_TIMEOUT + 600
    if (clock.now() - digest.requested_at).total_seconds() > limit:
        fail(digest.id, "Sammanställningen avbröts innan den blev klar. Försök igen.")
        db.session.refresh(digest)
