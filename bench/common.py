"""Benchmark machinery: the databases and servers of a run, a load generator, reports.

What tests and benchmarks share (a database of one's own, processes that never outlive the
run, the SMTP sink, the HTTP client, synthetic data through the services and the models) is
in tests/support/. Everything runs on this machine only: PostgreSQL and Redis on 127.0.0.1,
servers bound to 127.0.0.1. Every benchmark makes a PostgreSQL database of its own (dropped at
the end) and uses Redis DB 5 (flushed before and after) unless FORMSERVICE_BENCH_REDIS_URL
says otherwise. All data is synthetic.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

from flask import Flask

from tests.support import postgres, redis
from tests.support.accounts import PASSWORD
from tests.support.http import Client
from tests.support.paths import DOCS as DOCS
from tests.support.paths import ROOT
from tests.support.ports import free_port
from tests.support.processes import Proc
from tests.support.seed import CHEF_A, SECRETARY
from tests.support.smtp import Sink
from tests.support.stack import environment, prepare_database, web
from tests.support.waiting import wait_for_http

PEOPLE = [CHEF_A, SECRETARY]
T = TypeVar("T")


# --- settings -------------------------------------------------------------------------------


def postgres_base_url() -> str:
    return postgres.base_url("FORMSERVICE_BENCH_POSTGRES_URL")


def redis_url() -> str:
    return os.environ.get("FORMSERVICE_BENCH_REDIS_URL", "redis://127.0.0.1:6379/5")


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# --- database and Redis ---------------------------------------------------------------------


def database(prefix: str = "formservice_bench") -> contextlib.AbstractContextManager[str]:
    """A fresh PostgreSQL database of our own; dropped afterwards (also on failure)."""
    return postgres.temporary_database(prefix, postgres_base_url())


def flush_redis() -> None:
    redis.flush(redis_url())


# --- the app in this process ------------------------------------------------------------------


def app_config(db_url: str, smtp: Sink | None = None, **extra: object) -> dict:
    config = {
        "FORMSERVICE_SECRET_KEY": "bench-secret-" + uuid.uuid4().hex,
        "FORMSERVICE_DATABASE_URL": db_url,
        "FORMSERVICE_REDIS_URL": redis_url(),
        "FORMSERVICE_BASE_URL": "http://127.0.0.1:5000",
        "FORMSERVICE_DELIVERY_BACKOFF_SECONDS": 1,
    }
    if smtp is not None:
        config |= {"FORMSERVICE_SMTP_HOST": smtp.host, "FORMSERVICE_SMTP_PORT": smtp.port}
    return config | extra


def make_app(db_url: str, smtp: Sink | None = None, **extra: object) -> Flask:
    """The app in this process, on the benchmark database (migrated, directory imported)."""
    import yaml

    from formservice import create_app
    from tests.support.paths import DEMO_DIRECTORY

    app = create_app(app_config(db_url, smtp, **extra))
    with app.app_context():
        from formservice.migrate import upgrade
        from formservice.services.accounts import find_user, set_password
        from formservice.services.directory import import_directory

        upgrade()
        import_directory(yaml.safe_load(DEMO_DIRECTORY.read_text(encoding="utf-8")))
        for email in PEOPLE:
            user = find_user(email)
            assert user is not None, f"{email} is not in the demo directory"
            set_password(user, PASSWORD)
    return app


def subprocess_env(db_url: str, smtp: Sink | None = None, **extra: str) -> dict[str, str]:
    """The environment of `formservice` subprocesses (web, worker, CLI)."""
    settings = {k: str(v) for k, v in app_config(db_url, smtp).items()}
    env = environment(db_url, redis_url(), **(settings | extra))
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    return env


def prepare_with_cli(env: dict) -> None:
    """What an operator does on a new database: migrate, import the directory, passwords."""
    prepare_database(env, PEOPLE)


# --- servers --------------------------------------------------------------------------------


@contextlib.contextmanager
def log_directory(prefix: str) -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix=prefix))
    try:
        yield path
    finally:
        if os.environ.get("FORMSERVICE_BENCH_KEEP_LOGS"):
            log(f"logs kept in {path}")
        else:
            shutil.rmtree(path, ignore_errors=True)


@dataclass
class Server:
    url: str
    process: Proc


@contextlib.contextmanager
def formservice_web(env: dict, log_dir: Path, workers: int = 2) -> Iterator[Server]:
    """`formservice web --workers N` (gunicorn, gthread) on a free loopback port."""
    port = free_port()
    env = env | {"FORMSERVICE_BASE_URL": f"http://127.0.0.1:{port}"}
    proc = web(env, log_dir, port, "formservice-web", workers)
    try:
        wait_for_http(f"http://127.0.0.1:{port}/logga-in", [proc], on_fail=proc.tail)
        yield Server(f"http://127.0.0.1:{port}", proc)
    finally:
        proc.stop(timeout=20)


def baseline_web(log_dir: Path, workers: int = 2) -> contextlib.AbstractContextManager[Server]:
    """The bare Flask + WTForms app under the same gunicorn settings (bench/baseline_app.py)."""
    return _bench_web("baseline_app", [], log_dir, workers)


def floor_web(
    db_url: str, log_dir: Path, workers: int = 2
) -> contextlib.AbstractContextManager[Server]:
    """The bare app storing a valid POST by hand on `db_url` (bench/floor_app.py)."""
    urls = ["--database-url", db_url, "--redis-url", redis_url()]
    return _bench_web("floor_app", urls, log_dir, workers)


@contextlib.contextmanager
def _bench_web(module: str, extra: list[str], log_dir: Path, workers: int) -> Iterator[Server]:
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1"}
    args = [sys.executable, "-m", f"bench.{module}", "--port", str(port)]
    args += ["--workers", str(workers), *extra]
    proc = Proc(module.replace("_app", "-web"), args, env, log_dir).start()
    try:
        wait_for_http(f"http://127.0.0.1:{port}/form", [proc], on_fail=proc.tail)
        yield Server(f"http://127.0.0.1:{port}", proc)
    finally:
        proc.stop(timeout=20)


# --- CPU time of server processes ---------------------------------------------------------------


def _stat(pid: int) -> list[str] | None:
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return raw[raw.rindex(")") + 2 :].split()  # fields from 3 (state) on


_TICK = os.sysconf("SC_CLK_TCK")


def session_pids(sid: int) -> list[int]:
    """Every live process in the session `sid` (a server started with start_new_session)."""
    pids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            fields = _stat(int(entry))
            if fields and int(fields[3]) == sid:  # field 6: session id
                pids.append(int(entry))
    return pids


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU of the processes (and of their reaped children)."""
    total = 0
    for pid in pids:
        fields = _stat(pid)
        if fields:
            total += sum(int(x) for x in fields[11:15])  # utime stime cutime cstime
    return total / _TICK


def postgres_backend_pids(db_url: str) -> list[int]:
    """The server processes serving our database (their CPU is part of a request's cost)."""
    from sqlalchemy import create_engine
    from sqlalchemy import text as sql
    from sqlalchemy.engine import make_url

    url = make_url(db_url)
    engine = create_engine(url.set(database="postgres"))
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                sql("SELECT pid FROM pg_stat_activity WHERE datname = :d"), {"d": url.database}
            )
            return [r[0] for r in rows]
    finally:
        engine.dispose()


class CpuProbe:
    """CPU seconds used by a server's process session and our database's backends."""

    def __init__(self, session_id: int, db_url: str | None = None) -> None:
        self.session_id, self.db_url = session_id, db_url

    def __call__(self) -> float:
        pids = session_pids(self.session_id)
        if self.db_url:
            pids += postgres_backend_pids(self.db_url)
        return cpu_seconds(pids)


# --- HTTP load generator ----------------------------------------------------------------------


class Sessions:
    """Logged-in cookie jars, one per client slot, made once and reused by every round (the
    login rate limit allows 30 attempts per address in 15 minutes)."""

    def __init__(self, base_url: str, email: str = CHEF_A) -> None:
        self.base_url, self.email = base_url, email
        self.jars: dict[int, dict[str, str]] = {}

    def __call__(self, client: Client, index: int) -> None:
        if index not in self.jars:
            client.login(self.email)
            self.jars[index] = dict(client.cookies)
        client.cookies = dict(self.jars[index])


def multipart(
    fields: list[tuple[str, str]], files: Sequence[tuple[str, str, bytes]] = ()
) -> tuple[bytes, dict[str, str]]:
    """A multipart/form-data body as a browser sends it (an empty file input included)."""
    boundary = "----formservicebench" + uuid.uuid4().hex
    out = io.BytesIO()
    for name, value in fields:
        out.write(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode())
        out.write(value.encode() + b"\r\n")
    for name, filename, data in files:
        out.write(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; '
            f'filename="{filename}"\r\nContent-Type: application/octet-stream\r\n\r\n'.encode()
        )
        out.write(data + b"\r\n")
    out.write(f"--{boundary}--\r\n".encode())
    return out.getvalue(), {"Content-Type": f"multipart/form-data; boundary={boundary}"}


@dataclass
class LoadResult:
    label: str
    requests: int
    errors: int
    seconds: float
    latencies: list[float] = field(repr=False)
    statuses: dict[int, int] = field(default_factory=dict)
    cpu: float | None = None  # server CPU seconds during the run (CpuProbe)

    @property
    def cpu_ms_per_request(self) -> float | None:
        ok = self.requests - self.errors
        return None if self.cpu is None or not ok else self.cpu / ok * 1000

    @property
    def rps(self) -> float:
        return (self.requests - self.errors) / self.seconds if self.seconds else 0.0

    def pct(self, p: float) -> float:
        return percentile(self.latencies, p) * 1000


def percentile(values: list[float], p: float) -> float:
    """The p-th percentile (nearest rank); 0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, min(len(ordered), int(round(p / 100 * len(ordered) + 0.5))))
    return ordered[rank - 1]


def run_load(
    label: str,
    base_url: str,
    setup: Callable[[Client, int], object],
    step: Callable[[Client, object], int],
    *,
    clients: int,
    count: int,
    seconds: float,
    expect: tuple[int, ...] = (200,),
    cpu: Callable[[], float] | None = None,
) -> LoadResult:
    """`clients` threads, each with its own keep-alive connection, run `step` until `count`
    requests are done or `seconds` have passed, whichever comes first. `setup` (login, CSRF
    token) is not timed. Each step returns the HTTP status; others than `expect` are errors."""
    state: list[object] = [None] * clients
    conns = [Client(base_url, keep_alive=True) for _ in range(clients)]
    for i, conn in enumerate(conns):
        state[i] = setup(conn, i)
    remaining = [count]
    lock = threading.Lock()
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    errors = [0]
    start_gate = threading.Barrier(clients + 1)
    deadline = [0.0]

    def worker(i: int) -> None:
        start_gate.wait()
        own: list[float] = []
        own_status: dict[int, int] = {}
        own_errors = 0
        while True:
            with lock:
                if remaining[0] <= 0 or time.perf_counter() >= deadline[0]:
                    break
                remaining[0] -= 1
            t0 = time.perf_counter()
            try:
                status = step(conns[i], state[i])
            except Exception:  # noqa: BLE001  (counted, never fatal)
                status = -1
            own.append(time.perf_counter() - t0)
            own_status[status] = own_status.get(status, 0) + 1
            own_errors += status not in expect
        with lock:
            latencies.extend(own)
            errors[0] += own_errors
            for k, v in own_status.items():
                statuses[k] = statuses.get(k, 0) + v

    threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(clients)]
    for thread in threads:
        thread.start()
    cpu_before = cpu() if cpu else None
    t0 = time.perf_counter()
    deadline[0] = t0 + seconds
    start_gate.wait()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - t0
    used = cpu() - cpu_before if cpu and cpu_before is not None else None
    for conn in conns:
        conn.close()
    return LoadResult(label, len(latencies), errors[0], elapsed, latencies, statuses, used)


# --- timing and reporting ---------------------------------------------------------------------


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def timed(fn: Callable[[], T]) -> tuple[float, T]:
    t0 = time.perf_counter()
    result = fn()
    return time.perf_counter() - t0, result


def machine() -> dict[str, str]:
    """nproc, memory, CPU model, load, Python and LibreOffice versions."""
    cpu = "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem = "unknown"
    with contextlib.suppress(OSError):
        kb = int(Path("/proc/meminfo").read_text().split()[1])
        mem = f"{kb / 1024 / 1024:.1f} GiB"
    soffice = "not found"
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        soffice = subprocess.run(
            ["soffice", "--version"], capture_output=True, text=True, timeout=60
        ).stdout.strip()
    return {
        "nproc": str(os.cpu_count()),
        "memory": mem,
        "cpu": cpu,
        "load average (1/5/15 min)": " ".join(f"{x:.2f}" for x in os.getloadavg()),
        "python": platform.python_version(),
        "libreoffice": soffice,
    }


def print_machine() -> None:
    for key, value in machine().items():
        print(f"# {key}: {value}")


@dataclass
class Verdict:
    name: str
    figure: str
    target: str
    ok: bool


def report(
    verdicts: list[Verdict], results_name: str | None = None, extra: dict | None = None
) -> int:
    """Print the verdicts; write them as JSON to bench/results/NAME.json; 0 if all met."""
    print()
    width = max((len(v.name) for v in verdicts), default=0)
    if not verdicts:
        print("no target applies at these sizes (a quick look)")
    for v in verdicts:
        mark = "MET   " if v.ok else "MISSED"
        print(f"{mark} {v.name:<{width}}  {v.figure}   (target {v.target})")
    if results_name:
        out = ROOT / "bench" / "results"
        out.mkdir(exist_ok=True)
        payload = {
            "when": datetime.now(UTC).isoformat(timespec="seconds"),
            "machine": machine(),
            "verdicts": [v.__dict__ for v in verdicts],
            **(extra or {}),
        }
        (out / f"{results_name}.json").write_text(json.dumps(payload, indent=2, default=str))
    missed = [v.name for v in verdicts if not v.ok]
    if missed:
        print(f"\nTarget missed: {', '.join(missed)} (exit status 1)")
        return 1
    return 0
