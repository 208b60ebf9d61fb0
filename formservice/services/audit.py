"""Writing the audit log."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import insert

from .. import clock
from ..extensions import db
from ..models import AuditEvent, User


def record(
    actor: User | str | None,
    action: str,
    object_type: str | None = None,
    object_id: object = None,
    **detail: Any,
) -> None:
    """Write an audit event into the current transaction (the caller commits)."""
    record_many(actor, [action], object_type, object_id, **detail)


def record_many(
    actor: User | str | None,
    actions: Sequence[str],
    object_type: str | None = None,
    object_id: object = None,
    **detail: Any,
) -> None:
    """Write one event per action on the same object, with one statement."""
    row = _row(actor, object_type, object_id, detail)
    rows = [{**row, "action": action} for action in actions]
    db.session.execute(insert(AuditEvent.__table__), rows)


def record_objects(
    actor: User | str | None,
    action: str,
    object_type: str,
    object_ids: Iterable[object],
    **detail: Any,
) -> None:
    """Write one event of the same action per object, with one statement (none for none)."""
    rows = [
        {**_row(actor, object_type, object_id, detail), "action": action}
        for object_id in object_ids
    ]
    if rows:
        db.session.execute(insert(AuditEvent.__table__), rows)


def _row(
    actor: User | str | None, object_type: str | None, object_id: object, detail: dict
) -> dict[str, Any]:
    if isinstance(actor, User):
        user_id, name = actor.id, actor.email
    else:
        user_id, name = None, actor or "system"
    return {
        "at": clock.now(),
        "user_id": user_id,
        "actor": name,
        "object_type": object_type,
        "object_id": None if object_id is None else str(object_id),
        "detail": detail,
    }


def record_now(
    actor: User | str | None, action: str, object_type: str, object_id: object, **detail: Any
) -> None:
    """Record a view or download in its own transaction."""
    record(actor, action, object_type, object_id, **detail)
    db.session.commit()
