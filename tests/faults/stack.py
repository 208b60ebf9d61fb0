"""Real processes for fault injection: a private Redis, gunicorn, RQ workers, a TCP proxy in front
of PostgreSQL, an SMTP sink that can misbehave, and an HTTP client with a cookie jar.

Every subprocess runs in its own process group. Groups are killed on `stop()`, in fixture
teardown, at interpreter exit, on SIGTERM/SIGHUP to pytest, and — should pytest itself be killed
with SIGKILL — by a small reaper process that watches pytest's pid.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import ctypes
import http.cookiejar
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections import Counter
from dataclasses import dataclass
from email import message_from_bytes, policy
from pathlib import Path

from aiosmtpd.controller import Controller
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from tests.conftest import ROOT, postgres_base_url

# ---------------------------------------------------------------------------- process groups

_LIVE: dict[int, Proc] = {}  # pgid -> process
_REAPER: subprocess.Popen | None = None
_REAPER_FILE: Path | None = None
_HANDLERS_INSTALLED = False

_REAPER_CODE = r"""
import json, os, shutil, signal, sys, time
parent, path = int(sys.argv[1]), sys.argv[2]
while True:
    try:
        os.kill(parent, 0)
    except ProcessLookupError:
        break
    time.sleep(1)
try:
    state = json.load(open(path))
except (OSError, ValueError):
    state = {}
for pgid in state.get("pgids", []):
    try:
        os.killpg(pgid, signal.SIGKILL)
    except OSError:
        pass
if state.get("database"):
    from sqlalchemy import create_engine, text

    admin = create_engine(state["admin_url"], isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text('DROP DATABASE IF EXISTS "%s" WITH (FORCE)' % state["database"]))
if state.get("directory"):
    shutil.rmtree(state["directory"], ignore_errors=True)
"""


def formservice_command() -> list[str]:
    """The installed `formservice` script next to this interpreter, else `python -m`."""
    script = Path(sys.executable).parent / "formservice"
    if script.exists():
        return [str(script)]
    return [sys.executable, "-m", "formservice.cli"]


def _die_with_parent() -> None:
    """In the child: SIGKILL when pytest's main thread goes away (Linux prctl)."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


#: What the reaper removes besides the process groups: {"database", "admin_url", "directory"}.
REAPER_EXTRA: dict[str, str] = {}


def _write_reaper_file() -> None:
    if _REAPER_FILE is not None:
        _REAPER_FILE.write_text(json.dumps({"pgids": list(_LIVE), **REAPER_EXTRA}))


def _ensure_safety_nets(log_dir: Path) -> None:
    """atexit, SIGTERM/SIGHUP handlers and the reaper: no process group outlives pytest."""
    global _REAPER, _REAPER_FILE, _HANDLERS_INSTALLED
    if not _HANDLERS_INSTALLED:
        atexit.register(kill_all)
        for signum in (signal.SIGTERM, signal.SIGHUP):
            previous = signal.getsignal(signum)

            def handler(number, frame, previous=previous):
                kill_all()
                if callable(previous):
                    previous(number, frame)
                else:
                    raise KeyboardInterrupt

            signal.signal(signum, handler)
        _HANDLERS_INSTALLED = True
    if _REAPER is None or _REAPER.poll() is not None:
        _REAPER_FILE = log_dir / "process-groups"
        _write_reaper_file()
        _REAPER = subprocess.Popen(
            [sys.executable, "-c", _REAPER_CODE, str(os.getpid()), str(_REAPER_FILE)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )


def stop_reaper() -> None:
    global _REAPER
    REAPER_EXTRA.clear()
    _write_reaper_file()
    if _REAPER is not None and _REAPER.poll() is None:
        _REAPER.kill()
        _REAPER.wait(timeout=5)
    _REAPER = None


def kill_all() -> None:
    """SIGKILL every process group still registered (used by the safety nets)."""
    for proc in list(_LIVE.values()):
        proc.kill()


class Proc:
    """One subprocess in its own process group, with its output in a log file."""

    def __init__(self, name: str, args: list[str], env: dict, log_dir: Path) -> None:
        self.name, self.args, self.env, self.log_dir = name, args, env, log_dir
        self.log_path = log_dir / f"{name}.log"
        self.popen: subprocess.Popen | None = None

    def start(self) -> Proc:
        _ensure_safety_nets(self.log_dir)
        log = self.log_path.open("a")
        log.write(f"===== start {time.strftime('%H:%M:%S')}: {' '.join(self.args)}\n")
        log.flush()
        self.popen = subprocess.Popen(
            self.args,
            env=self.env,
            cwd=ROOT,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=_die_with_parent,
        )
        log.close()
        _LIVE[self.popen.pid] = self
        _write_reaper_file()
        return self

    @property
    def pid(self) -> int:
        assert self.popen is not None
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def _signal_group(self, signum: int) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.pid, signum)

    def _forget(self) -> None:
        if self.popen is not None:
            _LIVE.pop(self.popen.pid, None)
            _write_reaper_file()

    def kill(self) -> None:
        """SIGKILL the whole process group (a crash, or the last resort)."""
        if self.popen is None:
            return
        self._signal_group(signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.popen.wait(timeout=10)
        self._forget()

    def stop(self, timeout: float = 15) -> None:
        """SIGTERM the group, then SIGKILL whatever is left after `timeout`."""
        if self.popen is None:
            return
        if self.popen.poll() is None:
            self._signal_group(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.popen.wait(timeout=timeout)
        self.kill()  # the group may hold children even after the leader exited

    def group_pids(self) -> list[int]:
        """Every live process in this process group."""
        pids = []
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                if os.getpgid(int(entry)) == self.pid:
                    pids.append(int(entry))
            except (ProcessLookupError, PermissionError):
                continue
        return pids

    def tail(self, chars: int = 4000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return ""


def wait_for(predicate, seconds: float, what: str, interval: float = 0.2, on_fail=None):
    """Poll until `predicate()` is truthy; fail with `what` (and extra detail) otherwise."""
    deadline = time.monotonic() + seconds
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            detail = on_fail() if on_fail else ""
            raise AssertionError(f"Timed out after {seconds} s waiting for {what}. {detail}")
        time.sleep(interval)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=0.5):
        return True
    return False


# ---------------------------------------------------------------------------- private Redis


class RedisServer:
    """A redis-server of our own on a fixed port, to crash and restart at will."""

    def __init__(self, log_dir: Path, port: int | None = None) -> None:
        self.port = port or free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc = Proc(
            "redis",
            [
                "/usr/bin/redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--daemonize",
                "no",
            ],
            {"PATH": os.environ.get("PATH", "/usr/bin:/bin")},
            log_dir,
        )

    def ping(self) -> bool:
        from redis import Redis

        conn = Redis.from_url(self.url, socket_connect_timeout=0.5, socket_timeout=1)
        try:
            return bool(conn.ping())
        except Exception:
            return False
        finally:
            conn.close()

    def start(self) -> RedisServer:
        self.proc.start()
        wait_for(self.ping, 15, f"redis-server on port {self.port}", on_fail=self.proc.tail)
        return self

    def crash(self) -> None:
        """SIGKILL: everything in it is lost, clients see connection refused."""
        self.proc.kill()
        wait_for(lambda: not port_open(self.port), 10, "Redis to be gone")

    def connection(self):
        from redis import Redis

        return Redis.from_url(self.url, socket_connect_timeout=2, socket_timeout=10)


# ---------------------------------------------------------------------------- database proxy


class TcpProxy:
    """A port forwarder (threads) that can drop every connection and refuse new ones."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.port = free_port()
        self._listener: socket.socket | None = None
        self._accepting = threading.Event()
        self._thread: threading.Thread | None = None
        self._pairs: set[tuple[socket.socket, socket.socket]] = set()
        self._lock = threading.Lock()

    def up(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        listener.settimeout(0.1)
        self._listener = listener
        self._accepting.set()
        self._thread = threading.Thread(target=self._accept_loop, args=(listener,), daemon=True)
        self._thread.start()

    def down(self) -> None:
        """Connection refused from now on, and every open connection cut."""
        self._accepting.clear()
        if self._thread is not None:
            self._thread.join(timeout=5)
        if self._listener is not None:
            self._listener.close()
            self._listener = None
        with self._lock:
            pairs, self._pairs = self._pairs, set()
        for pair in pairs:
            for sock in pair:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
                sock.close()

    def _accept_loop(self, listener: socket.socket) -> None:
        while self._accepting.is_set():
            try:
                client, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)
            client.settimeout(None)
            pair = (client, upstream)
            with self._lock:
                self._pairs.add(pair)
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(source, sink, pair), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket, pair) -> None:
        try:
            while True:
                data = source.recv(65536)
                if not data:
                    break
                sink.sendall(data)
        except OSError:
            pass
        finally:
            with self._lock:
                self._pairs.discard(pair)
            for sock in pair:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)


# ---------------------------------------------------------------------------- SMTP sink


class FaultySink:
    """An aiosmtpd server that keeps what it accepts and can refuse, stall or vanish.

    A message counts as received only once the handler has decided to answer 250; a client that
    dies while the handler stalls (the handler coroutine is cancelled) delivered nothing.
    """

    def __init__(self, port: int | None = None) -> None:
        self.host, self.port = "127.0.0.1", port or free_port()
        self.lock = threading.Lock()
        self.controller: Controller | None = None
        self.reset()

    def reset(self) -> None:
        with self.lock:
            self.messages: list = []
            self.offered: Counter = Counter()  # Message-ID -> DATA commands seen
            self.aborted: list[str] = []  # Message-IDs whose client vanished mid-DATA
            self.tempfail_times = 0  # 451 for the first n offers of each message
            self.delay = 0.0  # seconds every DATA takes before its verdict
            self.reject_rcpt: set[str] = set()  # 550 at RCPT for these addresses
            self.stall_first = 0.0  # seconds the first DATA waits before its verdict
            self.stalled = threading.Event()
            self.stalled_peer: tuple | None = None
            self.stalled_message_id: str | None = None

    # aiosmtpd handler hooks
    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.lower() in self.reject_rcpt:
            return "550 5.1.1 Mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        message = message_from_bytes(envelope.content, policy=policy.default)
        message_id = str(message["Message-ID"])
        with self.lock:
            self.offered[message_id] += 1
            stall = self.stall_first if not self.stalled.is_set() else 0.0
            if stall:
                self.stalled_peer = session.peer
                self.stalled_message_id = message_id
                self.stalled.set()
        if stall:
            try:
                await asyncio.sleep(stall)
            except asyncio.CancelledError:
                with self.lock:
                    self.aborted.append(message_id)
                raise
            if server.transport is None or server.transport.is_closing():
                with self.lock:
                    self.aborted.append(message_id)
                return "451 4.3.0 Client went away"
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.offered[message_id] <= self.tempfail_times:
            return "451 4.3.0 Try again later"
        with self.lock:
            self.messages.append(message)
        return "250 OK"

    def start(self) -> FaultySink:
        self.controller = Controller(self, hostname=self.host, port=self.port)
        self.controller.start()
        return self

    def stop(self) -> None:
        """No listener at all: clients get connection refused."""
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    def ids(self) -> Counter:
        with self.lock:
            return Counter(str(m["Message-ID"]) for m in self.messages)

    def summary(self) -> str:
        with self.lock:
            return (
                f"sink: {len(self.messages)} accepted, offered={dict(self.offered)}, "
                f"aborted={self.aborted}"
            )


# ---------------------------------------------------------------------------- HTTP client


@dataclass
class Response:
    status: int
    headers: dict
    text: str

    @property
    def location(self) -> str:
        return self.headers.get("Location", "")


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


_CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


class Browser:
    """urllib with a cookie jar; redirects are returned, not followed."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()), _NoRedirect()
        )

    def _open(self, request: urllib.request.Request, timeout: float) -> Response:
        try:
            with self.opener.open(request, timeout=timeout) as response:
                body = response.read().decode("utf-8", errors="replace")
                return Response(response.status, dict(response.headers), body)
        except urllib.error.HTTPError as exc:
            body = exc.read().decode("utf-8", errors="replace")
            return Response(exc.code, dict(exc.headers), body)

    def get(self, path: str, timeout: float = 30) -> Response:
        return self._open(urllib.request.Request(self.base_url + path), timeout)

    def post(self, path: str, fields: list[tuple[str, str]], timeout: float = 30) -> Response:
        data = urllib.parse.urlencode(fields).encode()
        request = urllib.request.Request(self.base_url + path, data=data, method="POST")
        request.add_header("Content-Type", "application/x-www-form-urlencoded")
        return self._open(request, timeout)

    @staticmethod
    def csrf(html: str) -> str:
        match = _CSRF.search(html)
        assert match, "no csrf_token in the page"
        return match.group(1)

    def login(self, email: str, password: str) -> None:
        page = self.get("/logga-in")
        assert page.status == 200, page.status
        response = self.post(
            "/logga-in",
            [("csrf_token", self.csrf(page.text)), ("email", email), ("password", password)],
        )
        assert response.status in (302, 303), (response.status, response.text[-2000:])


def deviation_fields(csrf_token: str, description: str) -> list[tuple[str, str]]:
    """The deviation form as a browser posts it (Familjeenheten → BUP Farsta, sent)."""
    from datetime import date, timedelta

    return [
        ("csrf_token", csrf_token),
        ("reporting_unit", "familjeenheten-skarpnack"),
        ("receiving_unit", "bup-farsta"),
        ("event_date", (date.today() - timedelta(days=2)).isoformat()),
        ("categories", "remiss-eller-forfragan-obesvarad-eller-avvisad"),
        ("description", description),
        ("actions_taken", "Vi ringde mottagningen två gånger."),
        ("bus_individ", "nej"),
        ("bus_individ_date", ""),
        ("proposal", ""),
        ("child_gender", "flicka"),
        ("age_group", "6-12"),
        ("attest", "y"),
        ("send", "Skicka avvikelsen"),
    ]


# ---------------------------------------------------------------------------- the stack


def create_database(prefix: str = "formservice_faults") -> tuple[str, str]:
    base = make_url(postgres_base_url())
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        admin.dispose()
    return name, base.set(database=name).render_as_string(hide_password=False)


def drop_database(name: str) -> None:
    admin = create_engine(make_url(postgres_base_url()), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


#: Fast settings for the workers: things happen within seconds.
WORKER_SETTINGS = {
    "FORMSERVICE_SWEEP_INTERVAL_SECONDS": "2",
    "FORMSERVICE_DELIVERY_CLAIM_SECONDS": "5",
    "FORMSERVICE_DELIVERY_BACKOFF_SECONDS": "1",
}


class Stack:
    """Web (gunicorn, through the database proxy), workers, private Redis, sink, database."""

    def __init__(self, log_dir: Path) -> None:
        self.log_dir = log_dir
        self.redis = RedisServer(log_dir)
        self.sink = FaultySink()
        self.db_name, self.database_url = create_database()
        REAPER_EXTRA.update(
            database=self.db_name,
            admin_url=make_url(postgres_base_url()).render_as_string(hide_password=False),
            directory=str(log_dir),
        )
        target = make_url(self.database_url)
        self.proxy = TcpProxy(target.host or "127.0.0.1", target.port or 5432)
        self.proxied_database_url = target.set(
            host="127.0.0.1", port=self.proxy.port
        ).render_as_string(hide_password=False)
        self.web_port = free_port()
        self.base_url = f"http://127.0.0.1:{self.web_port}"
        self.engine = create_engine(self.database_url, pool_pre_ping=True)
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("FORMSERVICE_")}
        self.env.update(
            {
                "FORMSERVICE_SECRET_KEY": "faults-secret-" + uuid.uuid4().hex,
                "FORMSERVICE_DATABASE_URL": self.database_url,
                "FORMSERVICE_REDIS_URL": self.redis.url,
                "FORMSERVICE_SMTP_HOST": self.sink.host,
                "FORMSERVICE_SMTP_PORT": str(self.sink.port),
                "FORMSERVICE_SMTP_TIMEOUT": "10",
                "FORMSERVICE_BASE_URL": self.base_url,
                "PYTHONUNBUFFERED": "1",
                **WORKER_SETTINGS,
            }
        )
        self.web: Proc | None = None
        self.workers: list[Proc] = []
        self.app = None
        self._worker_count = 0

    # -- life cycle
    def start(self, people: list[str], password: str, directory: Path) -> Stack:
        self.redis.start()
        self.sink.start()
        self.proxy.up()
        self._prepare_database(people, password, directory)
        self.web = Proc(
            "web",
            formservice_command() + ["web", "--host", "127.0.0.1", "--port", str(self.web_port)],
            {**self.env, "FORMSERVICE_DATABASE_URL": self.proxied_database_url},
            self.log_dir,
        ).start()
        wait_for(self._web_up, 40, "the web server", on_fail=self.logs)
        return self

    def _web_up(self) -> bool:
        assert self.web is not None
        if not self.web.alive():
            raise AssertionError(f"web exited during start-up\n{self.logs()}")
        try:
            return Browser(self.base_url).get("/logga-in", timeout=5).status == 200
        except OSError:
            return False

    def _prepare_database(self, people: list[str], password: str, directory: Path) -> None:
        import yaml
        from argon2 import PasswordHasher
        from sqlalchemy import select

        from formservice import create_app
        from formservice.extensions import db
        from formservice.migrate import upgrade
        from formservice.models import User
        from formservice.services.directory import import_directory

        self.app = create_app(
            {
                "FORMSERVICE_SECRET_KEY": self.env["FORMSERVICE_SECRET_KEY"],
                "FORMSERVICE_DATABASE_URL": self.database_url,
                "FORMSERVICE_REDIS_URL": self.redis.url,
                "FORMSERVICE_SMTP_HOST": self.sink.host,
                "FORMSERVICE_SMTP_PORT": self.sink.port,
                "FORMSERVICE_BASE_URL": self.base_url,
            }
        )
        with self.app.app_context():
            upgrade()
            import_directory(yaml.safe_load(directory.read_text(encoding="utf-8")))
            hashed = PasswordHasher().hash(password)
            for user in db.session.scalars(select(User).where(User.email.in_(people))):
                user.password_hash = hashed
            db.session.commit()

    def start_worker(self, **settings: str) -> Proc:
        """`formservice worker` with the fast settings (plus `settings`), ready when it returns."""
        return self.start_workers(1, **settings)[0]

    def start_workers(self, count: int, **settings: str) -> list[Proc]:
        """`count` workers started side by side; returns when all listen on the queue."""
        procs = []
        for _ in range(count):
            self._worker_count += 1
            procs.append(
                Proc(
                    f"worker{self._worker_count}",
                    formservice_command() + ["worker"],
                    {**self.env, **settings},
                    self.log_dir,
                ).start()
            )
        self.workers.extend(procs)
        for proc in procs:
            wait_for(
                lambda proc=proc: self._worker_registered(proc),
                40,
                f"{proc.name} to listen on the queue",
                on_fail=self.logs,
            )
        return procs

    def _worker_registered(self, proc: Proc) -> bool:
        from rq import Worker

        if not proc.alive():
            raise AssertionError(f"{proc.name} exited during start-up\n{self.logs()}")
        try:
            return any(w.pid == proc.pid for w in Worker.all(connection=self.redis.connection()))
        except Exception:
            return False

    def stop_workers(self) -> None:
        """SIGTERM every worker group at once (warm shutdown), SIGKILL what is left after 10 s."""
        for proc in self.workers:
            if proc.alive():
                proc._signal_group(signal.SIGTERM)
        deadline = time.monotonic() + 10
        for proc in self.workers:
            if proc.popen is not None:
                with contextlib.suppress(subprocess.TimeoutExpired):
                    proc.popen.wait(timeout=max(0.1, deadline - time.monotonic()))
            proc.kill()
        self.workers = []

    def close(self) -> None:
        self.stop_workers()
        if self.web is not None:
            self.web.stop()
        self.redis.proc.stop()
        self.proxy.down()
        self.sink.stop()
        if self.app is not None:
            from formservice.extensions import db

            with self.app.app_context():
                db.session.remove()
                db.engine.dispose()
        self.engine.dispose()
        drop_database(self.db_name)

    # -- looking at the state
    def logs(self, chars: int = 4000) -> str:
        parts = []
        for log in sorted(self.log_dir.glob("*.log")):
            with contextlib.suppress(OSError):
                parts.append(f"----- {log.name} -----\n{log.read_text(errors='replace')[-chars:]}")
        return "\n".join(parts) + "\n" + self.sink.summary()

    def query(self, sql: str, **params) -> list:
        with self.engine.connect() as conn:
            return list(conn.execute(text(sql), params))

    def scalar(self, sql: str, **params):
        with self.engine.connect() as conn:
            return conn.execute(text(sql), params).scalar()

    def outbox(self, after_id: int = 0) -> list:
        return self.query(
            "SELECT id, state, attempts, message_id, to_email, last_error, deviation_id"
            " FROM outbox WHERE id > :after ORDER BY id",
            after=after_id,
        )

    def max_id(self, table: str) -> int:
        return self.scalar(f"SELECT coalesce(max(id), 0) FROM {table}")

    def wait_all_sent(self, after_id: int, seconds: float, expect_rows: int | None = None):
        """Wait until every outbox row after `after_id` is sent; returns the rows."""

        def done():
            rows = self.outbox(after_id)
            if expect_rows is not None and len(rows) < expect_rows:
                return None
            return rows if rows and all(r.state == "sent" for r in rows) else None

        def detail():
            states = Counter((r.state, r.attempts) for r in self.outbox(after_id))
            return f"outbox (state, attempts): {dict(states)}\n{self.logs()}"

        return wait_for(done, seconds, "every outbox row to be sent", 0.3, on_fail=detail)

    def settle_leftovers(self) -> None:
        """Rows a failed test left behind must not be delivered during the next test."""
        self.query_commit(
            "UPDATE outbox SET state = 'failed', last_error = 'left by an earlier fault test'"
            " WHERE state IN ('pending', 'sending')"
        )

    def query_commit(self, sql: str, **params) -> None:
        with self.engine.begin() as conn:
            conn.execute(text(sql), params)


def pid_with_local_port(port: int, candidates: list[int]) -> int | None:
    """Which of `candidates` owns the TCP socket bound locally to `port` (/proc, Linux)."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError), open(table) as lines:
            next(lines)
            for line in lines:
                fields = line.split()
                if int(fields[1].rsplit(":", 1)[1], 16) == port:
                    inodes.add(f"socket:[{fields[9]}]")
    for pid in candidates:
        with contextlib.suppress(OSError):
            for fd in os.listdir(f"/proc/{pid}/fd"):
                with contextlib.suppress(OSError):
                    if os.readlink(f"/proc/{pid}/fd/{fd}") in inodes:
                        return pid
    return None


def fake_soffice(path: Path, marker: Path, seconds: int) -> Path:
    """A stand-in for LibreOffice that records its pid and sleeps (then produces nothing)."""
    path.write_text(f'#!/bin/sh\necho $$ > "{marker}"\nexec sleep {seconds}\n')
    path.chmod(0o755)
    return path


def kill_recorded(marker: Path) -> None:
    """Kill a fake soffice recorded in `marker`, if it is still that sleeping script."""
    with contextlib.suppress(OSError, ValueError):
        pid = int(marker.read_text().strip())
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        if b"sleep" in cmdline:
            os.kill(pid, signal.SIGKILL)


def dump(obj) -> str:
    return json.dumps(obj, default=str, ensure_ascii=False, indent=1)
