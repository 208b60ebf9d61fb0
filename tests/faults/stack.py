"""The fault stack: gunicorn (its database behind a TCP proxy that can cut every connection),
RQ workers, a private Redis, a fresh PostgreSQL database and an SMTP sink that can misbehave.

The parts every live run shares (process groups that never outlive pytest, the private Redis,
the HTTP client, waiting) are in tests/support/; what is here exists to inject faults. The
names fault tests imported from here before (Browser, now support.http.Client; wait_for,
deviation_fields, …) are re-exported for one release: new tests import them from
tests.support.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import socket
import threading
from collections import Counter
from email import message_from_bytes, policy
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from tests.support import postgres, processes
from tests.support.accounts import give_password
from tests.support.app import close
from tests.support.http import Client
from tests.support.http import Response as Response
from tests.support.http import deviation_fields as deviation_fields
from tests.support.paths import DEMO_DIRECTORY
from tests.support.ports import free_port
from tests.support.ports import port_open as port_open
from tests.support.postgres import create_database as create_database
from tests.support.postgres import drop_database as drop_database
from tests.support.processes import REAPER_EXTRA, Proc, stop_all
from tests.support.processes import stop_reaper as stop_reaper
from tests.support.redis import RedisServer
from tests.support.smtp import Sink
from tests.support.stack import environment, web, worker
from tests.support.stack import formservice_command as formservice_command
from tests.support.waiting import wait_for, wait_for_http

Browser = Client  # the name fault tests used before tests/support/ (one release)

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
                last = pair not in self._pairs  # the other direction (or down()) ended first
                self._pairs.discard(pair)
            for sock in pair:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)  # ends the other direction's recv
                if last:
                    sock.close()  # else left to the garbage collector (ResourceWarning)


# ---------------------------------------------------------------------------- SMTP sink


class FaultySink(Sink):
    """The SMTP sink (support.smtp) that can refuse, stall or vanish.

    A message counts as received only once the handler has decided to answer 250; a client that
    dies while the handler stalls (the handler coroutine is cancelled) delivered nothing.
    """

    def __init__(self, port: int | None = None) -> None:
        super().__init__(port=port)
        self.reset()

    def reset(self) -> None:
        self.clear()
        with self.lock:
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

    def summary(self) -> str:
        with self.lock:
            return (
                f"sink: {len(self.messages)} accepted, offered={dict(self.offered)}, "
                f"aborted={self.aborted}"
            )


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
        self.db_name, self.database_url = postgres.create_database("formservice_faults")
        REAPER_EXTRA.update(
            database=self.db_name, admin_url=postgres.admin_url(), directory=str(log_dir)
        )
        target = make_url(self.database_url)
        self.proxy = TcpProxy(target.host or "127.0.0.1", target.port or 5432)
        self.proxied_database_url = target.set(
            host="127.0.0.1", port=self.proxy.port
        ).render_as_string(hide_password=False)
        self.web_port = free_port()
        self.base_url = f"http://127.0.0.1:{self.web_port}"
        self.engine = create_engine(self.database_url, pool_pre_ping=True)
        self.env = environment(
            self.database_url,
            self.redis.url,
            FORMSERVICE_SMTP_HOST=self.sink.host,
            FORMSERVICE_SMTP_PORT=str(self.sink.port),
            FORMSERVICE_SMTP_TIMEOUT="10",
            FORMSERVICE_BASE_URL=self.base_url,
            **WORKER_SETTINGS,
        )
        self.web: Proc | None = None
        self.workers: list[Proc] = []
        self.app = None
        self._worker_count = 0

    # -- life cycle
    def start(self, people: list[str]) -> Stack:
        """Redis, sink and proxy up, the database prepared (the demo directory, `people`
        with the test password), the web server answering."""
        self.redis.start()
        self.sink.start()
        self.proxy.up()
        self._prepare_database(people)
        self.web = web(
            {**self.env, "FORMSERVICE_DATABASE_URL": self.proxied_database_url},
            self.log_dir,
            self.web_port,
        )
        wait_for_http(self.base_url + "/logga-in", [self.web], 40, on_fail=self.logs)
        return self

    def _prepare_database(self, people: list[str]) -> None:
        import yaml
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
            import_directory(yaml.safe_load(DEMO_DIRECTORY.read_text(encoding="utf-8")))
            give_password(db.session.scalars(select(User).where(User.email.in_(people))))

    def start_worker(self, **settings: str) -> Proc:
        """`formservice worker` with the fast settings (plus `settings`), ready when it returns."""
        return self.start_workers(1, **settings)[0]

    def start_workers(self, count: int, **settings: str) -> list[Proc]:
        """`count` workers started side by side; returns when all listen on the queue."""
        procs = []
        for _ in range(count):
            self._worker_count += 1
            procs.append(
                worker({**self.env, **settings}, self.log_dir, f"worker{self._worker_count}")
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
            workers = Worker.all(connection=self.redis.connection())
        except Exception:
            return False
        # Registered is not enough: a worker still bootstrapping (state "started") dies if
        # Redis goes now; one that waits for jobs ("idle") or runs one rides out an outage.
        return any(w.pid == proc.pid and w.get_state() in ("idle", "busy") for w in workers)

    def stop_workers(self) -> None:
        """SIGTERM every worker group at once (warm shutdown), SIGKILL what is left after 10 s."""
        stop_all(self.workers, timeout=10)
        self.workers = []

    def close(self) -> None:
        web = [self.web] if self.web is not None else []
        stop_all([*self.workers, *web], timeout=15)  # they still talk to Redis as they go
        self.workers = []
        self.redis.proc.stop()
        self.proxy.down()
        self.sink.stop()
        if self.app is not None:
            close(self.app)
        self.engine.dispose()
        postgres.drop_database(self.db_name)

    # -- looking at the state
    def logs(self, chars: int = 4000) -> str:
        return processes.logs(self.log_dir, chars) + "\n" + self.sink.summary()

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

    def begin_test(self) -> None:
        """Redis up and empty, the sink accepting and empty, no earlier test's rows due."""
        if not self.redis.proc.alive():
            self.redis.start()
        self.redis.connection().flushdb()
        if self.sink.controller is None:
            self.sink.start()
        self.sink.reset()
        self.settle_leftovers()

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
