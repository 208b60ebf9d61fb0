"""`formservice demo`: database, embedded Redis, mail sink, demo directory, web and worker."""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from types import FrameType

import click
import yaml
from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Mailbox
from flask import Flask

from .. import create_app
from ..queue import embedded_redis

DIRECTORY = Path(__file__).resolve().parent / "directory.yaml"
SINK_PORT = 8025


class _Stop(Exception):
    """SIGTERM or SIGHUP reached the demo: stop as on Ctrl-C."""


def _stop_signal(signum: int, frame: FrameType | None) -> None:
    raise _Stop(signum)


def run_demo(host: str, port: int, mail_port: int = SINK_PORT) -> None:
    # A service manager, a container runtime or a closed terminal stops the demo with SIGTERM
    # or SIGHUP, which would end this process at once and leave web and worker running.
    for signum in STOP_SIGNALS:
        signal.signal(signum, _stop_signal)
    app = create_app()
    instance = Path(app.instance_path)
    passwords, loaded = _prepare(app)
    redis = embedded_redis(str(instance))
    sink = Controller(Mailbox(instance / "mail"), hostname="127.0.0.1", port=mail_port)
    sink.start()
    env = {
        **os.environ,
        "FORMSERVICE_DEMO": "1",
        "FORMSERVICE_INSTANCE_PATH": str(instance),
        "FORMSERVICE_REDIS_URL": f"unix://{redis.socket_file}",
        "FORMSERVICE_SMTP_HOST": "127.0.0.1",
        "FORMSERVICE_SMTP_PORT": str(mail_port),
        "FORMSERVICE_BASE_URL": f"http://{host}:{port}",
    }
    _print_welcome(host, port, passwords, loaded)
    formservice = [sys.executable, "-m", "formservice.cli"]
    children: list[subprocess.Popen] = []
    try:
        # Each child leads its own process group, so stopping one stops its own children too
        # (gunicorn's workers, the worker's scheduler); this process stops them all, whichever
        # way it is stopped. The web server first: the worker starts on the year's digest
        # (LibreOffice) at once, which would take the CPU the login page waits for.
        web = subprocess.Popen(
            [*formservice, "web", "--host", host, "--port", str(port)],
            env=env,
            start_new_session=True,
        )
        children.append(web)
        _wait_answering(host, port, web)
        children.insert(
            0, subprocess.Popen([*formservice, "worker"], env=env, start_new_session=True)
        )
        web.wait()
    except (KeyboardInterrupt, _Stop):
        pass
    finally:
        for signum in STOP_SIGNALS:
            signal.signal(signum, signal.SIG_IGN)  # a second signal must not cut this short
        stop_children(children)
        sink.stop()


#: How long the worker waits for the web server to answer before it starts anyway.
LISTEN_SECONDS = 120


def _wait_answering(host: str, port: int, web: subprocess.Popen) -> None:
    """Until the web server answers `/healthz`, stops, or `LISTEN_SECONDS` have passed."""
    address = "127.0.0.1" if host in ("", "0.0.0.0") else "[::1]" if host == "::" else host
    if ":" in address and not address.startswith("["):
        address = f"[{address}]"
    url = f"http://{address}:{port}/healthz"
    direct = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # never a proxy
    deadline = time.monotonic() + LISTEN_SECONDS
    while web.poll() is None and time.monotonic() < deadline:
        with contextlib.suppress(OSError), direct.open(url, timeout=2):
            return
        time.sleep(0.1)


STOP_SIGNALS = (signal.SIGTERM, signal.SIGHUP)
STOP_SECONDS = 20


def stop_children(children: list[subprocess.Popen]) -> None:
    """SIGTERM to each child's process group, then SIGKILL to a group that does not stop."""
    for child in children:
        _signal_group(child, signal.SIGTERM)
    for child in children:
        try:
            child.wait(timeout=STOP_SECONDS)
        except subprocess.TimeoutExpired:
            _signal_group(child, signal.SIGKILL)
            child.wait()
        _signal_group(child, signal.SIGKILL)  # what the child left behind in its group


def _signal_group(child: subprocess.Popen, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError):  # the group is gone already
        os.killpg(child.pid, signum)


#: The demo's year of work: one group (Lokal BUS Skarpnäck), the same data on every machine
#: that starts it on the same day.
DEMO_GROUP = "skarpnack"
DEMO_SEED = 16


def _prepare(app: Flask) -> tuple[dict[str, str], str]:
    """Migrate, load the demo directory, give every demo person a fresh password and, on the
    first start, a year of the group's work (`demo.data.fill`); what was loaded, in words."""
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
            passwords[user.email] = secrets.token_urlsafe(12)
            set_password(user, passwords[user.email])
        loaded = load_year()
    return passwords, loaded


def load_year() -> str:
    """A year of Lokal BUS Skarpnäck's work, unless the demo's database has cases already
    (a restarted demo keeps what it had and what was done in it)."""
    import random
    import time

    from .data import events_of, fill, has_cases

    if has_cases():
        return "Demodatabasen har redan ärenden; inget nytt lästes in."
    started = time.monotonic()
    summary = fill(1, random.Random(DEMO_SEED), group_ids=[DEMO_GROUP])
    figures = ", ".join(f"{n} {name}" for name, n in events_of(summary) if name != "BUS-grupper")
    return f"Ett års ärenden lästes in på {time.monotonic() - started:.0f} s: {figures}."


def _print_welcome(host: str, port: int, passwords: dict[str, str], loaded: str) -> None:
    click.echo(f"\n{loaded}")
    click.echo(f"\nBUS-formservice (demo) körs på http://{host}:{port}/")
    click.echo(f"Inkorgen för skickad e-post: http://{host}:{port}/demo/epost\n")
    click.echo("Demokonton (inloggningssidan har en knapp för var och en; lösenorden gäller tills")
    click.echo("demon startas om):")
    for email, password in passwords.items():
        click.echo(f"  {email:45} {password}")
    click.echo(
        "\nAdministratören ställer in en autentiseringsapp (TOTP) vid första inloggningen "
        "(FORMSERVICE_REQUIRE_2FA)."
    )
    click.echo("\nAvsluta med Ctrl-C.\n")
