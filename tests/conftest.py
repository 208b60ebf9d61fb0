"""Shared fixtures: real databases (SQLite and PostgreSQL), real Redis, a real SMTP sink."""

from __future__ import annotations

import os
import socket
import threading
import uuid
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import pytest
import yaml
from aiosmtpd.controller import Controller
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from formservice import create_app

ROOT = Path(__file__).resolve().parent.parent
DEMO_DIRECTORY = ROOT / "formservice" / "demo" / "directory.yaml"
PASSWORD = "test-lösenord-123"


def postgres_base_url() -> str:
    return os.environ.get(
        "FORMSERVICE_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
    )


def redis_url() -> str:
    return os.environ.get("FORMSERVICE_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def postgresql_url():
    """A fresh PostgreSQL database for this run; fails (never skips) without a server."""
    base = make_url(postgres_base_url())
    name = f"formservice_test_{uuid.uuid4().hex[:8]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield base.set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def sqlite_url(tmp_path_factory):
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'formservice.db'}"


@dataclass
class Sink:
    """An aiosmtpd server that keeps what it receives."""

    host: str
    port: int
    messages: list[EmailMessage] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server, session, envelope):  # aiosmtpd handler hook
        message = message_from_bytes(envelope.content, policy=policy.default)
        with self.lock:
            self.messages.append(message)
        return "250 OK"

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages if m["To"] == address]

    def clear(self) -> None:
        with self.lock:
            self.messages.clear()

    def serve(self, **options) -> Controller:
        """Start an aiosmtpd server that hands this sink what it receives; `options` go to
        aiosmtpd: `ssl_context` for implicit TLS, `tls_context` and `require_starttls=True`
        for STARTTLS."""
        controller = Controller(self, hostname=self.host, port=self.port, **options)
        controller.start()
        return controller


@pytest.fixture(scope="session")
def smtp_sink():
    sink = Sink("127.0.0.1", free_port())
    controller = sink.serve()
    yield sink
    controller.stop()


def self_signed_certificate(folder: Path, host: str = "127.0.0.1") -> tuple[Path, Path]:
    """A new key and a self-signed certificate for `host` (an IP address or a DNS name),
    written to `folder` as PEM: (certificate, key)."""
    import ipaddress
    from datetime import UTC, datetime, timedelta

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)])
    try:
        alt_name = x509.IPAddress(ipaddress.ip_address(host))
    except ValueError:
        alt_name = x509.DNSName(host)
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([alt_name]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(  # what strict X.509 checking (Python 3.13's default) asks of a CA
            x509.KeyUsage(
                digital_signature=True,
                key_cert_sign=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(key.public_key()), False)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / f"{host}.crt", folder / f"{host}.key"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


def base_config(db_url: str, sink: Sink, tmp_path: Path) -> dict:
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


def _reset_database(app) -> None:
    from formservice.extensions import db
    from formservice.migrate import upgrade

    url = app.config["SQLALCHEMY_DATABASE_URI"]
    if url not in _migrated:
        upgrade()
        _migrated.add(url)
    # The form's first version is the migration's (seeded data, as in production): kept.
    tables = [t.name for t in reversed(db.metadata.sorted_tables) if t.name != "form_versions"]
    with db.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                conn.execute(text(f"DELETE FROM {table}"))
        conn.execute(text("DELETE FROM form_versions WHERE version > 1"))


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request):
    return request.getfixturevalue(f"{request.param}_url")


@pytest.fixture
def app(db_url, smtp_sink, tmp_path):
    """The app on a clean database, real Redis (flushed) and the SMTP sink."""
    app = create_app(base_config(db_url, smtp_sink, tmp_path) | {"WTF_CSRF_ENABLED": False})
    app.instance_path = str(tmp_path / "instance")
    with app.app_context():
        _reset_database(app)
        from formservice.queue import redis_connection

        redis_connection().flushdb()
        smtp_sink.clear()
        yield app
        from formservice.extensions import db

        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def directory(app):
    """The demo directory (Skarpnäck) with a known password for everyone."""
    from sqlalchemy import select

    from formservice.extensions import db
    from formservice.models import User
    from formservice.services.directory import import_directory

    import_directory(yaml.safe_load(DEMO_DIRECTORY.read_text(encoding="utf-8")))
    hashed = _password_hash()
    for user in db.session.scalars(select(User)):
        user.password_hash = hashed
    db.session.commit()
    return app


_HASH: list[str] = []


def _password_hash() -> str:
    if not _HASH:
        from argon2 import PasswordHasher

        _HASH.append(PasswordHasher().hash(PASSWORD))
    return _HASH[0]


@pytest.fixture
def client(app):
    return app.test_client()


def login(client, email: str, password: str = PASSWORD):
    return client.post("/logga-in", data={"email": email, "password": password})


def run_worker(app) -> None:
    """Work the real Redis queue in this process until it is empty."""
    from rq import Queue

    from formservice.queue import QUEUE_NAME, redis_connection
    from worker.__main__ import AppWorker

    conn = redis_connection()
    AppWorker([Queue(QUEUE_NAME, connection=conn)], connection=conn, app=app).work(burst=True)
