"""A PostgreSQL database of one's own: created with a unique name, dropped afterwards (with
FORCE, so a server process still connected does not keep it). Without a server this fails,
it never skips."""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def base_url(variable: str = "FORMSERVICE_TEST_POSTGRES_URL") -> str:
    """The server's maintenance database, from `variable` (tests; benchmarks pass their own)."""
    return os.environ.get(variable, DEFAULT_URL)


def _on_server(statement: str, base: str | None) -> None:
    """Run `statement` on the maintenance database, outside a transaction."""
    admin = create_engine(make_url(base or base_url()), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(statement))
    finally:
        admin.dispose()


def create_database(
    prefix: str, base: str | None = None, template: str | None = None
) -> tuple[str, str]:
    """A new database on the server of `base` (the tests' by default), empty or a copy of
    `template` (which nobody may be connected to): (name, URL)."""
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    copy = f' TEMPLATE "{template}"' if template else ""
    _on_server(f'CREATE DATABASE "{name}"{copy}', base)
    url = make_url(base or base_url()).set(database=name)
    return name, url.render_as_string(hide_password=False)


def drop_database(name: str, base: str | None = None) -> None:
    """Drop the database `name` if it is there, whoever is still connected to it."""
    _on_server(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', base)


@contextlib.contextmanager
def temporary_database(prefix: str, base: str | None = None) -> Iterator[str]:
    """A new database for the `with` block, dropped afterwards (also on failure): its URL."""
    name, url = create_database(prefix, base)
    try:
        yield url
    finally:
        drop_database(name, base)


def admin_url(base: str | None = None) -> str:
    """The maintenance database's URL with its password, for a process that drops later."""
    return make_url(base or base_url()).render_as_string(hide_password=False)


def libpq_url(db_url: str) -> str:
    """A SQLAlchemy database URL as libpq (psql, pg_dump, plain psycopg) takes it."""
    return make_url(db_url).set(drivername="postgresql").render_as_string(hide_password=False)
