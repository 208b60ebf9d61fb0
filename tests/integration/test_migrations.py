"""The Alembic migrations build exactly the models' schema, and can be undone (both databases)."""

from __future__ import annotations

import json

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import JSON, bindparam, inspect, select, text

from formservice import create_app
from formservice.extensions import db
from formservice.migrate import alembic_config, upgrade
from tests.support import postgres


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_app(request, tmp_path):
    """The app on a new, empty database (not the shared test database)."""
    name = None
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'migrations.db'}"
    else:
        name, url = postgres.create_database("formservice_mig")
    app = create_app({"FORMSERVICE_SECRET_KEY": "x", "FORMSERVICE_DATABASE_URL": url})
    with app.app_context():
        yield app
        db.session.remove()  # the session's connection back to the pool, which is closed next
        db.engine.dispose()
    if name is not None:
        postgres.drop_database(name)


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


def test_reports_filed_before_form_versions_get_codes_and_back(empty_app):
    """0006: existing reports' category labels become codes of version 1 (a label off the
    default list is kept on version 1 under a code of its own); the downgrade restores them."""
    upgrade("0004")
    filed = ["Väntetid eller tillgänglighet", "Övrigt", "Egen äldre kategori"]
    with db.engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO huvudman (id, name, type, active) "
                "VALUES ('stad', 'Stad', 'kommun', true)"
            )
        )
        conn.execute(
            text(
                "INSERT INTO units (id, name, huvudman_id, type, active) "
                "VALUES ('enhet', 'Enhet', 'stad', 'skola', true)"
            )
        )
        conn.execute(
            text(
                "INSERT INTO users (id, email, name, is_admin, is_secretariat, active, "
                "failed_logins) VALUES (1, 'chef@stad.example', 'Chef', false, false, true, 0)"
            )
        )
        conn.execute(
            text(
                "INSERT INTO deviations (state, form_version, reporting_unit_id, "
                "receiving_unit_id, created_by_id, event_date, categories, description, "
                "actions_taken, bus_individ, proposal, child_gender, link_version, created_at) "
                "VALUES ('utkast', 1, 'enhet', 'enhet', 1, '2026-01-02', :c, 'x', 'x', false, "
                "'', 'flicka', 1, '2026-01-02 10:00:00+00')"
            ).bindparams(bindparam("c", type_=JSON())),
            {"c": filed},
        )
    upgrade()
    with db.engine.connect() as conn:
        stored = conn.execute(select(text("categories")).select_from(text("deviations"))).scalar()
        version = conn.execute(text("SELECT version, categories FROM form_versions")).one()
    stored = json.loads(stored) if isinstance(stored, str) else stored
    assert stored == ["vantetid-eller-tillganglighet", "ovrigt", "egen-aldre-kategori"]
    on_form = json.loads(version[1]) if isinstance(version[1], str) else version[1]
    assert version[0] == 1 and len(on_form) == 9
    assert on_form[-1] == {"code": "egen-aldre-kategori", "label": "Egen äldre kategori"}
    command.downgrade(alembic_config(), "0005")
    with db.engine.connect() as conn:
        back = conn.execute(text("SELECT categories FROM deviations")).scalar()
    assert (json.loads(back) if isinstance(back, str) else back) == filed


def test_digest_steps_and_failures_written_as_text_get_codes_and_back(empty_app):
    """0007: the Swedish texts the service stored become codes with their args; a text the
    service never wrote stays; the downgrade writes the texts back."""
    upgrade("0006")
    rows = [
        ("running", "Gör PDF med LibreOffice (del 2 av 4)", None),
        ("failed", "Misslyckades", "LibreOffice svarade inte inom 120 sekunder."),
        ("failed", "Misslyckades", "LibreOffice kunde inte startas (/opt/lo/soffice)."),
        ("failed", "Misslyckades", "Något helt annat."),
    ]
    with db.engine.begin() as conn:
        conn.execute(text("INSERT INTO bus_groups (id, name, active) VALUES ('g', 'G', true)"))
        conn.execute(
            text(
                "INSERT INTO users (id, email, name, is_admin, is_secretariat, active) "
                "VALUES (1, 'sekreterare@stad.example', 'Sekreterare', false, false, true)"
            )
        )
        conn.execute(
            text(
                "INSERT INTO group_meetings (id, group_id, meeting_date, place, created_by_id, "
                "created_at) VALUES (1, 'g', '2026-03-01', '', 1, '2026-01-02 10:00:00+00')"
            )
        )
        for n, (state, step, error) in enumerate(rows, start=1):
            conn.execute(
                text(
                    "INSERT INTO digests (id, meeting_id, state, progress, step, error, "
                    "case_ids, requested_by_id, requested_at) VALUES (:n, 1, :state, 50, "
                    ":step, :error, '[]', 1, '2026-01-02 10:00:00+00')"
                ),
                {"n": n, "state": state, "step": step, "error": error},
            )
    upgrade()

    def stored() -> list[tuple]:
        query = "SELECT step, step_args, error, error_args FROM digests ORDER BY id"
        with db.engine.connect() as conn:
            found = conn.execute(text(query)).all()

        def decoded(value):  # SQLite gives JSON as text
            return json.loads(value) if isinstance(value, str) else value

        return [
            (step, decoded(s_args), error, decoded(e_args)) for step, s_args, error, e_args in found
        ]

    assert stored() == [
        ("converting", {"part": 2, "parts": 4}, None, None),
        ("failed", None, "conversion_timeout", {"seconds": 120}),
        ("failed", None, "conversion_no_start", {"program": "/opt/lo/soffice"}),
        ("failed", None, "Något helt annat.", None),
    ]
    command.downgrade(alembic_config(), "0006")
    with db.engine.connect() as conn:
        back = conn.execute(text("SELECT state, step, error FROM digests ORDER BY id")).all()
    assert [tuple(row) for row in back] == rows
