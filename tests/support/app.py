"""The app in this process: its test configuration, a clean database, the worker, logging in."""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import text
from werkzeug.test import TestResponse

from .accounts import PASSWORD
from .redis import redis_url
from .smtp import Sink


def base_config(db_url: str, sink: Sink, tmp_path: object = None) -> dict[str, Any]:
    """The settings of the app under test: `db_url`, the test Redis, the SMTP `sink`
    (`tmp_path`, which callers pass, is not needed)."""
    return {
        "TESTING": True,
        "FORMSERVICE_SECRET_KEY": "test-secret-key",
        "FORMSERVICE_DATABASE_URL": db_url,
        "FORMSERVICE_REDIS_URL": redis_url(),
        "FORMSERVICE_SMTP_HOST": sink.host,
        "FORMSERVICE_SMTP_PORT": sink.port,
        "FORMSERVICE_BASE_URL": "http://formservice.test",
        "FORMSERVICE_DELIVERY_BACKOFF_SECONDS": 0,
        # One factor unless a test is about the second (tests/integration/test_two_factor.py
        # and the browser journeys of accounts use the default, `admin`).
        "FORMSERVICE_REQUIRE_2FA": "",
    }


_migrated: set[str] = set()


def reset_database(app: Flask) -> None:
    """Migrate the app's database once per run, then empty every table but the form's
    first version (the migration's seeded data, as in production). In the app context."""
    from formservice.extensions import db
    from formservice.migrate import upgrade

    url = app.config["SQLALCHEMY_DATABASE_URI"]
    if url not in _migrated:
        upgrade()
        _migrated.add(url)
    tables = [t.name for t in reversed(db.metadata.sorted_tables) if t.name != "form_versions"]
    with db.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                conn.execute(text(f"DELETE FROM {table}"))
        conn.execute(text("DELETE FROM form_versions WHERE version > 1"))


def close(app: Flask) -> None:
    """Close the database pools of an app a test made (each engine's connections): left to
    the garbage collector, psycopg warns about them in whichever test runs then. Outside the
    app's own app context: a connection its session still holds would not be closed."""
    from formservice.extensions import db

    with app.app_context():
        db.session.remove()
        for engine in db.engines.values():
            engine.dispose()


def login(client: FlaskClient, email: str, password: str = PASSWORD) -> TestResponse:
    """Log in through the login form (CSRF off in the in-process tests)."""
    return client.post("/logga-in", data={"email": email, "password": password})


def run_worker(app: Flask) -> None:
    """Work the real Redis queue in this process until it is empty."""
    from rq import Queue

    from formservice.queue import QUEUE_NAME, redis_connection
    from worker.__main__ import AppWorker

    conn = redis_connection()
    AppWorker([Queue(QUEUE_NAME, connection=conn)], connection=conn, app=app).work(burst=True)
