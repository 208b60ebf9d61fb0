"""formservice as an operator runs it: the console script for the CLI, `formservice web`
(gunicorn) and `formservice worker` as subprocesses (support.processes), each with the
environment it reads its settings from."""

from __future__ import annotations

import atexit
import os
import subprocess
import sys
import uuid
from collections.abc import Iterable
from pathlib import Path

from . import postgres
from .accounts import PASSWORD
from .paths import DEMO_DIRECTORY, ROOT
from .processes import Proc


def formservice_command() -> list[str]:
    """The installed `formservice` script next to this interpreter, else `python -m`."""
    script = Path(sys.executable).parent / "formservice"
    if script.exists():
        return [str(script)]
    return [sys.executable, "-m", "formservice.cli"]


def environment(database_url: str, redis_url: str, **settings: str) -> dict[str, str]:
    """This process's environment without any FORMSERVICE_ setting of its own, then a fresh
    secret key, the database, Redis and `settings` (FORMSERVICE_… names, string values)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("FORMSERVICE_")}
    env.update(
        {
            "FORMSERVICE_SECRET_KEY": "stack-secret-" + uuid.uuid4().hex,
            "FORMSERVICE_DATABASE_URL": database_url,
            "FORMSERVICE_REDIS_URL": redis_url,
            "PYTHONUNBUFFERED": "1",
            **settings,
        }
    )
    return env


def cli(
    args: list[str], env: dict[str, str], input_text: str | None = None, log_dir: Path | None = None
) -> str:
    """`formservice ARGS`; its output (also appended to log_dir/setup.log); fails with the
    output when the command fails."""
    result = subprocess.run(
        formservice_command() + args,
        env=env,
        cwd=ROOT,
        input=input_text,
        capture_output=True,
        text=True,
        timeout=300,
    )
    if log_dir is not None:
        with (log_dir / "setup.log").open("a") as log:
            log.write(f"$ formservice {' '.join(args)}\n{result.stdout}{result.stderr}\n")
    if result.returncode != 0:
        raise AssertionError(
            f"`formservice {' '.join(args)}` failed ({result.returncode}):\n"
            f"{result.stdout}\n{result.stderr}"
        )
    return result.stdout


def prepare_database(
    env: dict[str, str], people: Iterable[str], log_dir: Path | None = None
) -> None:
    """What an operator does on a new database: migrate, import the demo directory, and give
    `people` the test password."""
    cli(["db", "upgrade"], env, log_dir=log_dir)
    cli(["directory", "import", str(DEMO_DIRECTORY)], env, log_dir=log_dir)
    for email in people:
        cli(["users", "set-password", email], env, PASSWORD + "\n", log_dir)


_TEMPLATES: dict[tuple[str, ...], str] = {}


def prepared_database(
    prefix: str, people: Iterable[str], redis_url: str, log_dir: Path | None = None
) -> tuple[str, str]:
    """A new database as `prepare_database` leaves it: (name, URL). The first for these
    `people` in this process is prepared through the CLI, as an operator does, and kept as a
    template (dropped when the process ends); the others are copies of it, made by the server
    in milliseconds instead of six runs of the CLI."""
    key = tuple(sorted(people))
    if key not in _TEMPLATES:
        name, url = postgres.create_database("formservice_template")
        atexit.register(postgres.drop_database, name)
        prepare_database(environment(url, redis_url), key, log_dir)
        _TEMPLATES[key] = name
    return postgres.create_database(prefix, template=_TEMPLATES[key])


def web(
    env: dict[str, str], log_dir: Path, port: int, name: str = "web", workers: int | None = None
) -> Proc:
    """`formservice web` on 127.0.0.1:`port`, started (not yet answering)."""
    args = ["web", "--host", "127.0.0.1", "--port", str(port)]
    if workers is not None:
        args += ["--workers", str(workers)]
    return Proc(name, formservice_command() + args, env, log_dir).start()


def worker(env: dict[str, str], log_dir: Path, name: str = "worker", burst: bool = False) -> Proc:
    """`formservice worker` (`--burst`: until the queue is empty), started."""
    args = ["worker", "--burst"] if burst else ["worker"]
    return Proc(name, formservice_command() + args, env, log_dir).start()
