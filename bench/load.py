"""Load: N simulated chefs file and answer reports for a fixed time against the real stack
(gunicorn, RQ workers, a private Redis, PostgreSQL, an aiosmtpd sink), then count lost and
duplicated messages after the queue has drained.

    .venv/bin/python -m bench.load --chefs 4 --seconds 60 --workers 2

Loopback only; every loop is bounded by time. Exits 1 if any message is lost or duplicated.
"""

from __future__ import annotations

import argparse
import re
import shutil
import statistics
import tempfile
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import TypeVar

from sqlalchemy import text

from tests.faults.stack import Stack
from tests.support.accounts import PASSWORD
from tests.support.http import Client, deviation_fields
from tests.support.processes import stop_reaper

from .common import percentile

FILER = "fia.familj@stad.example"
ANSWERER = "ines.sved@region.example"
LINK = re.compile(r"https?://\S+/svara/\S+")
T = TypeVar("T")


class Recorder:
    """Latencies and errors per operation, shared by the client threads."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.latency: dict[str, list[float]] = defaultdict(list)
        self.errors: dict[str, int] = defaultdict(int)

    def timed(self, operation: str, call: Callable[[], T], ok: Callable[[T], bool]) -> T | None:
        start = time.perf_counter()
        result: T | None = None
        try:
            result = call()
            good = ok(result)
        except OSError:
            good = False
        elapsed = time.perf_counter() - start
        with self.lock:
            self.latency[operation].append(elapsed)
            if not good:
                self.errors[operation] += 1
        return result


def filer(stack: Stack, record: Recorder, deadline: float) -> None:
    browser = Client(stack.base_url)
    browser.login(FILER, PASSWORD)
    token = Client.csrf(browser.get("/avvikelser/ny").text)
    n = 0
    while time.monotonic() < deadline:
        n += 1
        fields = deviation_fields(token, f"Belastningsprov nummer {n}: remissen besvarades inte.")
        record.timed(
            "skicka avvikelse (POST)",
            partial(browser.post, "/avvikelser/ny", fields),
            lambda r: r.status == 302,
        )


def answerer(
    stack: Stack, record: Recorder, deadline: float, links: list[str], lock: threading.Lock
) -> None:
    while time.monotonic() < deadline:
        with lock:
            link = links.pop() if links else None
        if link is None:
            _refill(stack, links, lock)
            time.sleep(0.2)
            continue
        browser = Client("")
        page = record.timed(
            "öppna svarslänk (GET)", partial(browser.get, link), lambda r: r.status == 200
        )
        if page is None or page.status != 200:
            continue
        fields = [
            ("csrf_token", Client.csrf(page.text)),
            ("responder_name", "Ines Sved"),
            ("assessment", "Remissen hade hamnat fel; rutinen är ändrad."),
            ("agrees", "ja"),
            ("attest", "y"),
        ]
        record.timed(
            "skicka svar (POST)",
            partial(browser.post, link, fields),
            lambda r: r.status == 200 and "Tack för ditt svar" in r.text,
        )


_seen: set[str] = set()


def _refill(stack: Stack, links: list[str], lock: threading.Lock) -> None:
    """Answer links from the e-mails chef B has received and nobody has used yet."""
    with stack.sink.lock:
        messages = list(stack.sink.messages)
    fresh = []
    for message in messages:
        if message["To"] != ANSWERER or str(message["Message-ID"]) in _seen:
            continue
        _seen.add(str(message["Message-ID"]))
        match = LINK.search(message.get_content())
        if match:
            fresh.append(match.group(0))
    with lock:
        links.extend(fresh)


def drain(stack: Stack, seconds: float) -> dict[str, int]:
    """Wait until no outbox row is pending or being sent; the final count per state."""
    end = time.monotonic() + seconds
    while True:
        with stack.engine.connect() as conn:
            query = text("SELECT state, count(*) FROM outbox GROUP BY state")
            states = {state: n for state, n in conn.execute(query)}
        if not states.get("pending") and not states.get("sending") or time.monotonic() > end:
            return states
        time.sleep(0.5)


def report(record: Recorder, seconds: float, states: dict, stack: Stack) -> int:
    print(
        f"\n{'operation':28} {'count':>6} {'per s':>7} {'p50 ms':>8} {'p95 ms':>8} "
        f"{'p99 ms':>8} {'errors':>6}"
    )
    for operation, values in sorted(record.latency.items()):
        print(
            f"{operation:28} {len(values):6d} {len(values) / seconds:7.1f} "
            f"{1000 * statistics.median(values):8.1f} {1000 * percentile(values, 95):8.1f} "
            f"{1000 * percentile(values, 99):8.1f} {record.errors[operation]:6d}"
        )
    ids = stack.sink.ids()
    rows = sum(states.values())
    lost = rows - states.get("sent", 0)
    duplicated = sum(count - 1 for count in ids.values() if count > 1)
    print(f"\noutbox rows: {rows}  sent: {states.get('sent', 0)}  states: {states}")
    print(f"distinct messages in the sink: {len(ids)}  lost: {lost}  duplicated: {duplicated}")
    return 1 if lost or duplicated or len(ids) != states.get("sent", 0) else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chefs", type=int, default=4, help="concurrent simulated chefs")
    parser.add_argument("--seconds", type=float, default=60, help="how long they work")
    parser.add_argument("--workers", type=int, default=2, help="RQ workers")
    args = parser.parse_args()
    log_dir = Path(tempfile.mkdtemp(prefix="formservice-load-"))
    stack = Stack(log_dir)
    try:
        stack.start([FILER, ANSWERER])
        stack.start_workers(args.workers)
        record, links, lock = Recorder(), list[str](), threading.Lock()
        deadline = time.monotonic() + args.seconds
        filers = max(1, args.chefs // 2)
        threads = [
            threading.Thread(target=filer, args=(stack, record, deadline)) for _ in range(filers)
        ] + [
            threading.Thread(target=answerer, args=(stack, record, deadline, links, lock))
            for _ in range(args.chefs - filers)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(args.seconds + 120)
        states = drain(stack, 180)
        return report(record, args.seconds, states, stack)
    finally:
        stack.close()
        stop_reaper()
        shutil.rmtree(log_dir, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
