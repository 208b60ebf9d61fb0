"""The Alembic migrations build exactly the models' schema, and can be undone (both databases)."""

from __future__ import annotations

import uuid

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

from formservice import create_app
from formservice.extensions import db
from formservice.migrate import alembic_config, upgrade
from tests.conftest import postgres_base_url


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_app(request, tmp_path):
    """The app on a new, empty database (not the shared test database)."""
    admin = name = None
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'migrations.db'}"
    else:
        base = make_url(postgres_base_url())
        name = f"formservice_mig_{uuid.uuid4().hex[:8]}"
        admin = create_engine(base, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        url = base.set(database=name).render_as_string(hide_password=False)
    app = create_app({"FORMSERVICE_SECRET_KEY": "x", "FORMSERVICE_DATABASE_URL": url})
    with app.app_context():
        yield app
        db.engine.dispose()
    if admin is not None:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def schema_differences() -> list:
    """What autogenerate would put in a new migration: nothing, if the models match.

    The comparison runs with compare_type=True. No SQLite type-affinity noise needs
    filtering: the models and the migration use the same SQLAlchemy types (UTCDateTime is a
    TypeDecorator over DateTime(timezone=True), rendered as such in 0001), and on SQLite
    Alembic compares the declared type names, which round-trip unchanged.
    """
    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        return compare_metadata(context, db.metadata)


def tables() -> set[str]:
    return set(inspect(db.engine).get_table_names())


def test_upgrade_builds_exactly_the_models_schema(empty_app):
    upgrade()
    assert tables() == {*db.metadata.tables, "alembic_version"}
    assert schema_differences() == []


def test_downgrade_to_base_and_upgrade_again(empty_app):
    upgrade()
    with db.engine.begin() as conn:
        conn.execute(text("INSERT INTO case_counters (year, last) VALUES (2026, 7)"))
    command.downgrade(alembic_config(), "base")
    db.engine.dispose()
    assert tables() <= {"alembic_version"}
    upgrade()
    assert tables() == {*db.metadata.tables, "alembic_version"}
    assert schema_differences() == []
    with db.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM case_counters")).scalar() == 0
