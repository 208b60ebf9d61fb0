"""Readiness: the database, Redis, a live worker and LibreOffice, checked quickly.

Workers write a heartbeat into Redis (`beat`): a sorted set of worker names scored by Redis's
own clock (`TIME`), so web and worker hosts need not agree on the time. RQ keeps a heartbeat
of its own, but refreshes it only every few minutes while idle and not at all while a
`SimpleWorker` runs a job, so it cannot say "seen within twice the sweep interval".
LibreOffice runs only in the worker, so the worker says whether it finds it (a second set).

What the checks answer is for anyone (`/readyz` is public): part names, ok or fail, and a
short reason from a fixed list. The error itself goes to the log.
"""

from __future__ import annotations

import logging
import shutil
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from typing import Any

from flask import Flask
from redis import Redis
from sqlalchemy import text

log = logging.getLogger(__name__)

HEARTBEATS = "formservice:worker-heartbeats"
LIBREOFFICE = "formservice:worker-libreoffice"
#: Seconds the whole readiness check may take; a part that has not answered by then fails.
DEADLINE = 2.5
PARTS = ("database", "redis", "worker", "libreoffice")


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    reason: str = ""

    def as_dict(self) -> dict[str, str]:
        return {"status": "ok"} if self.ok else {"status": "fail", "reason": self.reason}


def window(config: dict[str, Any]) -> int:
    """Seconds within which a worker's heartbeat must have been seen: twice the sweep's."""
    return 2 * config["FORMSERVICE_SWEEP_INTERVAL_SECONDS"]


def libreoffice_found(config: dict[str, Any]) -> bool:
    return shutil.which(config["FORMSERVICE_SOFFICE"]) is not None


def _redis_now(connection: Redis) -> float:
    seconds, micros = connection.time()
    return seconds + micros / 1_000_000


def beat(connection: Redis, worker: str, libreoffice: bool, seconds: int) -> None:
    """Record that `worker` lives (and whether it finds LibreOffice); heartbeats older than
    ten windows of `seconds` are dropped on the way."""
    now = _redis_now(connection)
    with connection.pipeline() as pipe:
        pipe.zadd(HEARTBEATS, {worker: now})
        if libreoffice:
            pipe.zadd(LIBREOFFICE, {worker: now})
        else:
            pipe.zrem(LIBREOFFICE, worker)
        for key in (HEARTBEATS, LIBREOFFICE):
            pipe.zremrangebyscore(key, "-inf", now - 10 * seconds)
        pipe.execute()


def forget(connection: Redis, worker: str) -> None:
    """A worker that stops takes its heartbeat with it."""
    with connection.pipeline() as pipe:
        pipe.zrem(HEARTBEATS, worker)
        pipe.zrem(LIBREOFFICE, worker)
        pipe.execute()


def live_workers(connection: Redis, seconds: int) -> tuple[int, int]:
    """Workers seen within `seconds`, and how many of them find LibreOffice."""
    since = _redis_now(connection) - seconds
    with connection.pipeline(transaction=False) as pipe:
        pipe.zcount(HEARTBEATS, since, "+inf")
        pipe.zcount(LIBREOFFICE, since, "+inf")
        workers, libreoffice = pipe.execute()
    return workers, libreoffice


def _database() -> list[Check]:
    from .extensions import db

    with db.engine.connect() as conn:
        conn.execute(text("SELECT 1"))
    return [Check("database", True)]


def _redis_and_workers(seconds: int) -> list[Check]:
    from .queue import probe_connection

    connection = probe_connection()
    connection.ping()
    workers, libreoffice = live_workers(connection, seconds)
    return [
        Check("redis", True),
        Check("worker", workers > 0, "" if workers else f"no heartbeat within {seconds} s"),
        Check(
            "libreoffice",
            libreoffice > 0,
            "" if libreoffice else "not found by any live worker",
        ),
    ]


def readiness(app: Flask) -> list[Check]:
    """Every part, in PARTS order; all at once, none waited for longer than DEADLINE."""
    seconds = window(app.config)
    probes: dict[tuple[str, ...], Callable[[], list[Check]]] = {
        ("database",): _database,
        ("redis", "worker", "libreoffice"): lambda: _redis_and_workers(seconds),
    }

    def run(probe: Callable[[], list[Check]]) -> list[Check]:
        with app.app_context():
            return probe()

    found: dict[str, Check] = {}
    executor = ThreadPoolExecutor(max_workers=len(probes), thread_name_prefix="readiness")
    try:
        futures = {names: executor.submit(run, probe) for names, probe in probes.items()}
        end = time.monotonic() + DEADLINE
        for names, future in futures.items():
            try:
                remaining = max(0.0, end - time.monotonic())
                found.update((c.name, c) for c in future.result(timeout=remaining))
            except FutureTimeout:
                found.update((n, Check(n, False, f"no answer within {DEADLINE} s")) for n in names)
            except Exception as exc:  # any failure of a part is that part's "fail"
                log.warning("readiness: %s failed: %s: %s", names[0], type(exc).__name__, exc)
                found[names[0]] = Check(names[0], False, "unreachable")
                for name in names[1:]:
                    found[name] = Check(name, False, f"{names[0]} unreachable")
    finally:
        executor.shutdown(wait=False)  # a part stuck past the deadline does not hold us
    return [found[name] for name in PARTS]


def report(checks: list[Check]) -> dict[str, Any]:
    """The JSON answer: overall status and each part's."""
    ready = all(c.ok for c in checks)
    return {
        "status": "ok" if ready else "fail",
        "checks": {c.name: c.as_dict() for c in checks},
    }
