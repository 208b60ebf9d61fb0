"""The `formservice` command (SPEC §10).

Flask's `AppGroup` carries the commands: those that work on the database get the app context
from Flask (`with_appcontext`), and `app.test_cli_runner()` runs them in-process on a test's
app. The app is built lazily through Flask's `ScriptInfo`, only by a command that needs it, so
`formservice --help` works without any setting. `FlaskGroup` is not used: it builds the app to
list commands for `--help`, and adds `--app`, `--env-file`, `--debug` and plugin commands that
this command does not have.
"""

from __future__ import annotations

import getpass
import os
import sys
from pathlib import Path

import click
import yaml
from flask import Flask
from flask.cli import AppGroup, ScriptInfo, pass_script_info

from . import create_app


def _create_app() -> Flask:
    """The app from the environment; a missing or bad setting is a one-line error."""
    try:
        return create_app()
    except RuntimeError as exc:
        raise click.ClickException(str(exc)) from exc


@click.group(cls=AppGroup)
@click.pass_context
def main(ctx: click.Context) -> None:
    """BUS-formservice: avvikelser, SIP och styrgruppens sammanställning."""
    if ctx.obj is None:  # the test runner brings its own, with the test's app
        ctx.obj = ScriptInfo(create_app=_create_app, set_debug_flag=False)


@main.group("db")
def db_group() -> None:
    """Databasen."""


@db_group.command("upgrade")
def db_upgrade() -> None:
    """Skapa eller migrera databasen."""
    from .migrate import upgrade

    upgrade()
    click.echo("Databasen är uppdaterad.")


@main.group("directory")
def directory_group() -> None:
    """Katalogen över huvudmän, BUS-grupper och verksamheter."""


@directory_group.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def directory_import(file: Path) -> None:
    """Läs in katalogfilen FILE (YAML); samma fil två gånger ändrar ingenting."""
    from .services.directory import DirectoryError, import_directory

    try:
        summary = import_directory(yaml.safe_load(file.read_text(encoding="utf-8")))
    except (DirectoryError, yaml.YAMLError) as exc:
        raise click.ClickException(f"Katalogen lästes inte in: {exc}") from exc
    click.echo(f"Katalogen är inläst: {len(summary.changes)} ändringar.")


@directory_group.command("export")
@click.argument("file", required=False, type=click.Path(dir_okay=False, path_type=Path))
def directory_export(file: Path | None) -> None:
    """Skriv dagens katalog i samma format till FILE (standard ut utan FILE)."""
    from .services.directory import export_text

    text = export_text("system")
    if file is None:
        click.echo(text, nl=False)
        return
    file.write_text(text, encoding="utf-8")
    click.echo(f"Katalogen är exporterad till {file}.")


@main.group("users")
def users_group() -> None:
    """Konton."""


@users_group.command("set-password")
@click.argument("email")
def users_set_password(email: str) -> None:
    """Sätt lösenord för EMAIL (läses från standard in när den inte är en terminal)."""
    from forms.accounts import password_message

    from .services.accounts import WeakPassword, find_user, set_password

    password = _read_password()
    user = find_user(email)
    if user is None:
        raise click.ClickException("Det finns ingen person med den e-postadressen i katalogen.")
    try:
        set_password(user, password)
    except WeakPassword as exc:
        message = password_message(exc.problem)  # the same rule and words as the web form
        raise click.ClickException(message[0].upper() + message[1:]) from exc
    click.echo("Lösenordet är satt.")


def _read_password() -> str:
    if not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass("Lösenord: ")
    if first != getpass.getpass("Upprepa lösenordet: "):
        raise click.ClickException("Lösenorden är inte lika.")
    return first


@main.command("web", with_appcontext=False)
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--workers", default=2, show_default=True, type=int)
@pass_script_info
def web(info: ScriptInfo, host: str, port: int, workers: int) -> None:
    """Kör webbtjänsten med en produktionsserver (gunicorn)."""
    from .server import MetricsFolder, serve

    with MetricsFolder():
        app = info.load_app()  # fail early, in this process, on a missing setting
        serve(host, port, workers, log_format=app.config["FORMSERVICE_LOG_FORMAT"])


@main.command("check")
def check() -> None:
    """Är tjänsten redo? Databas, Redis, arbetare och LibreOffice (som GET /readyz)."""
    from flask import current_app

    from .health import readiness

    checks = readiness(current_app._get_current_object())  # type: ignore[attr-defined]  # a LocalProxy, typed as Flask
    for part in checks:
        click.echo(f"{part.name:<12} {'ok' if part.ok else 'fail'}" + _reason(part.reason))
    if not all(part.ok for part in checks):
        raise click.ClickException("Tjänsten är inte redo.")
    click.echo("Tjänsten är redo.")


def _reason(reason: str) -> str:
    return f" ({reason})" if reason else ""


@main.command("worker", with_appcontext=False)
@click.option("--burst", is_flag=True, help="Arbeta tills kön är tom och avsluta.")
@pass_script_info
def worker(info: ScriptInfo, burst: bool) -> None:
    """Kör en RQ-arbetare (med de periodiska jobben)."""
    from worker.__main__ import run

    info.load_app()  # fail early, with a message rather than a traceback, on a missing setting
    run(burst=burst)  # Worker.work() is False when no job ran: not a failure


@main.command("demo-data")
@click.option("--groups", default=1, show_default=True, type=click.IntRange(1, 1000))
@click.option("--years", default=1, show_default=True, type=click.IntRange(1, 30))
@click.option("--seed", default=1, show_default=True, type=int, help="Samma frö ger samma data.")
def demo_data(groups: int, years: int, seed: int) -> None:
    """Fyll en tom databas med påhittade BUS-grupper och års arbete, genom tjänsterna."""
    import time

    from .demo.data import NotEmpty, events_of, generate

    started = time.monotonic()
    try:
        summary = generate(groups, years, seed)
    except NotEmpty as exc:
        raise click.ClickException(
            "Databasen har redan en katalog eller ärenden; demo-data fyller bara en tom databas."
        ) from exc
    figures = ", ".join(f"{n} {name}" for name, n in events_of(summary))
    click.echo(f"Demodata är inläst på {time.monotonic() - started:.1f} s: {figures}.")


@main.command("demo", with_appcontext=False)
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--mail-port", default=8025, show_default=True, type=int, help="E-postlådans port.")
def demo(host: str, port: int, mail_port: int) -> None:
    """Allt på en maskin: databas, Redis, e-postlåda, demokatalog, webb och arbetare."""
    from .demo.run import run_demo

    os.environ["FORMSERVICE_DEMO"] = "1"
    run_demo(host, port, mail_port)


if __name__ == "__main__":
    main()
