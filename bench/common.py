"""Shared benchmark machinery: databases, the live stack, seeding, a load generator, reports.

Everything here runs on this machine only: PostgreSQL and Redis on 127.0.0.1, servers bound to
127.0.0.1, an in-process SMTP sink. Every benchmark makes a PostgreSQL database of its own
(dropped at the end) and uses Redis DB 5 (flushed before and after) unless
FORMSERVICE_BENCH_REDIS_URL says otherwise. All data is synthetic.
"""

from __future__ import annotations

import contextlib
import ctypes
import hashlib
import http.client
import io
import json
import os
import platform
import random
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
DEMO_DIRECTORY = ROOT / "formservice" / "demo" / "directory.yaml"
PASSWORD = "bench-lösenord-123"
CHEF_A = "fia.familj@stad.example"  # chef of familjeenheten-skarpnack
SECRETARY = "sam.prevent@stad.example"  # secretary of skarpnack (and of every bench group)
PEOPLE = [CHEF_A, SECRETARY]
UNITS = [
    "familjeenheten-skarpnack",
    "grundskola-skarpnack",
    "forskola-skarpnack",
    "bup-farsta",
    "hc-soderstaden",
]


# --- settings -------------------------------------------------------------------------------


def postgres_base_url() -> str:
    return os.environ.get(
        "FORMSERVICE_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
    )


def libpq_url(db_url: str) -> str:
    """A SQLAlchemy database URL as plain psycopg (libpq) takes it."""
    from sqlalchemy.engine import make_url

    url = make_url(db_url).set(drivername="postgresql")
    return url.render_as_string(hide_password=False)


def redis_url() -> str:
    return os.environ.get("FORMSERVICE_BENCH_REDIS_URL", "redis://127.0.0.1:6379/5")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# --- database and Redis ---------------------------------------------------------------------


@contextlib.contextmanager
def database(prefix: str = "formservice_bench") -> Iterator[str]:
    """A fresh PostgreSQL database of our own; dropped afterwards (also on failure)."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    base = make_url(postgres_base_url())
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield base.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def flush_redis() -> None:
    from redis import Redis

    conn = Redis.from_url(redis_url(), socket_connect_timeout=5)
    try:
        conn.flushdb()
    finally:
        conn.close()


# --- SMTP sink ------------------------------------------------------------------------------


class SmtpSink:
    """An aiosmtpd server on 127.0.0.1 that counts what it receives (keeps nothing)."""

    def __init__(self) -> None:
        from aiosmtpd.controller import Controller

        self.host, self.port = "127.0.0.1", free_port()
        self.count = 0
        self._lock = threading.Lock()
        self._controller = Controller(self, hostname=self.host, port=self.port)

    async def handle_DATA(self, server, session, envelope):  # aiosmtpd handler hook
        with self._lock:
            self.count += 1
        return "250 OK"

    def __enter__(self) -> SmtpSink:
        self._controller.start()
        return self

    def __exit__(self, *exc) -> None:
        self._controller.stop()


# --- the app in this process ------------------------------------------------------------------


def app_config(db_url: str, smtp: SmtpSink | None = None, **extra) -> dict:
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


def make_app(db_url: str, smtp: SmtpSink | None = None, **extra):
    """The app in this process, on the benchmark database (migrated, directory imported)."""
    import yaml

    from formservice import create_app

    app = create_app(app_config(db_url, smtp, **extra))
    with app.app_context():
        from formservice.migrate import upgrade
        from formservice.services.accounts import find_user, set_password
        from formservice.services.directory import import_directory

        upgrade()
        import_directory(yaml.safe_load(DEMO_DIRECTORY.read_text(encoding="utf-8")))
        for email in PEOPLE:
            set_password(find_user(email), PASSWORD)
    return app


def subprocess_env(db_url: str, smtp: SmtpSink | None = None, **extra: str) -> dict[str, str]:
    """The environment of `formservice` subprocesses (web, worker, CLI)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("FORMSERVICE_")}
    for key, value in app_config(db_url, smtp).items():
        env[key] = str(value)
    env.update(extra)
    env["PYTHONUNBUFFERED"] = "1"
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    return env


def formservice_command() -> list[str]:
    script = Path(sys.executable).parent / "formservice"
    return [str(script)] if script.exists() else [sys.executable, "-m", "formservice.cli"]


def cli(args: list[str], env: dict, input_text: str | None = None) -> str:
    """`formservice ARGS`, as an operator runs it; raise with its output when it fails."""
    result = subprocess.run(
        formservice_command() + args,
        env=env,
        cwd=ROOT,
        input=input_text,
        capture_output=True,
        text=True,
        timeout=300,
    )
    if result.returncode != 0:
        raise RuntimeError(f"formservice {' '.join(args)}: {result.stdout}{result.stderr}")
    return result.stdout


def prepare_with_cli(env: dict) -> None:
    """What an operator does on a new database: migrate, import the directory, passwords."""
    cli(["db", "upgrade"], env)
    cli(["directory", "import", str(DEMO_DIRECTORY)], env)
    for email in PEOPLE:
        cli(["users", "set-password", email], env, input_text=PASSWORD + "\n")


# --- processes ------------------------------------------------------------------------------


def _die_with_parent() -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


class Process:
    """A subprocess in its own process group, logging to a file, stopped with its children."""

    def __init__(self, args: list[str], env: dict, log_dir: Path, name: str) -> None:
        self.name = name
        self.log_path = log_dir / f"{name}.log"
        self._log = self.log_path.open("w")
        self.popen = subprocess.Popen(
            args,
            env=env,
            cwd=ROOT,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=_die_with_parent,
        )

    @property
    def pid(self) -> int:
        return self.popen.pid

    def tail(self, chars: int = 3000) -> str:
        return self.log_path.read_text(errors="replace")[-chars:]

    def wait(self, timeout: float | None = None) -> int:
        return self.popen.wait(timeout=timeout)

    def stop(self) -> None:
        if self.popen.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.popen.pid, signal.SIGTERM)
            try:
                self.popen.wait(timeout=20)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.popen.pid, signal.SIGKILL)
                self.popen.wait(timeout=10)
        self._log.close()


def wait_http(url: str, procs: list[Process], seconds: float = 60) -> None:
    import urllib.error
    import urllib.request

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        for proc in procs:
            if proc.popen.poll() is not None:
                raise RuntimeError(f"{proc.name} exited during start-up:\n{proc.tail()}")
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer within {seconds} s")


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
    process: Process


@contextlib.contextmanager
def formservice_web(env: dict, log_dir: Path, workers: int = 2) -> Iterator[Server]:
    """`formservice web --workers N` (gunicorn, gthread) on a free loopback port."""
    port = free_port()
    env = env | {"FORMSERVICE_BASE_URL": f"http://127.0.0.1:{port}"}
    args = ["web", "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)]
    proc = Process(formservice_command() + args, env, log_dir, "formservice-web")
    try:
        wait_http(f"http://127.0.0.1:{port}/logga-in", [proc])
        yield Server(f"http://127.0.0.1:{port}", proc)
    finally:
        proc.stop()


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
    proc = Process(args, env, log_dir, module.replace("_app", "-web"))
    try:
        wait_http(f"http://127.0.0.1:{port}/form", [proc])
        yield Server(f"http://127.0.0.1:{port}", proc)
    finally:
        proc.stop()


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


class Client:
    """One keep-alive HTTP/1.1 connection to a loopback server, with a cookie jar."""

    def __init__(self, base_url: str) -> None:
        parts = urllib.parse.urlsplit(base_url)
        if parts.hostname not in ("127.0.0.1", "localhost", "::1"):
            raise ValueError("benchmarks only talk to loopback addresses")
        self.host, self.port = parts.hostname, parts.port
        self.cookies: dict[str, str] = {}
        self.conn = http.client.HTTPConnection(self.host, self.port, timeout=30)

    def request(self, method: str, path: str, body: bytes | None = None, headers=None):
        headers = dict(headers or {})
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        for attempt in (1, 2):
            try:
                self.conn.request(method, path, body=body, headers=headers)
                response = self.conn.getresponse()
                data = response.read()
                break
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self.conn.close()  # the server closed an idle keep-alive connection
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
                if attempt == 2:
                    raise
        for value in response.headers.get_all("Set-Cookie") or []:
            name, _, rest = value.partition("=")
            self.cookies[name.strip()] = rest.split(";", 1)[0]
        return response.status, response.headers, data

    def close(self) -> None:
        self.conn.close()


_CSRF = re.compile(
    rb'name="csrf_token" type="hidden" value="([^"]+)"|'
    rb'name="csrf_token" value="([^"]+)"'
)


def csrf_token(html: bytes) -> str:
    match = _CSRF.search(html)
    if not match:
        raise RuntimeError("no csrf_token on the page")
    return (match.group(1) or match.group(2)).decode()


def login(client: Client, email: str = CHEF_A, password: str = PASSWORD) -> None:
    status, _, page = client.request("GET", "/logga-in")
    body = urllib.parse.urlencode(
        {"csrf_token": csrf_token(page), "email": email, "password": password}
    ).encode()
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    status, _, _ = client.request("POST", "/logga-in", body, headers)
    if status != 302:
        raise RuntimeError(f"login as {email} failed ({status})")


class Sessions:
    """Logged-in cookie jars, one per client slot, made once and reused by every round (the
    login rate limit allows 30 attempts per address in 15 minutes)."""

    def __init__(self, base_url: str, email: str = CHEF_A) -> None:
        self.base_url, self.email = base_url, email
        self.jars: dict[int, dict[str, str]] = {}

    def __call__(self, client: Client, index: int) -> None:
        if index not in self.jars:
            login(client, self.email)
            self.jars[index] = dict(client.cookies)
        client.cookies = dict(self.jars[index])


def multipart(fields: list[tuple[str, str]], files: list[tuple[str, str, bytes]] = ()):
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
    state = [None] * clients
    conns = [Client(base_url) for _ in range(clients)]
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
    used = cpu() - cpu_before if cpu else None
    for conn in conns:
        conn.close()
    return LoadResult(label, len(latencies), errors[0], elapsed, latencies, statuses, used)


# --- synthetic data ---------------------------------------------------------------------------

WORDS = [
    "remissen",
    "mottagningen",
    "samverkan",
    "kontakt",
    "skolan",
    "verksamheten",
    "insatsen",
    "möte",
    "barnet",
    "familjen",
    "uppföljning",
    "ansvar",
    "planen",
    "överenskommelsen",
    "handläggare",
    "vecka",
    "besked",
    "utredning",
    "stöd",
    "elevhälsa",
    "vårdnadshavare",
    "hälsa",
    "samordning",
    "kallelse",
    "förfrågan",
    "rutinen",
    "svar",
    "tid",
    "information",
    "behandling",
    "bedömning",
    "resurs",
    "placering",
    "hemmet",
    "fritid",
    "kontaktperson",
    "återkoppling",
    "ärendet",
    "beslut",
]


def text(rng: random.Random, words: int, paragraphs: int = 1) -> str:
    """Synthetic Swedish-looking text without digits (passes the de-identification scan)."""
    parts = []
    for _ in range(paragraphs):
        body = " ".join(rng.choice(WORDS) for _ in range(words))
        parts.append(body[0].upper() + body[1:] + ".")
    return "\n".join(parts)


def pdf_bytes(pages: int, label: str = "Bilaga") -> bytes:
    """A small PDF with `pages` pages of text (pypdf only)."""
    from pypdf import PdfWriter
    from pypdf.generic import DecodedStreamObject, DictionaryObject, NameObject

    writer = PdfWriter()
    font = DictionaryObject(
        {
            NameObject("/Type"): NameObject("/Font"),
            NameObject("/Subtype"): NameObject("/Type1"),
            NameObject("/BaseFont"): NameObject("/Helvetica"),
        }
    )
    font_ref = writer._add_object(font)
    for n in range(pages):
        page = writer.add_blank_page(width=595, height=842)
        stream = DecodedStreamObject()
        stream.set_data(f"BT /F1 14 Tf 72 770 Td ({label} sida {n + 1}) Tj ET".encode())
        page[NameObject("/Contents")] = writer._add_object(stream)
        page[NameObject("/Resources")] = DictionaryObject(
            {NameObject("/Font"): DictionaryObject({NameObject("/F1"): font_ref})}
        )
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def reserve_ids(conn, table: str, n: int) -> list[int]:
    """n ids from the table's own sequence, so later inserts by the app do not collide."""
    from sqlalchemy import text as sql

    if n == 0:
        return []
    rows = conn.execute(
        sql(f"SELECT nextval(pg_get_serial_sequence('{table}', 'id')) FROM generate_series(1, :n)"),
        {"n": n},
    )
    return [r[0] for r in rows]


def user_id(conn, email: str) -> int:
    from sqlalchemy import text as sql

    return conn.execute(sql("SELECT id FROM users WHERE email = :e"), {"e": email}).scalar_one()


def add_group(conn, group_id: str, name: str) -> None:
    """A BUS group with the demo secretary and convener, and the demo units in it."""
    from sqlalchemy import text as sql

    conn.execute(
        sql(
            "INSERT INTO bus_groups (id, name, convener_id, secretary_id, active) "
            "SELECT :id, :name, convener_id, secretary_id, true FROM bus_groups "
            "WHERE id = 'skarpnack'"
        ),
        {"id": group_id, "name": name},
    )
    for unit in UNITS:
        conn.execute(
            sql("INSERT INTO unit_groups (unit_id, group_id) VALUES (:u, :g)"),
            {"u": unit, "g": group_id},
        )


def add_meeting(conn, group_id: str, meeting_date: date, place: str = "Stadsdelshuset") -> int:
    from sqlalchemy import insert

    from formservice.models import GroupMeeting

    (meeting_id,) = reserve_ids(conn, "group_meetings", 1)
    conn.execute(
        insert(GroupMeeting.__table__),
        [
            {
                "id": meeting_id,
                "group_id": group_id,
                "meeting_date": meeting_date,
                "place": place,
                "created_by_id": user_id(conn, SECRETARY),
                "created_at": datetime.now(UTC),
            }
        ],
    )
    return meeting_id


STATE_MIX = (("skickad", 0.35), ("besvarad", 0.30), ("behandlad", 0.20), ("avslutad", 0.15))
CHUNK = 2000


def seed_cases(
    conn,
    group_id: str,
    n: int,
    *,
    prefix: str,
    pdf_attachments: int = 0,
    other_attachments: int = 0,
    seed: int = 1,
    sent_from: datetime | None = None,
) -> list[int]:
    """n sent deviations of the group in a mix of states, with answers and closings where the
    state has them; `pdf_attachments` of them carry one small PDF each (2 pages), and
    `other_attachments` a PNG name. Bulk inserts (executemany), no ORM objects."""
    from sqlalchemy import insert

    from formservice.domain.deviation import AGE_GROUPS, DEFAULT_CATEGORIES, GENDERS
    from formservice.models import (
        Attachment,
        Deviation,
        DeviationAnswer,
        DeviationClosing,
        StoredFile,
    )

    rng = random.Random(seed)
    codes = [code for code, _ in DEFAULT_CATEGORIES]
    now = datetime.now(UTC)
    sent_from = sent_from or now - timedelta(days=120)
    span = (now - sent_from).total_seconds()
    author = user_id(conn, CHEF_A)
    secretary = user_id(conn, SECRETARY)
    ids = reserve_ids(conn, "deviations", n)
    states = [s for s, share in STATE_MIX for _ in range(round(share * n))]
    states = (states + ["skickad"] * n)[:n]
    rng.shuffle(states)
    deviations, answers, closings = [], [], []
    for i, (did, state) in enumerate(zip(ids, states, strict=True)):
        sent = sent_from + timedelta(seconds=rng.random() * span)
        reporting, receiving = rng.sample(UNITS, 2)
        answered = sent + timedelta(days=rng.randint(1, 45)) if state != "skickad" else None
        if answered and answered > now:
            answered = now
        deviations.append(
            {
                "id": did,
                "case_number": f"{prefix}-{i + 1:06d}",
                "state": state,
                "form_version": 1,
                "reporting_unit_id": reporting,
                "receiving_unit_id": receiving,
                "group_id": group_id,
                "created_by_id": author,
                "event_date": (sent - timedelta(days=rng.randint(1, 20))).date(),
                "categories": rng.sample(codes, rng.randint(1, 3)),
                "description": text(rng, 60, 2),
                "actions_taken": text(rng, 30),
                "bus_individ": False,
                "bus_individ_date": None,
                "proposal": text(rng, 15) if rng.random() < 0.6 else "",
                "child_gender": rng.choice(list(GENDERS)),
                "age_group": rng.choice(list(AGE_GROUPS)),
                "link_version": 2 if answered else 1,
                "created_at": sent,
                "sent_at": sent,
                "deadline": (sent + timedelta(days=30)).date(),
                "answered_at": answered,
                "closed_at": answered + timedelta(days=1) if state == "avslutad" else None,
            }
        )
        if answered:
            answers.append(
                {
                    "deviation_id": did,
                    "responder_name": "Ines Sved",
                    "responder_email": "ines.sved@region.example",
                    "assessment": text(rng, 40),
                    "actions_taken": text(rng, 20),
                    "planned_measures": [
                        {"action": text(rng, 5), "responsible": "BUP Farsta", "due": "2027-01-31"}
                    ],
                    "agrees": rng.choice(["ja", "delvis", "nej"]),
                    "raise_regional": False,
                    "created_at": answered,
                }
            )
        if state == "avslutad":
            closings.append(
                {
                    "deviation_id": did,
                    "meeting_id": None,  # filled in by the caller's meeting below
                    "assessment": rng.choice(["bekraftad", "delvis", "ej"]),
                    "measures": [
                        {"action": text(rng, 4), "unit": "BUP Farsta", "due": "2027-03-01"}
                    ],
                    "escalate": False,
                    "escalate_reason": "",
                    "closed_by_id": secretary,
                    "closed_at": answered + timedelta(days=1),
                }
            )
    for start in range(0, len(deviations), CHUNK):
        conn.execute(insert(Deviation.__table__), deviations[start : start + CHUNK])
    for start in range(0, len(answers), CHUNK):
        conn.execute(insert(DeviationAnswer.__table__), answers[start : start + CHUNK])
    if closings:
        meeting = add_meeting(conn, group_id, (now - timedelta(days=200)).date(), "Tidigare möte")
        for row in closings:
            row["meeting_id"] = meeting
        for start in range(0, len(closings), CHUNK):
            conn.execute(insert(DeviationClosing.__table__), closings[start : start + CHUNK])
    with_files = rng.sample(ids, min(n, pdf_attachments + other_attachments))
    if with_files:
        file_ids = reserve_ids(conn, "stored_files", len(with_files))
        files, links = [], []
        for k, (did, fid) in enumerate(zip(with_files, file_ids, strict=True)):
            if k < pdf_attachments:
                data = pdf_bytes(2, f"Bilaga {k + 1}")
                name, kind, pages = f"utredning-{k + 1}.pdf", "application/pdf", 2
            else:
                data = b"\x89PNG\r\n\x1a\n" + bytes(64)
                name, kind, pages = f"bild-{k + 1}.png", "image/png", None
            files.append(
                {
                    "id": fid,
                    "name": name,
                    "content_type": kind,
                    "size": len(data),
                    "sha256": hashlib.sha256(data).hexdigest(),
                    "data": data,
                    "created_at": now,
                }
            )
            links.append({"deviation_id": did, "file_id": fid, "page_count": pages})
        conn.execute(insert(StoredFile.__table__), files)
        conn.execute(insert(Attachment.__table__), links)
    return ids


def seed_meetings(conn, group_id: str, sip: int, bus_individ: int, *, seed: int = 2) -> None:
    """Held SIP meetings and BUS-individ records in the group over the last 120 days."""
    from sqlalchemy import insert

    from formservice.domain.deviation import GENDERS
    from formservice.models import BusIndivid, SipMeeting

    rng = random.Random(seed)
    now = datetime.now(UTC)
    author = user_id(conn, CHEF_A)
    rows = []
    for _ in range(sip):
        at = now - timedelta(days=rng.random() * 120)
        rows.append(
            {
                "state": "genomford",
                "meeting_type": rng.choice(["forsta", "uppfoljning"]),
                "group_id": group_id,
                "child_name": None,
                "child_personnummer": None,
                "child_gender": rng.choice(list(GENDERS)),
                "child_over_15": False,
                "guardians": [],
                "consent": {},
                "meeting_at": at,
                "initiator_unit_id": UNITS[0],
                "initiator_user_id": author,
                "invitees": [],
                "short_notice": rng.random() < 0.1,
                "created_at": at - timedelta(days=25),
                "sent_at": at - timedelta(days=24),
                "held_at": at,
            }
        )
    for start in range(0, len(rows), CHUNK):
        conn.execute(insert(SipMeeting.__table__), rows[start : start + CHUNK])
    rows = []
    for _ in range(bus_individ):
        day = (now - timedelta(days=rng.random() * 120)).date()
        rows.append(
            {
                "state": "genomford",
                "group_id": group_id,
                "sip_date": day - timedelta(days=30),
                "child_name": None,
                "child_gender": rng.choice(list(GENDERS)),
                "consent": {},
                "raised_by_unit_id": UNITS[0],
                "created_by_id": author,
                "convener_unit_id": UNITS[0],
                "chair_unit_id": UNITS[1],
                "participants": UNITS[:3],
                "meeting_date": day,
                "agreement_reached": rng.random() < 0.7,
                "agreements": [],
                "created_at": now,
                "held_at": datetime.combine(day, datetime.min.time(), UTC),
            }
        )
    for start in range(0, len(rows), CHUNK):
        conn.execute(insert(BusIndivid.__table__), rows[start : start + CHUNK])


# --- timing and reporting ---------------------------------------------------------------------


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def timed(fn: Callable[[], object]) -> tuple[float, object]:
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
    width = max(len(v.name) for v in verdicts)
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
