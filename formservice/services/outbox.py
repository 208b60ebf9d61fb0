"""Outbox rows: writing them with a state change, claiming and settling them for delivery."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable, Sequence
from datetime import timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    SQLColumnExpression,
    case,
    delete,
    insert,
    or_,
    select,
    text,
    update,
)

from .. import clock
from ..extensions import db
from ..models import OutboxMessage, User
from ..models.outbox import ACCOUNT_KINDS, FAILED, PENDING, RECORD_KEYS, SENDING, SENT
from . import commit_keeping_loaded

log = logging.getLogger(__name__)

#: `last_error` of a row not sent because its recipient is no longer active in the directory
#: (a code: the report list says it in Swedish and offers no retry).
RECIPIENT_INACTIVE = "recipient_inactive"


def _row(kind: str, to: User | str, deviation_id: int | None, context: dict) -> dict:
    moment = clock.now()
    return {
        "kind": kind,
        "to_email": to.email if isinstance(to, User) else to,
        "deviation_id": deviation_id,
        "context": context,
        "state": PENDING,
        "attempts": 0,
        "message_id": f"<{uuid.uuid4().hex}@formservice>",
        "created_at": moment,
        "next_attempt_at": moment,
    }


def rows(
    kind: str,
    recipients: Iterable[User | str],
    deviation_id: int | None = None,
    **context: Any,
) -> list[dict]:
    """One message per distinct address, in the order given, as rows for `write` (no case
    content in `context`). A person no longer active in the directory gets none."""
    seen: set[str] = set()
    messages = []
    for person in recipients:
        if isinstance(person, User) and not person.active:
            continue
        email = (person.email if isinstance(person, User) else person).lower()
        if email not in seen:
            seen.add(email)
            messages.append(_row(kind, person, deviation_id, context))
    return messages


def write(messages: list[dict]) -> list[int]:
    """Insert a use case's messages into its transaction with one statement; their ids, in
    order. Core, not the unit of work: that costs twice the CPU (bench/bench_writes.py)."""
    if not messages:
        return []
    table = OutboxMessage.__table__
    returning = insert(table).returning(table.c.id, sort_by_parameter_order=True)
    return list(db.session.scalars(returning, messages))


def claim(message_ids: Sequence[int], hold_seconds: int = 300) -> list[OutboxMessage]:
    """Take the due rows among these for delivery, so no other worker sends them; the rows
    taken, in the order asked. A row already sent, or held by another worker, is left out.

    A due row whose recipient is no longer an active person in the directory (removed by a
    re-import after the row was written) is not sent: the same statement marks it failed with
    `RECIPIENT_INACTIVE`, which the secretary reads on the report list.

    The claim lapses after `hold_seconds`, so a row whose worker died is sent by another. It
    is committed durably before anything is sent."""
    moment = clock.now()
    present = select(User.id).where(User.email == OutboxMessage.to_email, User.active).exists()
    taken = db.session.scalars(
        update(OutboxMessage)
        .where(
            OutboxMessage.id.in_(message_ids),
            OutboxMessage.state == PENDING,
            OutboxMessage.next_attempt_at <= moment,
        )
        .values(
            state=case((present, SENDING), else_=FAILED),
            last_error=case((present, OutboxMessage.last_error), else_=RECIPIENT_INACTIVE),
            attempts=OutboxMessage.attempts + 1,
            next_attempt_at=moment + timedelta(seconds=hold_seconds),
        )
        .returning(OutboxMessage)  # the claimed rows themselves: no second query to read them
        .execution_options(synchronize_session=False, populate_existing=True)
    ).all()
    # The rows as RETURNING gave them are what was committed: reading them again after the
    # commit would cost a round trip per delivery.
    commit_keeping_loaded()
    claimed = [message for message in taken if message.state == SENDING]
    if len(claimed) < len(taken):
        gone = sorted(message.id for message in taken if message.state != SENDING)
        log.info("outbox rows %s not sent: the recipient left the directory", gone)
        _forget_account_mail(message for message in taken if message.state != SENDING)
    order = {message_id: n for n, message_id in enumerate(message_ids)}
    return sorted(claimed, key=lambda message: order[message.id])


def _forget_account_mail(unsent: Iterable[OutboxMessage]) -> None:
    """Delete unsent account e-mail to an address that is no active person's: a reset asked
    for an unknown address leaves no trace of the address."""
    ids = [message.id for message in unsent if message.kind in ACCOUNT_KINDS]
    if ids:
        db.session.execute(
            delete(OutboxMessage)
            .where(OutboxMessage.id.in_(ids))
            .execution_options(synchronize_session=False)
        )
        commit_keeping_loaded()


def mark_sent(message: OutboxMessage) -> None:
    message.state = SENT
    message.sent_at = clock.now()
    message.last_error = None
    _settle()


def mark_all_sent(messages: Sequence[OutboxMessage]) -> None:
    """`mark_sent` for claimed rows handed over together, with one commit (a history written
    by `formservice demo-data`; the worker settles each row as it goes)."""
    moment = clock.now()
    for message in messages:
        message.state, message.sent_at, message.last_error = SENT, moment, None
    _settle()


def mark_failed(
    message: OutboxMessage, error: str, *, permanent: bool, attempts: int, backoff: int
) -> None:
    """Schedule a retry with exponential backoff, or give up after the last attempt."""
    message.last_error = error[:500]
    if permanent or message.attempts >= attempts:
        message.state = FAILED
    else:
        message.state = PENDING
        message.next_attempt_at = clock.now() + timedelta(
            seconds=backoff * 2 ** (message.attempts - 1)
        )
    _settle()


def _settle() -> None:
    """Commit a delivery's outcome without waiting for PostgreSQL to reach the disk.

    Only a crash of the database server in the moment after can lose it, and then the row is
    still claimed: it is sent again when the claim lapses (a duplicate at worst, as when a
    worker dies between sending and settling; never a lost message). Waiting for the disk
    twice per message halved delivery throughput (docs/performance.md). The other claimed
    rows of the job stay loaded."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text("SET LOCAL synchronous_commit = off"))
    commit_keeping_loaded()


def due_ids(min_age_seconds: int = 0) -> list[int]:
    """Rows to (re)enqueue: retries that are due, rows never queued (older than
    `min_age_seconds`), and rows claimed by a worker that never settled them."""
    moment = clock.now()
    rows = db.session.execute(
        select(OutboxMessage.id, OutboxMessage.state).where(
            OutboxMessage.state.in_([PENDING, SENDING]),
            OutboxMessage.next_attempt_at <= moment,
            or_(
                OutboxMessage.state == SENDING,
                OutboxMessage.attempts > 0,
                OutboxMessage.created_at <= moment - timedelta(seconds=min_age_seconds),
            ),
        )
    ).all()
    stale = [row.id for row in rows if row.state == SENDING]
    if stale:
        db.session.execute(
            update(OutboxMessage)
            .where(
                OutboxMessage.id.in_(stale),
                OutboxMessage.state == SENDING,
                OutboxMessage.next_attempt_at <= moment,
            )
            .values(state=PENDING)
        )
        db.session.commit()
    return [row.id for row in rows]


def _about(kind: str, record_id: int | SQLColumnExpression[int]) -> ColumnElement[bool]:
    """Messages of `kind` about the SIP meeting or BUS-individ record `record_id` (a value or
    a column), which their context names (`RECORD_KEYS`)."""
    return (OutboxMessage.kind == kind) & (
        OutboxMessage.context[RECORD_KEYS[kind]].as_integer() == record_id
    )


def failed_for_groups(group_ids: set[str] | Select[str]) -> list[OutboxMessage]:
    """Deliveries that gave up, for the steering groups' secretaries to see: of the groups'
    (ids, or a subquery of them: `access.led_groups`) deviations, SIP meetings and
    BUS-individ records, newest first. One query (the deviation list asks on every page):
    each failed message's case or record is looked up by its key."""
    from ..models import BusIndivid, Deviation, SipMeeting

    if not isinstance(group_ids, Select) and not group_ids:
        return []
    groups = group_ids if isinstance(group_ids, Select) else sorted(group_ids)
    about = or_(
        *(
            select(model.id).where(joined, model.group_id.in_(groups)).exists()
            for model, joined in (
                (Deviation, Deviation.id == OutboxMessage.deviation_id),
                (SipMeeting, _about("sip_invitation", SipMeeting.id)),
                (BusIndivid, _about("bus_individ_minutes", BusIndivid.id)),
            )
        )
    )
    query = (
        select(OutboxMessage)
        .where(OutboxMessage.state == FAILED, about)
        .order_by(OutboxMessage.created_at.desc(), OutboxMessage.id.desc())
    )
    return list(db.session.scalars(query))


def failed_for_record(kind: str, record_id: int) -> list[OutboxMessage]:
    """The given SIP meeting's (`sip_invitation`) or BUS-individ record's
    (`bus_individ_minutes`) deliveries that gave up, newest first."""
    query = (
        select(OutboxMessage)
        .where(OutboxMessage.state == FAILED, _about(kind, record_id))
        .order_by(OutboxMessage.created_at.desc())
    )
    return list(db.session.scalars(query))


def recipient_active(message: OutboxMessage) -> bool:
    """Whether the message's recipient is still an active person in the directory."""
    query = select(User.active).where(User.email == message.to_email)
    return bool(db.session.scalar(query))


def retry(message: OutboxMessage, actor: User) -> bool:
    """Give a failed delivery a fresh set of attempts (whatever it is about: a deviation, a
    SIP meeting, a BUS-individ record)."""
    from .. import queue
    from . import audit

    message.state = PENDING
    message.attempts = 0
    message.next_attempt_at = clock.now()
    audit.record(actor, "outbox.retried", "outbox", message.id)
    db.session.commit()
    return queue.enqueue_deliveries([message.id])
