"""Writing the audit log."""

from __future__ import annotations

from typing import Any

from ..extensions import db
from ..models import AuditEvent, User


def record(
    actor: User | str | None,
    action: str,
    object_type: str | None = None,
    object_id: object = None,
    **detail: Any,
) -> AuditEvent:
    """Add an audit event to the current transaction (the caller commits)."""
    if isinstance(actor, User):
        user_id, name = actor.id, actor.email
    else:
        user_id, name = None, actor or "system"
    event = AuditEvent(
        user_id=user_id,
        actor=name,
        action=action,
        object_type=object_type,
        object_id=None if object_id is None else str(object_id),
        detail=detail,
    )
    db.session.add(event)
    return event


def record_now(
    actor: User | str | None, action: str, object_type: str, object_id: object, **detail: Any
) -> None:
    """Record a view or download in its own transaction."""
    record(actor, action, object_type, object_id, **detail)
    db.session.commit()
