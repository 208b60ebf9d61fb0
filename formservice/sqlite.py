"""SQLite, the embedded default, tuned for a web server and a worker writing at once."""

from __future__ import annotations

import sqlite3

from sqlalchemy import Engine, event


def tune(engine: Engine) -> None:
    """WAL journal (readers never block the writer) and a generous busy timeout."""
    event.listen(engine, "connect", _on_connect)


def _on_connect(dbapi_connection: sqlite3.Connection, connection_record: object) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()
    # SQLite's lower() folds only A-Z; Python's folds Å, Ä, Ö too, as PostgreSQL's does, so
    # a search for "åsa" finds "Åsa" on both databases (the audit log and the GDPR extract).
    dbapi_connection.create_function("lower", 1, _lower, deterministic=True)


def _lower(value: str | bytes | int | float | None) -> str | bytes | int | float | None:
    return value.lower() if isinstance(value, str) else value
