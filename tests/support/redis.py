"""Redis: the tests' database on the shared server, flushing it, and a private redis-server of
one's own to crash and restart at will (fault tests, load runs)."""

from __future__ import annotations

import os
from pathlib import Path

from redis import Redis

from .ports import free_port, port_open
from .processes import Proc
from .waiting import wait_for


def redis_url() -> str:
    """The Redis database the in-process tests use (flushed by each test)."""
    return per_worker(os.environ.get("FORMSERVICE_TEST_REDIS_URL", "redis://127.0.0.1:6379/15"))


def browser_redis_url() -> str:
    """The Redis database of the live stacks (web and worker processes, browser tests)."""
    url = os.environ.get("FORMSERVICE_TEST_BROWSER_REDIS_URL", "redis://127.0.0.1:6379/14")
    return per_worker(url)


def per_worker(url: str) -> str:
    """`url` for this pytest-xdist worker: gw0 keeps the database number, gwN takes the
    number 2·N lower, so parallel workers never flush each other's queues."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    shift = 2 * int(worker.removeprefix("gw") or 0)
    if not shift:
        return url
    base, _, number = url.rpartition("/")
    return f"{base}/{int(number) - shift}"


def flush(url: str) -> None:
    """Empty the Redis database at `url`."""
    conn = Redis.from_url(url, socket_connect_timeout=5)
    try:
        conn.flushdb()
    finally:
        conn.close()


class RedisServer:
    """A redis-server of our own on a fixed port, in a process group of its own."""

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

    def connection(self) -> Redis:
        return Redis.from_url(self.url, socket_connect_timeout=2, socket_timeout=10)
