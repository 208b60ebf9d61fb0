"""Mail over TLS: the relay's certificate and host name are checked (issue 12, item 4).

A real aiosmtpd relay with a self-signed certificate made by the test, implicit TLS (`ssl`) or
STARTTLS required (`starttls`); delivery goes through the real worker."""

from __future__ import annotations

import ssl
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import select

from formservice.extensions import db
from formservice.models import OutboxMessage
from tests.support.app import run_worker
from tests.support.certificates import self_signed_certificate
from tests.support.ports import free_port
from tests.support.smtp import Sink
from worker import jobs

from .helpers import send_report
from .test_cli import cli_env, formservice

MODES = ["ssl", "starttls"]


@contextmanager
def tls_relay(mode: str, certificate: Path, key: Path):
    """A sink behind TLS with this certificate: implicit TLS or STARTTLS required."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(certificate, key)
    sink = Sink("127.0.0.1", free_port())
    if mode == "ssl":
        controller = sink.serve(ssl_context=context)
    else:
        controller = sink.serve(tls_context=context, require_starttls=True)
    try:
        yield sink
    finally:
        controller.stop()


def use_relay(app, sink: Sink, mode: str, ca_file: Path | None = None) -> None:
    app.config |= {
        "FORMSERVICE_SMTP_HOST": sink.host,
        "FORMSERVICE_SMTP_PORT": sink.port,
        "FORMSERVICE_SMTP_TLS": mode,
        "FORMSERVICE_SMTP_CA_FILE": str(ca_file) if ca_file else None,
    }


def outbox_rows() -> list[OutboxMessage]:
    db.session.expire_all()
    return db.session.scalars(select(OutboxMessage)).all()


@pytest.mark.parametrize("mode", MODES)
def test_delivery_waits_until_the_relay_certificate_is_trusted(directory, app, tmp_path, mode):
    certificate, key = self_signed_certificate(tmp_path)
    with tls_relay(mode, certificate, key) as relay:
        use_relay(app, relay, mode)
        send_report()
        run_worker(app)
        rows = outbox_rows()
        assert len(rows) == 5 and {row.state for row in rows} == {"pending"}
        assert all(row.attempts == 1 for row in rows)
        assert all("certificate not accepted" in row.last_error for row in rows)
        assert all("self-signed" in row.last_error for row in rows)
        assert relay.messages == []

        use_relay(app, relay, mode, ca_file=certificate)
        assert jobs.sweep_outbox() == 5  # the retries are due (no backoff in the tests)
        run_worker(app)
        rows = outbox_rows()
        assert {row.state for row in rows} == {"sent"}
        assert all(row.last_error is None for row in rows)
        assert len(relay.messages) == 5


@pytest.mark.parametrize("mode", MODES)
def test_a_certificate_for_another_host_is_refused(directory, app, tmp_path, mode):
    certificate, key = self_signed_certificate(tmp_path, "smtp.annan-kommun.example")
    with tls_relay(mode, certificate, key) as relay:
        use_relay(app, relay, mode, ca_file=certificate)  # trusted issuer, wrong name
        send_report()
        run_worker(app)
        rows = outbox_rows()
        assert len(rows) == 5 and {row.state for row in rows} == {"pending"}
        assert all("mismatch" in row.last_error for row in rows)
        assert relay.messages == []


@pytest.mark.parametrize("value", ["tls", "STARTLS", "yes"])
def test_an_unknown_smtp_tls_value_stops_the_start(tmp_path, value):
    env = cli_env(f"sqlite:///{tmp_path / 'db.sqlite'}", SMTP_TLS=value)
    result = formservice(env, "worker", "--burst")
    assert result.returncode != 0
    assert "FORMSERVICE_SMTP_TLS must be one of none, starttls, ssl" in result.stderr
    assert repr(value) in result.stderr and "Traceback" not in result.stderr


def test_smtp_tls_is_read_in_any_case(tmp_path):
    from formservice import config

    settings = config.from_environ(
        {"FORMSERVICE_SMTP_TLS": " STARTTLS ", "FORMSERVICE_SECRET_KEY": "x"}
    )
    config.finalize(settings, tmp_path)
    assert settings["FORMSERVICE_SMTP_TLS"] == "starttls"


def test_a_missing_ca_file_stops_the_start(tmp_path):
    missing = tmp_path / "kommunens-ca.pem"
    env = cli_env(f"sqlite:///{tmp_path / 'db.sqlite'}", SMTP_TLS="ssl", SMTP_CA_FILE=str(missing))
    result = formservice(env, "worker", "--burst")
    assert result.returncode != 0
    assert f"FORMSERVICE_SMTP_CA_FILE must name a PEM file of CA certificates: {missing}" in (
        result.stderr
    )
    assert "Traceback" not in result.stderr
