"""Use cases: each changes state in one transaction, with its audit events and outbox rows."""

from typing import Any, cast

from sqlalchemy import CursorResult
from sqlalchemy.sql.dml import UpdateBase


def commit_keeping_loaded() -> None:
    """Commit without expiring the objects the session holds, for a job that commits as it
    goes and keeps using what it read: after an ordinary commit every attribute it touches is
    read again, one query per object (the digest: one per case and relationship)."""
    from ..extensions import db

    session = db.session()
    expire, session.expire_on_commit = session.expire_on_commit, False
    try:
        session.commit()
    finally:
        session.expire_on_commit = expire


def rows_changed(statement: UpdateBase) -> int:
    """Run an UPDATE or DELETE (no RETURNING) in the current transaction; rows it changed."""
    from ..extensions import db

    # Such a statement gives a CursorResult, which Session.execute is not typed to promise
    # (SQLAlchemy's changelog for 2.0.44 says to cast).
    return cast(CursorResult[Any], db.session.execute(statement)).rowcount
