"""The production WSGI server (gunicorn), started from code."""

from __future__ import annotations

import glob
import os
import re
import shutil
import tempfile
from collections.abc import MutableMapping
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from gunicorn.app.base import BaseApplication
from gunicorn.glogging import Logger

if TYPE_CHECKING:
    from flask import Flask
    from gunicorn.config import Config
    from gunicorn.glogging import _AtomsDict  # only in the stubs
    from gunicorn.http import Request
    from gunicorn.http.wsgi import Response

#: Paths whose next segment is a token: responder links, invitation and reset links.
TOKEN_PATHS = ("/svara/", "/komplettera/", "/inbjudan/", "/aterstall/", "/atgard/")
_TOKEN = re.compile("(" + "|".join(re.escape(p) for p in TOKEN_PATHS) + r")[^/\s?]+")

#: The access log's text line: client, request (path without query), status, seconds, the
#: worker's pid and the request id (the service's X-Request-ID answer header).
ACCESS_FORMAT = '%(h)s "%(m)s %(U)s" %(s)s %(L)ss %(p)s %({x-request-id}o)s'
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"


class RedactingLogger(Logger):
    """Access log without the tokens that links carry in their path (`TOKEN_PATHS`).

    Every text atom is redacted, not only the path: the Referer of a form posted from a
    link's page holds the token too.
    """

    def atoms(
        self,
        resp: Response,
        req: Request,
        environ: MutableMapping[str, Any],
        request_time: timedelta,
    ) -> _AtomsDict:
        atoms = super().atoms(resp, req, environ, request_time)
        for key, value in atoms.items():
            if isinstance(value, str) and any(path in value for path in TOKEN_PATHS):
                # gunicorn's atoms are a TypedDict; every one of its keys is redacted alike.
                atoms[key] = _TOKEN.sub(r"\1[token]", value)  # type: ignore[literal-required]
        return atoms


class JsonLogger(RedactingLogger):
    """gunicorn's own and access log as one JSON object per line (FORMSERVICE_LOG_FORMAT=json);
    an access line has the fields of the text line, nothing more (no query, no Referer)."""

    def setup(self, cfg: Config) -> None:
        from .logs import formatter

        super().setup(cfg)
        for log in (self.error_log, self.access_log):
            for handler in log.handlers:
                handler.setFormatter(formatter("json"))

    def access(
        self,
        resp: Response,
        req: Request,
        environ: MutableMapping[str, Any],
        request_time: timedelta,
    ) -> None:
        from .logs import bound

        if not self.access_log_enabled:
            return
        atoms = self.atoms(resp, req, environ, request_time)
        fields = {
            "remote_addr": atoms["h"],
            "method": atoms["m"],
            "path": atoms["U"],
            "status": int(str(atoms["s"])),
            "duration_seconds": float(atoms["L"]),
            "pid": os.getpid(),
        }
        request_id = atoms.get("{x-request-id}o")
        with bound(request_id if isinstance(request_id, str) else None):
            self.access_log.info("%s %s %s", atoms["m"], atoms["U"], atoms["s"], extra=fields)


class _Server(BaseApplication):
    def __init__(self, options: dict) -> None:
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    # A Flask app is a WSGI app; the stubs' environ is a MutableMapping, Flask's a dict.
    def load(self) -> Flask:  # type: ignore[override]
        from . import create_app

        return create_app()


def _child_exit(server: Any, worker: Any) -> None:
    """gunicorn's hook when a worker has exited: its live metrics files go with it."""
    folder = os.environ.get(MULTIPROC_ENV)
    if folder:
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid, folder)


def serve(
    host: str, port: int, workers: int = 2, threads: int = 4, log_format: str = "text"
) -> None:
    _Server(
        {
            "bind": f"{host}:{port}",
            "workers": workers,
            "threads": threads,
            "worker_class": "gthread",
            "timeout": 60,
            "accesslog": "-",
            "logger_class": JsonLogger if log_format == "json" else RedactingLogger,
            "access_log_format": ACCESS_FORMAT,
            # Forwarded headers count only through FORMSERVICE_TRUSTED_PROXIES (ProxyFix in
            # create_app), never because the proxy happens to connect from 127.0.0.1.
            "forwarded_allow_ips": "",
            "child_exit": _child_exit,
            # No runtime control socket (gunicorn ≥ 25): systemd signals the master; a socket
            # at one path per user would be shared by every instance on the host.
            "control_socket_disable": True,
        }
    ).run()


class MetricsFolder:
    """Where gunicorn's workers keep their metrics (prometheus-client's multiprocess mode):
    `PROMETHEUS_MULTIPROC_DIR` when the operator set it (emptied at start), else a private
    temporary folder, removed at the end by the process that made it. Must be entered before
    the app is first built: the client picks its mode when it is imported."""

    def __enter__(self) -> str:
        self.owner = os.getpid()
        folder = os.environ.get(MULTIPROC_ENV)
        self.made = not folder
        if folder:
            os.makedirs(folder, mode=0o700, exist_ok=True)
            for stale in glob.glob(os.path.join(folder, "*.db")):
                os.remove(stale)
        else:
            folder = tempfile.mkdtemp(prefix="formservice-metrics-")  # mode 0700
            os.environ[MULTIPROC_ENV] = folder
        self.folder = folder
        return folder

    def __exit__(self, *exc: object) -> None:
        # gunicorn's workers are forks that leave through here too: only the maker removes it
        if self.made and os.getpid() == self.owner:
            shutil.rmtree(self.folder, ignore_errors=True)
