"""Polling with a deadline: never an unbounded loop, always a message saying what was awaited."""

from __future__ import annotations

import ssl
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable
from typing import Protocol, TypeVar

T = TypeVar("T")


class Running(Protocol):
    """A process that can say whether it still runs (support.processes.Proc)."""

    name: str

    def alive(self) -> bool: ...


def wait_for(
    predicate: Callable[[], T],
    seconds: float,
    what: str,
    interval: float = 0.2,
    on_fail: Callable[[], str] | None = None,
) -> T:
    """Poll until `predicate()` is truthy and return it; fail with `what` (and extra detail
    from `on_fail`) after `seconds`."""
    deadline = time.monotonic() + seconds
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            detail = on_fail() if on_fail else ""
            raise AssertionError(f"Timed out after {seconds} s waiting for {what}. {detail}")
        time.sleep(interval)


def answers(url: str, context: ssl.SSLContext | None = None, timeout: float = 5) -> bool:
    """Whether `url` answers 200 right now."""
    try:
        with urllib.request.urlopen(url, timeout=timeout, context=context) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


def wait_for_http(
    url: str,
    procs: Iterable[Running] = (),
    seconds: float = 60,
    context: ssl.SSLContext | None = None,
    on_fail: Callable[[], str] | None = None,
) -> None:
    """Wait until `url` answers 200; fail at once if one of `procs` exits meanwhile."""
    procs = list(procs)

    def up() -> bool:
        for proc in procs:
            if not proc.alive():
                detail = on_fail() if on_fail else ""
                raise AssertionError(f"{proc.name} exited during start-up\n{detail}")
        return answers(url, context)

    wait_for(up, seconds, f"{url} to answer", on_fail=on_fail)
