"""Logging, configured once per process: text or one JSON object per line, every record with
the request id of the web request or job it belongs to.

The request id comes from a sane `X-Request-ID` header (nginx sets one) or is made here; it
travels into the jobs a request queues (`queue` puts it in the job's meta) and into the
worker's log lines for them. Log messages hold ids and codes only, never personal data or
case content; the id itself is random or the proxy's.
"""

from __future__ import annotations

import logging
import re
import sys
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from contextvars import ContextVar
from typing import Any

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"
JSON_FIELDS = "%(asctime)s %(levelname)s %(name)s %(message)s"

_request_id: ContextVar[str | None] = ContextVar("formservice_request_id", default=None)
#: What a request id from outside may be: letters, digits, `.`, `_`, `-`; at most 64.
_SANE = re.compile(r"[A-Za-z0-9._-]{1,64}")
_installed: list[Callable[..., logging.LogRecord]] = []


def sane_request_id(value: str | None) -> str:
    """The header's value when it is a sane id, else a new random one."""
    if value and _SANE.fullmatch(value):
        return value
    return uuid.uuid4().hex


def current_request_id() -> str | None:
    return _request_id.get()


@contextmanager
def bound(request_id: str | None) -> Iterator[None]:
    """Within the block, every log record carries `request_id`."""
    token = _request_id.set(request_id)
    try:
        yield
    finally:
        _request_id.reset(token)


def _install_record_factory() -> None:
    """Records get `request_id` when made, so every handler sees it (also pytest's)."""
    if _installed:
        return
    previous = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        record.request_id = _request_id.get() or "-"
        return record

    logging.setLogRecordFactory(factory)
    _installed.append(factory)


def formatter(kind: str) -> logging.Formatter:
    """The formatter for `kind` ("text" or "json")."""
    if kind == "json":
        from pythonjsonlogger.json import JsonFormatter

        return JsonFormatter(
            JSON_FIELDS,
            rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
            datefmt="%Y-%m-%dT%H:%M:%S%z",
        )
    return logging.Formatter(TEXT_FORMAT, defaults={"request_id": "-"})


def configure(kind: str, level: int = logging.INFO) -> None:
    """One handler on the root logger (standard error) in the chosen format; calling it again
    replaces that handler, never adds a second one."""
    _install_record_factory()
    root = logging.getLogger()
    for handler in [h for h in root.handlers if getattr(h, "formservice", False)]:
        root.removeHandler(handler)
    handler = logging.StreamHandler(sys.stderr)
    handler.formservice = True  # type: ignore[attr-defined]  # our mark, to replace it later
    handler.setFormatter(formatter(kind))
    root.addHandler(handler)
    if root.level == logging.NOTSET or root.level > level:
        root.setLevel(level)


def init_app(app: Any) -> None:
    """The request id of each request: bound for its log records, returned in a header."""
    from flask import g, request

    def begin() -> None:
        g.request_id = sane_request_id(request.headers.get("X-Request-ID"))
        g.request_id_token = _request_id.set(g.request_id)

    def answer(response: Any) -> Any:
        if "request_id" in g:
            response.headers["X-Request-ID"] = g.request_id
        return response

    def end(_exc: BaseException | None) -> None:
        token = g.pop("request_id_token", None)
        if token is not None:
            with suppress(ValueError):  # a token from another context: nothing to undo here
                _request_id.reset(token)

    app.before_request(begin)
    app.after_request(answer)
    app.teardown_request(end)
