"""Compiling the digest for a steering-group meeting: request, build, progress, result (SPEC §6).

`build` is the worker's job (`worker.jobs.build_digest` calls it): gather the cases, write the
DOCX, convert it with LibreOffice in parts, join the PDF with the reports' PDF attachments,
and store both files, or nothing.
"""

from __future__ import annotations

import logging
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from flask import current_app
from sqlalchemy import select, update
from sqlalchemy.orm import selectinload

from .. import clock, queue
from ..documents import digest as document
from ..documents import pdfjoin
from ..documents.docx import stream
from ..documents.pdf import ConversionError, Converter
from ..domain.deviation import GENDERS
from ..domain.statistics import current_half
from ..extensions import db
from ..models import Attachment, Deviation, Digest, GroupMeeting, StoredFile, User
from . import audit, categories, commit_keeping_loaded, measures, monitoring, rows_changed
from .deviation_statistics import category_counts, category_rows, summarize
from .files import DOCX_TYPE, PDF_TYPE, store

log = logging.getLogger(__name__)

#: Seconds the worker may spend on one digest (RQ stops the job after that): a digest of
#: 10,000 cases takes about 20 minutes on a 2-core machine, most of it in LibreOffice.
JOB_TIMEOUT = 3600


def request(meeting: GroupMeeting, user: User) -> Digest:
    """A new compilation, queued for the worker (a failed one is retried by asking again)."""
    digest = Digest(meeting_id=meeting.id, requested_by_id=user.id, state="queued", step="queued")
    db.session.add(digest)
    db.session.flush()
    audit.record(user, "digest.requested", "digest", digest.id, meeting=meeting.id)
    db.session.commit()
    queue.enqueue_job("worker.jobs.build_digest", digest.id, timeout=JOB_TIMEOUT)
    return digest


def build(digest_id: int) -> str:
    """Compile a meeting's digest: DOCX, PDF in parts, attachments; stored whole or not at all.
    "done", or "skipped" (no such digest, or done already)."""
    row = db.session.get(Digest, digest_id, options=[_MEETING_LOADS])
    if row is None or row.state == "done":
        return "skipped"
    started = time.monotonic()
    try:
        with tempfile.TemporaryDirectory(prefix="formservice-digest-") as folder:
            docx, pdf, case_ids = _compile(row, Path(folder))
            progress(digest_id, 95, "saving")
            finish(digest_id, case_ids, docx, pdf, time.monotonic() - started)
    except ConversionError as exc:
        fail(digest_id, exc.code, **exc.details)
        raise
    except Exception:
        fail(digest_id, "unexpected")
        raise
    return "done"


#: The digest's meeting and its group, which the document reads.
_MEETING_LOADS = selectinload(Digest.meeting).selectinload(GroupMeeting.group)


def _compile(row: Digest, folder: Path) -> tuple[Path, Path, list[int]]:
    """The digest's DOCX and PDF in `folder`, and its case ids. Memory does not grow with the
    number of cases: the documents are written as the cases are read, LibreOffice converts
    the digest in parts, and the PDF is joined from them on disk."""
    progress(row.id, 5, "gathering")
    contents = gather(row)
    meeting, day = row.meeting, clock.today()

    def write(part: document.Part, path: Path) -> list[int]:
        figures = contents.summary, contents.statistics
        context = document.context(meeting, part, case_dicts, *figures, day)
        with path.open("wb") as out:
            return stream("digest.docx", context, out)

    progress(row.id, 10, "writing", cases=len(contents.case_ids))
    docx = folder / "sammanstallning.docx"
    write(document.whole(contents.sections), docx)
    parts = document.parts(contents.sections, document.PART_SIZE)  # read now: tests change it
    pdfs, levels = [], []
    config = current_app.config
    with Converter(config["FORMSERVICE_SOFFICE"], config["FORMSERVICE_SOFFICE_TIMEOUT"]) as pdf:
        for n, part in enumerate(parts):
            progress(row.id, 20 + 60 * n // len(parts), "converting", part=n + 1, parts=len(parts))
            source = folder / f"del-{n + 1}.docx"
            levels += write(part, source)
            pdfs.append(pdf.convert(source))
    progress(row.id, 80, "attaching")
    attached, appendices = _appendices(contents.case_ids, folder, sum(pdfjoin.page_counts(pdfs)))
    result = folder / "sammanstallning.pdf"
    pdfjoin.join(
        [*pdfs, *attached],
        result,
        document.outline(pdfjoin.headings(pdfs), levels, appendices),
        {
            "/Title": f"Sammanställning av avvikelser {meeting.meeting_date}",
            "/Subject": meeting.group.name,
            "/Author": "BUS-formservice",
        },
    )
    return docx, result, contents.case_ids


def _appendices(
    case_ids: list[int], folder: Path, first_page: int
) -> tuple[list[Path], list[document.Appendix]]:
    """The reports' PDF attachments as files to append, and where each begins. A file that no
    longer opens is left out (it was checked at upload), not fatal."""
    files: list[Path] = []
    appendices: list[document.Appendix] = []
    for n, (case_number, name, data) in enumerate(pdf_attachments(case_ids)):
        path = folder / f"bilaga-{n + 1}.pdf"
        path.write_bytes(data)
        try:
            (pages,) = pdfjoin.page_counts([path])
        except pdfjoin.PdfJoinError:
            log.warning("attachment %s of %s left out of the digest: unreadable", n, case_number)
            continue
        files.append(path)
        appendices.append(document.Appendix(case_number, name, first_page))
        first_page += pages
    return files, appendices


def progress(digest_id: int, percent: int, step: str, **args: int) -> None:
    """Record how far the worker has come (its own short transaction): the step's code and
    what its text needs (templates/html/_status.html). What the job has loaded stays loaded:
    it goes on using it."""
    db.session.execute(
        update(Digest)
        .where(Digest.id == digest_id)
        .values(state="running", progress=percent, step=step, step_args=args or None)
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
    """The cases the meeting covers (their ids only) and the figures of the digest, with the
    decided measures done and overdue since the last meeting (`measures_since`)."""
    from .meetings import case_rows_for_meeting
    from .patterns import for_digest

    rows = case_rows_for_meeting(digest.meeting)
    summary = summarize(rows, clock.today(), clock.zone())
    summary["measures"] = measures_since(digest.meeting)
    summary["patterns"] = for_digest(digest.meeting.group_id)
    return Contents(document.sections(rows), summary, statistics(digest.meeting.group_id))


def measures_since(meeting: GroupMeeting) -> dict[str, list[dict]]:
    """The group's measures reported done since the previous meeting's day, and those open
    after their date (`services.measures.for_digest`)."""
    from .meetings import day_start, previous_meeting

    previous = previous_meeting(meeting)
    since = day_start(previous.meeting_date) if previous else None
    return measures.for_digest(meeting.group_id, since, clock.today())


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
    selectinload(Deviation.feedback),
    selectinload(Deviation.supplement),
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
        # A digest's cases are sent (numbered); an attachment is stored whole (new_file).
        assert case_number is not None and data is not None
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

    digest = db.session.get_one(Digest, digest_id)
    name = f"sammanstallning-{digest.meeting.group_id}-{digest.meeting.meeting_date}"
    digest.docx_file = store(f"{name}.docx", DOCX_TYPE, docx)
    digest.pdf_file = store(f"{name}.pdf", PDF_TYPE, pdf)
    digest.case_ids = case_ids
    digest.state, digest.progress, digest.step, digest.step_args = "done", 100, "done", None
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


def fail(digest_id: int, error: str, **args: object) -> None:
    """Mark the digest failed with the reason's code and what its text needs."""
    db.session.rollback()
    db.session.execute(
        update(Digest)
        .where(Digest.id == digest_id)
        .values(state="failed", error=error, error_args=args or None, step="failed", step_args=None)
    )
    db.session.commit()


#: A compilation still queued or running this long after it was asked for has lost its worker:
#: the longest time the job may take, and ten minutes in the queue.
STALE_AFTER = timedelta(seconds=JOB_TIMEOUT + 600)
UNSETTLED = ("queued", "running")


def is_stale(digest: Digest) -> bool:
    """The compilation's worker died: it will never settle (its files were never half-stored)."""
    return digest.state in UNSETTLED and clock.now() - digest.requested_at > STALE_AFTER


@dataclass(frozen=True)
class Status:
    """What the digest's page shows: a stale compilation as failed, before the sweep marks it."""

    state: str
    progress: int
    step: str
    step_args: dict | None
    error: str | None
    error_args: dict | None


def status(digest: Digest) -> Status:
    """The digest's state as the page shows it (reads only)."""
    if is_stale(digest):
        return Status("failed", digest.progress, "failed", None, "abandoned", None)
    return Status(
        digest.state,
        digest.progress,
        digest.step,
        digest.step_args,
        digest.error,
        digest.error_args,
    )


def give_up_stale() -> int:
    """Mark every stale compilation failed ("abandoned"), so the secretary can ask again; the
    worker's periodic sweep runs it. How many."""
    cutoff = clock.now() - STALE_AFTER
    given_up = rows_changed(
        update(Digest)
        .where(Digest.state.in_(UNSETTLED), Digest.requested_at < cutoff)
        .values(state="failed", error="abandoned", error_args=None, step="failed", step_args=None)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return given_up
