"""What the digest benchmarks share: a database with one BUS group per size, its meeting, and
the three parts of `worker.jobs.build_digest` run in this process as the worker runs them."""

from __future__ import annotations

import contextlib
import io
from datetime import UTC, date, datetime, timedelta

from tests.support import seed

from . import common


@contextlib.contextmanager
def digest_database(sizes: dict[str, int], pdf_attachments: dict[str, int] | None = None):
    """A fresh database; for each group id in `sizes`, that many cases (10 % with a PNG
    attachment, `pdf_attachments` with a PDF) and a meeting a week ahead. Yields (app, url,
    {group_id: meeting_id})."""
    pdf_attachments = pdf_attachments or {}
    with common.database() as db_url:
        app = common.make_app(db_url)
        from formservice.extensions import db

        meetings = {}
        with app.app_context():
            for n, (group_id, count) in enumerate(sizes.items()):
                common.log(f"seeding {count} cases in {group_id}")
                seed.add_group(group_id, f"Lokal BUS {group_id}")
                seed.seed_cases(
                    group_id,
                    count,
                    prefix=f"G{n}",
                    pdf_attachments=pdf_attachments.get(group_id, 0),
                    other_attachments=count // 10,
                    seed=n + 1,
                )
                meetings[group_id] = seed.add_meeting(group_id, date.today() + timedelta(days=7))
        try:
            yield app, db_url, meetings
        finally:
            with app.app_context():
                db.session.remove()
                db.engine.dispose()


def new_digest(app, meeting_id: int) -> int:
    """A queued digest row for the meeting (as `services.digest.request` writes it)."""
    from formservice.extensions import db
    from formservice.models import Digest, User

    with app.app_context():
        secretary = db.session.scalar(db.select(User.id).where(User.email == common.SECRETARY))
        digest = Digest(meeting_id=meeting_id, requested_by_id=secretary, state="queued")
        db.session.add(digest)
        db.session.commit()
        return digest.id


def formservice_docx(app, digest_id: int) -> tuple[bytes, dict, int]:
    """The DOCX part of build_digest in a fresh app context (a fresh session, as the worker's
    AppWorker gives each job): gather the cases and figures, write the whole digest as the
    cases are read. Returns the document, the same context with the cases as plain dicts
    (for the baseline; made after the timed part by the caller) and the number of cases."""
    from formservice import clock
    from formservice.documents import digest as document
    from formservice.documents.docx import stream
    from formservice.extensions import db
    from formservice.models import Digest
    from formservice.services import digest as digest_service

    with app.app_context():
        row = db.session.get(Digest, digest_id)
        assert row is not None
        contents = digest_service.gather(row)
        part = document.whole(contents.sections)
        figures = contents.summary, contents.statistics, clock.today()
        context = document.context(row.meeting, part, digest_service.case_dicts, *figures)
        out = io.BytesIO()
        stream("digest.docx", context, out)
        db.session.rollback()
        return out.getvalue(), {"digest_id": digest_id}, len(contents.case_ids)


def plain(app, digest_id: int) -> dict:
    """The context as the baseline gets it: the same rows, every case a plain dict."""
    from formservice import clock
    from formservice.documents import digest as document
    from formservice.extensions import db
    from formservice.models import Digest
    from formservice.services import digest as digest_service

    with app.app_context():
        row = db.session.get(Digest, digest_id)
        assert row is not None
        contents = digest_service.gather(row)
        figures = contents.summary, contents.statistics, clock.today()
        context = document.context(
            row.meeting,
            document.whole(contents.sections),
            lambda ids: list(digest_service.case_dicts(ids)),
            *figures,
        )
        db.session.rollback()
        return context


def baseline_docx(context: dict) -> bytes:
    """docxtpl rendering the same rows from plain dicts, no database: the same template, the
    same Jinja settings (autoescape, StrictUndefined)."""
    from io import BytesIO

    from docxtpl import DocxTemplate
    from jinja2 import Environment, StrictUndefined

    from formservice.documents.docx import TEMPLATES

    tpl = DocxTemplate(TEMPLATES / "digest.docx")
    tpl.render(
        context, jinja_env=Environment(autoescape=True, undefined=StrictUndefined), autoescape=True
    )
    out = BytesIO()
    tpl.save(out)
    return out.getvalue()


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
