"""The `formservice` command (SPEC §9, §10): in this process through Flask's CLI runner, and
as the real console script for what only it shows (the app built from the environment, the
worker)."""

from __future__ import annotations

import copy
import subprocess
import uuid
from pathlib import Path

import pytest
import yaml
from alembic.script import ScriptDirectory
from click.testing import Result
from sqlalchemy import create_engine, inspect, select, text

from formservice import create_app
from formservice.cli import main
from formservice.extensions import db
from formservice.migrate import alembic_config, upgrade
from formservice.models import OutboxMessage, Unit, User
from formservice.services.accounts import authenticate
from formservice.services.directory import import_directory
from tests.support import postgres
from tests.support.paths import DEMO_DIRECTORY
from tests.support.redis import redis_url
from tests.support.stack import environment, formservice_command

from .helpers import CHEF_B, send_report

SECRET = "cli-test-secret"
COMMAND = formservice_command()
DIRECTORY_TABLES = ["huvudman", "bus_groups", "units", "users", "unit_groups", "unit_deputies"]
DEMO = yaml.safe_load(DEMO_DIRECTORY.read_text(encoding="utf-8"))


@pytest.fixture
def fresh_postgresql_url():
    """A new, empty PostgreSQL database for one test (like conftest's `postgresql_url`)."""
    with postgres.temporary_database("formservice_cli") as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def cli_db(request, tmp_path):
    """An empty database the command is pointed at."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'cli.db'}"
    return request.getfixturevalue("fresh_postgresql_url")


def cli_env(db_url: str, **settings: str) -> dict[str, str]:
    """The environment an operator's shell gives the command: `settings` without the prefix."""
    extra = {f"FORMSERVICE_{k}": v for k, v in settings.items()}
    return environment(db_url, redis_url(), **({"FORMSERVICE_SECRET_KEY": SECRET} | extra))


def formservice(env: dict[str, str], *args: str, stdin: str = "") -> subprocess.CompletedProcess:
    """The real console script, in its own process."""
    return subprocess.run(
        [*COMMAND, *args], env=env, input=stdin, capture_output=True, text=True, timeout=60
    )


def run(app, *args: str, stdin: str = "") -> Result:
    """The command in this process, on `app` (Flask's CLI runner)."""
    return app.test_cli_runner().invoke(main, list(args), input=stdin)


def assert_refused(result: Result) -> None:
    """Failed with a message: click handled the error (an unexpected exception would be
    the traceback of the real script)."""
    assert result.exit_code != 0
    assert isinstance(result.exception, SystemExit), result.exc_info
    assert "Traceback" not in result.stderr


@pytest.fixture
def cli_app(cli_db, smtp_sink):
    """The app on the (empty) database the command works on."""
    app = create_app(
        {
            "FORMSERVICE_SECRET_KEY": SECRET,
            "FORMSERVICE_DATABASE_URL": cli_db,
            "FORMSERVICE_REDIS_URL": redis_url(),
            "FORMSERVICE_SMTP_HOST": smtp_sink.host,
            "FORMSERVICE_SMTP_PORT": smtp_sink.port,
        }
    )
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def local(cli_app):
    """The same app on the migrated database, for setting up and checking."""
    with cli_app.app_context():
        upgrade()
    return cli_app


def rows(app) -> dict[str, list[tuple]]:
    """Every row of the directory tables, in a stable order."""
    with app.app_context():
        snapshot = {}
        for name in DIRECTORY_TABLES:
            table = db.metadata.tables[name]
            query = select(table).order_by(*table.primary_key.columns)
            snapshot[name] = [tuple(row) for row in db.session.execute(query)]
        return snapshot


def import_demo(app) -> None:
    with app.app_context():
        import_directory(copy.deepcopy(DEMO))


def write_yaml(tmp_path: Path, data) -> Path:
    path = tmp_path / f"katalog-{uuid.uuid4().hex[:6]}.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def unit(data: dict, unit_id: str) -> dict:
    return next(u for u in data["units"] if u["id"] == unit_id)


# --- db upgrade ---------------------------------------------------------------------------------


def test_db_upgrade_creates_every_table_and_can_run_twice(cli_app, cli_db):
    first = run(cli_app, "db", "upgrade")
    assert first.exit_code == 0, first.output
    assert "Databasen är uppdaterad." in first.stdout
    engine = create_engine(cli_db)
    try:
        assert set(inspect(engine).get_table_names()) == {*db.metadata.tables, "alembic_version"}
        again = run(cli_app, "db", "upgrade")
        assert again.exit_code == 0, again.output
        with engine.connect() as conn:
            versions = conn.execute(text("SELECT version_num FROM alembic_version")).scalars()
            assert list(versions) == [
                ScriptDirectory.from_config(alembic_config()).get_current_head()
            ]
    finally:
        engine.dispose()


# --- directory import ---------------------------------------------------------------------------


def test_directory_import_loads_the_demo_file_and_twice_changes_nothing(local):
    first = run(local, "directory", "import", str(DEMO_DIRECTORY))
    assert first.exit_code == 0, first.output
    assert "Katalogen är inläst:" in first.stdout and " 0 ändringar" not in first.stdout
    loaded = rows(local)
    assert len(loaded["units"]) == 5 and len(loaded["users"]) == 12
    second = run(local, "directory", "import", str(DEMO_DIRECTORY))
    assert second.exit_code == 0, second.output
    assert "Katalogen är inläst: 0 ändringar." in second.stdout
    assert rows(local) == loaded


def test_changed_directory_updates_and_deactivates_without_deleting(local, tmp_path):
    import_demo(local)
    before = rows(local)
    changed = copy.deepcopy(DEMO)
    changed["units"] = [
        u for u in changed["units"] if u["id"] not in {"hc-soderstaden", "forskola-skarpnack"}
    ]
    unit(changed, "bup-farsta")["chef"]["name"] = "Ines Sved Berg"
    unit(changed, "grundskola-skarpnack")["deputies"] = [
        {"name": "Gustav Ersatt", "email": "gustav.ersatt@stad.example"},
        # the removed preschool's chef stays in the file as a deputy, so stays active
        {"name": "Frans Förskolechef", "email": "frans.forskolechef@stad.example"},
    ]
    result = run(local, "directory", "import", str(write_yaml(tmp_path, changed)))
    assert result.exit_code == 0, result.output
    assert " 0 ändringar" not in result.stdout
    after = rows(local)
    assert len(after["units"]) == len(before["units"])
    assert len(after["users"]) == len(before["users"]) + 1
    with local.app_context():
        units = {u.id: u for u in db.session.scalars(select(Unit))}
        assert not units["hc-soderstaden"].active and not units["forskola-skarpnack"].active
        assert all(
            u.active for k, u in units.items() if k not in {"hc-soderstaden", "forskola-skarpnack"}
        )
        people = {u.email: u for u in db.session.scalars(select(User))}
        assert not people["hanna.hab@region.example"].active
        assert people["frans.forskolechef@stad.example"].active
        assert people[CHEF_B].name == "Ines Sved Berg" and people[CHEF_B].active
        deputies = {d.email for d in units["grundskola-skarpnack"].deputies}
        assert deputies == {"gustav.ersatt@stad.example", "frans.forskolechef@stad.example"}
        assert units["hc-soderstaden"].chef.email == "hanna.hab@region.example"  # history kept


def _bad_huvudman(data):
    unit(data, "bup-farsta")["huvudman"] = "region-uppsala"


def _bad_email(data):
    unit(data, "bup-farsta")["chef"]["email"] = "ines.sved(at)region.example"


def _person_not_mapping(data):
    unit(data, "bup-farsta")["deputies"] = ["Per Ersatt"]


def _missing_name(data):
    del unit(data, "bup-farsta")["name"]


def _unit_not_mapping(data):
    data["units"].append("bvc-skarpnack")


MALFORMED = {
    "unknown-huvudman": (_bad_huvudman, "units bup-farsta: okänd huvudman 'region-uppsala'"),
    "bad-email": (_bad_email, "units bup-farsta chef: ogiltig e-postadress"),
    "person-not-mapping": (_person_not_mapping, "units bup-farsta deputies: ange name och email"),
    "missing-name": (_missing_name, "units bup-farsta"),
    "unit-not-mapping": (_unit_not_mapping, "units: varje post behöver ett id"),
    "file-not-mapping": ("- huvudman\n- units\n", "Filen ska vara ett YAML-dokument"),
    "yaml-syntax": ("huvudman:\n  - {id: stockholms-stad, name: [\nunits: []\n", "line 2"),
}


#: Refused before the database is touched, so one database is enough for these.
BEFORE_ANY_WRITE = {"file-not-mapping", "yaml-syntax"}
MALFORMED_RUNS = [
    pytest.param(backend, case, id=f"{backend}-{case}")
    for backend in ("sqlite", "postgresql")
    for case in MALFORMED
    if backend == "sqlite" or case not in BEFORE_ANY_WRITE
]


@pytest.mark.parametrize(("cli_db", "case"), MALFORMED_RUNS, indirect=["cli_db"])
def test_malformed_directory_is_refused_in_swedish_and_changes_nothing(
    local, cli_db, tmp_path, case
):
    import_demo(local)
    before = rows(local)
    broken, where = MALFORMED[case]
    if callable(broken):
        data = copy.deepcopy(DEMO)
        # valid changes earlier in the file, which must not survive the refusal
        data["huvudman"][0]["name"] = "Stockholms stad (ändrad)"
        data["bus_groups"][0]["secretary"] = {"name": "Nils Ny", "email": "nils.ny@stad.example"}
        broken(data)
        path = write_yaml(tmp_path, data)
    else:
        path = tmp_path / "trasig.yaml"
        path.write_text(broken, encoding="utf-8")
    result = run(local, "directory", "import", str(path))
    assert_refused(result)
    assert "Katalogen lästes inte in" in result.stderr and where in result.stderr
    assert rows(local) == before


# --- users set-password -------------------------------------------------------------------------


def test_set_password_from_stdin_stores_an_argon2_hash_that_logs_in(local):
    import_demo(local)
    password = "ett långt lösenord 42"
    result = run(local, "users", "set-password", "Ines.Sved@Region.Example", stdin=password)
    assert result.exit_code == 0, result.output
    assert "Lösenordet är satt." in result.stdout
    with local.app_context():
        stored = db.session.scalar(select(User.password_hash).where(User.email == CHEF_B))
        assert stored.startswith("$argon2id$") and password not in stored
        assert authenticate(CHEF_B, password).email == CHEF_B
        assert authenticate(CHEF_B, password + "x") is None


@pytest.mark.parametrize("cli_db", ["sqlite"], indirect=True)  # refused before any write
@pytest.mark.parametrize(
    ("email", "password", "message"),
    [
        ("okand@stad.example", "ett långt lösenord 42", "Det finns ingen person med den"),
        (CHEF_B, "kort", "Lösenordet måste ha minst 12 tecken."),
        (CHEF_B, "Password1234", "Lösenordet är för lätt att gissa. Det liknar ett av de"),
        (CHEF_B, "ines.sved@region.example", "Det innehåller ditt namn, din e-postadress"),
    ],
    ids=["unknown-email", "too-short", "common", "own-address"],
)
def test_set_password_refuses(local, cli_db, email, password, message):
    import_demo(local)
    before = rows(local)
    result = run(local, "users", "set-password", email, stdin=password + "\n")
    assert_refused(result)
    assert message in result.stderr
    assert rows(local) == before


# --- what only the real script shows: the app built from the environment --------------------------


@pytest.mark.parametrize(
    "args",
    [
        ["db", "upgrade"],
        ["directory", "import", str(DEMO_DIRECTORY)],
        ["users", "set-password", CHEF_B],
        ["worker", "--burst"],
    ],
    ids=lambda args: args[0],
)
def test_missing_secret_key_is_a_clear_error_not_a_traceback(tmp_path, args):
    database = tmp_path / "ingen.db"
    env = cli_env(f"sqlite:///{database}")
    del env["FORMSERVICE_SECRET_KEY"]
    result = formservice(env, *args, stdin="ett långt lösenord 42\n")
    assert result.returncode != 0
    assert "FORMSERVICE_SECRET_KEY must be set" in result.stderr
    assert "Traceback" not in result.stderr
    assert not database.exists()


# --- worker -------------------------------------------------------------------------------------


def test_worker_burst_delivers_queued_mail_and_exits_zero(local, cli_db, smtp_sink):
    import_demo(local)
    with local.app_context():
        from formservice.queue import redis_connection

        redis_connection().flushdb()
        smtp_sink.clear()
        case_number = send_report().case_number
    env = cli_env(
        cli_db, SMTP_HOST=smtp_sink.host, SMTP_PORT=str(smtp_sink.port), BASE_URL="http://cli.test"
    )
    result = formservice(env, "worker", "--burst")
    assert result.returncode == 0, result.stderr
    assert len(smtp_sink.messages) == 5
    assert smtp_sink.to(CHEF_B)[0]["Subject"] == f"Avvikelse {case_number} att besvara"
    assert "http://cli.test/svara/" in smtp_sink.to(CHEF_B)[0].get_content()
    with local.app_context():
        assert set(db.session.scalars(select(OutboxMessage.state))) == {"sent"}


def test_worker_burst_on_an_empty_queue_exits_zero(tmp_path):
    from redis import Redis

    Redis.from_url(redis_url()).flushdb()
    result = formservice(cli_env(f"sqlite:///{tmp_path / 'tom.db'}"), "worker", "--burst")
    assert result.returncode == 0, result.stderr
