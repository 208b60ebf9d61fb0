"""Shared fixtures: real databases (SQLite and PostgreSQL), real Redis, a real SMTP sink.

Plain helpers live in tests/support/ (import them from there); the fixtures build on them.
"""

from __future__ import annotations

import pytest
import yaml
from flask import Flask
from sqlalchemy import select

from formservice import create_app
from tests.support import postgres
from tests.support.accounts import PASSWORD as PASSWORD
from tests.support.accounts import give_password
from tests.support.accounts import password_hash as password_hash
from tests.support.app import base_config as base_config
from tests.support.app import close as close_app
from tests.support.app import login as login
from tests.support.app import reset_database as reset_database
from tests.support.app import run_worker as run_worker
from tests.support.certificates import self_signed_certificate as self_signed_certificate
from tests.support.paths import DEMO_DIRECTORY as DEMO_DIRECTORY
from tests.support.paths import ROOT as ROOT
from tests.support.ports import free_port as free_port
from tests.support.redis import redis_url as redis_url
from tests.support.smtp import Sink as Sink

# The old private names, for tests written before tests/support/ (one release; the guard in
# tests/unit/test_support_imports.py names every test that still imports them).
_password_hash = password_hash
_reset_database = reset_database


@pytest.fixture(scope="session")
def postgresql_url():
    """A fresh PostgreSQL database for this run; fails (never skips) without a server."""
    with postgres.temporary_database("formservice_test") as url:
        yield url


@pytest.fixture(scope="session")
def sqlite_url(tmp_path_factory):
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'formservice.db'}"


@pytest.fixture(scope="session")
def smtp_sink():
    with Sink() as sink:
        yield sink


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request):
    return request.getfixturevalue(f"{request.param}_url")


@pytest.fixture
def app(db_url, smtp_sink, tmp_path):
    """The app on a clean database, real Redis (flushed) and the SMTP sink."""
    app = create_app(base_config(db_url, smtp_sink, tmp_path) | {"WTF_CSRF_ENABLED": False})
    app.instance_path = str(tmp_path / "instance")
    with app.app_context():
        reset_database(app)
        from formservice.queue import redis_connection

        redis_connection().flushdb()
        smtp_sink.clear()
        yield app
    close_app(app)  # after the app context, whose end gave the session's connection back


@pytest.fixture
def new_app():
    """`create_app` for a test that needs an app of its own (another configuration); the
    database pools of every app made are closed after the test."""
    made: list[Flask] = []

    def make(config: dict) -> Flask:
        made.append(create_app(config))
        return made[-1]

    yield make
    for made_app in made:
        close_app(made_app)


@pytest.fixture
def directory(app):
    """The demo directory (Skarpnäck) with a known password for everyone."""
    from formservice.extensions import db
    from formservice.models import User
    from formservice.services.directory import import_directory

    import_directory(yaml.safe_load(DEMO_DIRECTORY.read_text(encoding="utf-8")))
    give_password(db.session.scalars(select(User)))
    return app


@pytest.fixture
def client(app):
    return app.test_client()
