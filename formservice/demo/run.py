"""`formservice demo`: database, embedded Redis, mail sink, demo directory, web and worker."""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
from pathlib import Path

import click
import yaml
from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Mailbox

from .. import create_app
from ..queue import embedded_redis

DIRECTORY = Path(__file__).resolve().parent / "directory.yaml"
SINK_PORT = 8025


def run_demo(host: str, port: int) -> None:
    app = create_app()
    instance = Path(app.instance_path)
    passwords = _prepare(app)
    redis = embedded_redis(str(instance))
    sink = Controller(Mailbox(str(instance / "mail")), hostname="127.0.0.1", port=SINK_PORT)
    sink.start()
    env = {
        **os.environ,
        "FORMSERVICE_DEMO": "1",
        "FORMSERVICE_REDIS_URL": f"unix://{redis.socket_file}",
        "FORMSERVICE_SMTP_HOST": "127.0.0.1",
        "FORMSERVICE_SMTP_PORT": str(SINK_PORT),
        "FORMSERVICE_BASE_URL": f"http://{host}:{port}",
    }
    _print_welcome(host, port, passwords)
    formservice = [sys.executable, "-m", "formservice.cli"]
    children = [
        subprocess.Popen([*formservice, "worker"], env=env),
        subprocess.Popen([*formservice, "web", "--host", host, "--port", str(port)], env=env),
    ]
    try:
        children[1].wait()
    except KeyboardInterrupt:
        pass
    finally:
        for child in children:
            child.send_signal(signal.SIGTERM)
        for child in children:
            child.wait(timeout=20)
        sink.stop()


def _prepare(app) -> dict[str, str]:
    """Migrate, load the demo directory and give every demo person a fresh password."""
    from sqlalchemy import select

    from ..extensions import db
    from ..migrate import upgrade
    from ..models import User
    from ..services.accounts import set_password
    from ..services.directory import import_directory

    with app.app_context():
        upgrade()
        import_directory(yaml.safe_load(DIRECTORY.read_text(encoding="utf-8")), actor="demo")
        passwords = {}
        for user in db.session.scalars(select(User).where(User.active).order_by(User.email)):
            passwords[user.email] = secrets.token_urlsafe(9)
            set_password(user, passwords[user.email])
    return passwords


def _print_welcome(host: str, port: int, passwords: dict[str, str]) -> None:
    click.echo(f"\nBUS-formservice (demo) körs på http://{host}:{port}/")
    click.echo(f"Inkorgen för skickad e-post: http://{host}:{port}/demo/epost\n")
    click.echo("Demokonton (lösenorden gäller tills demon startas om):")
    for email, password in passwords.items():
        click.echo(f"  {email:45} {password}")
    click.echo("\nAvsluta med Ctrl-C.\n")
