"""The production WSGI server (gunicorn), started from code."""

from __future__ import annotations

import re

from gunicorn.app.base import BaseApplication
from gunicorn.glogging import Logger

#: Paths whose next segment is a token: responder links, invitation and reset links.
TOKEN_PATHS = ("/svara/", "/inbjudan/", "/aterstall/")
_TOKEN = re.compile("(" + "|".join(re.escape(p) for p in TOKEN_PATHS) + r")[^/\s?]+")


class RedactingLogger(Logger):
    """Access log without the tokens that links carry in their path (`TOKEN_PATHS`).

    Every text atom is redacted, not only the path: the Referer of a form posted from a
    link's page holds the token too.
    """

    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        for key, value in atoms.items():
            if isinstance(value, str) and any(path in value for path in TOKEN_PATHS):
                atoms[key] = _TOKEN.sub(r"\1[token]", value)
        return atoms


class _Server(BaseApplication):
    def __init__(self, options: dict) -> None:
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self):
        from . import create_app

        return create_app()


def serve(host: str, port: int, workers: int = 2, threads: int = 4) -> None:
    _Server(
        {
            "bind": f"{host}:{port}",
            "workers": workers,
            "threads": threads,
            "worker_class": "gthread",
            "timeout": 60,
            "accesslog": "-",
            "logger_class": RedactingLogger,
            "access_log_format": '%(h)s "%(m)s %(U)s" %(s)s %(L)ss',
            # Forwarded headers count only through FORMSERVICE_TRUSTED_PROXIES (ProxyFix in
            # create_app), never because the proxy happens to connect from 127.0.0.1.
            "forwarded_allow_ips": "",
        }
    ).run()
