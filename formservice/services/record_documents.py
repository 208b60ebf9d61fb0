"""The documents of a SIP meeting (the kallelse) and of a BUS-individ record (the minutes).

One path for both kinds: the worker renders the DOCX from the record, converts it with
LibreOffice and stores both files with one conditional UPDATE that also requires the child's
identity to be still there (the retention job may remove it while LibreOffice works). A
failure is kept in `document_error` and audited; the record's page can ask for a new attempt;
the sweep queues the documents of records whose job was never queued (Redis was down).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from flask import current_app
from sqlalchemy import select, update
from sqlalchemy.orm import selectinload

from .. import clock, queue
from ..documents.bus_individ import render_bus_individ
from ..documents.pdf import ConversionError, convert
from ..documents.sip import render_kallelse
from ..extensions import db
from ..models import BusIndivid, SipCalledUnit, SipMeeting, User
from . import audit, directory, monitoring, rows_changed
from .files import DOCX_TYPE, PDF_TYPE, new_file

DRAFT = "utkast"


@dataclass(frozen=True)
class Kind:
    """What differs between the two kinds of record; `name` is also the queue's kind, the
    audit object type and the prefix of the audit events."""

    name: str
    model: type[SipMeeting | BusIndivid]
    since: Any  # the column saying since when the documents are due
    render: Callable[[Any, str], bytes]  # (record loaded with `loads`, time zone) -> DOCX
    file_name: Callable[[Any], str]
    loads: tuple = ()  # everything the document reads of the record's relationships


def _kallelse(meeting: SipMeeting, tz: str) -> bytes:
    chef = db.session.get(User, meeting.initiator_user_id)
    name = chef.name if chef is not None else ""
    return render_kallelse(meeting, tz=tz, person_name=lambda _user_id: name)


def _minutes(record: BusIndivid, tz: str) -> bytes:
    ids = [record.raised_by_unit_id, record.convener_unit_id, record.chair_unit_id]
    ids += [record.follow_up_convener_unit_id, *(record.participants or [])]
    names = directory.unit_names(ids)
    return render_bus_individ(record, tz=tz, unit_name=lambda unit_id: names.get(unit_id, unit_id))


KINDS = {
    "sip": Kind(
        "sip",
        SipMeeting,
        SipMeeting.sent_at,
        _kallelse,
        lambda meeting: f"kallelse-sip-{meeting.id}",
        (
            selectinload(SipMeeting.follows),
            selectinload(SipMeeting.initiator_unit),
            selectinload(SipMeeting.chair_unit),
            selectinload(SipMeeting.secretary_unit),
            selectinload(SipMeeting.called).selectinload(SipCalledUnit.unit),
        ),
    ),
    "bus_individ": Kind(
        "bus_individ",
        BusIndivid,
        BusIndivid.created_at,
        _minutes,
        lambda record: f"bus-individ-{record.id}-{record.meeting_date.isoformat()}",
        (selectinload(BusIndivid.sip),),
    ),
}


def build(kind_name: str, record_id: int) -> str:
    """Render, convert and store the record's DOCX and PDF in one commit; safe to run twice.

    "built", "exists" (another run stored them), or "skipped" (no such record, a draft, or
    the child's identity has been removed)."""
    kind = KINDS[kind_name]
    record = db.session.get(kind.model, record_id, options=kind.loads)
    if (
        not isinstance(record, SipMeeting | BusIndivid)
        or record.state == DRAFT
        or record.identity_removed_at is not None
    ):
        return "skipped"
    if record.pdf_file_id is not None:
        return "exists"
    config = current_app.config
    started = time.monotonic()
    docx = kind.render(record, clock.zone())
    name = kind.file_name(record)
    db.session.rollback()  # hold no transaction (nor a connection) while LibreOffice works
    try:
        pdf = convert(docx, config["FORMSERVICE_SOFFICE"], config["FORMSERVICE_SOFFICE_TIMEOUT"])
    except ConversionError as exc:
        _record_failure(kind, record_id, exc)
        raise
    return _store(kind, record_id, name, docx, pdf, time.monotonic() - started)


def _claimable(kind: Kind, record_id: int) -> list:
    """The record still lacks its documents and still holds the child's identity."""
    model = kind.model
    return [
        model.id == record_id,
        model.pdf_file_id.is_(None),
        model.identity_removed_at.is_(None),
    ]


def _store(
    kind: Kind, record_id: int, name: str, docx: bytes, pdf: bytes, seconds: float | None = None
) -> str:
    """Attach both files unless another run stored them first or retention removed the
    identity meanwhile: the UPDATE decides, after any concurrent retention has committed.
    `seconds` (the build's duration) goes into the build timings with them."""
    files = [new_file(f"{name}.docx", DOCX_TYPE, docx), new_file(f"{name}.pdf", PDF_TYPE, pdf)]
    db.session.add_all(files)
    db.session.flush()
    claimed = rows_changed(
        update(kind.model)
        .where(*_claimable(kind, record_id))
        .values(
            docx_file_id=files[0].id,
            pdf_file_id=files[1].id,
            document_error=None,
            document_error_args=None,
        )
        .execution_options(synchronize_session=False)
    )
    if claimed != 1:
        db.session.rollback()  # keep neither of our files
        removed = select(kind.model.identity_removed_at).where(kind.model.id == record_id)
        return "exists" if db.session.scalar(removed) is None else "skipped"
    audit.record("system", f"{kind.name}.documents_built", kind.name, record_id)
    if seconds is not None:
        monitoring.record_build(kind.name, seconds)
    db.session.commit()
    return "built"


def _record_failure(kind: Kind, record_id: int, error: ConversionError) -> None:
    """Keep the failure's code (and what its text needs) on the record; audited."""
    db.session.rollback()
    db.session.execute(
        update(kind.model)
        .where(*_claimable(kind, record_id))
        .values(document_error=error.code, document_error_args=error.details or None)
        .execution_options(synchronize_session=False)
    )
    audit.record("system", f"{kind.name}.documents_failed", kind.name, record_id)
    db.session.commit()


def retry(author: User, kind_name: str, record: SipMeeting | BusIndivid) -> bool:
    """Clear a failed build and queue it again; False when the queue is down (the sweep
    queues it later). Nothing happens once the documents exist or the identity is gone."""
    kind = KINDS[kind_name]
    cleared = rows_changed(
        update(kind.model)
        .where(*_claimable(kind, record.id))
        .values(document_error=None, document_error_args=None)
        .execution_options(synchronize_session=False)
    )
    if cleared != 1:
        db.session.rollback()
        return True
    audit.record(author, f"{kind.name}.documents_retried", kind.name, record.id)
    db.session.commit()
    return queue.enqueue_documents(kind.name, record.id)


def due(min_age_seconds: int = 60) -> list[tuple[str, int]]:
    """(kind, id) of every record whose documents were never built and did not fail, asked
    for at least `min_age_seconds` ago (a younger one may still be on its way)."""
    cutoff = clock.now() - timedelta(seconds=min_age_seconds)
    found: list[tuple[str, int]] = []
    for kind in KINDS.values():
        model = kind.model
        query = select(model.id).where(
            model.state != DRAFT,
            model.pdf_file_id.is_(None),
            model.document_error.is_(None),
            model.identity_removed_at.is_(None),
            kind.since <= cutoff,
        )
        found += [(kind.name, i) for i in db.session.scalars(query.order_by(model.id))]
    return found
