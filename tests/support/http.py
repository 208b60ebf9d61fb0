"""An HTTP/1.1 client for the live servers of fault tests and benchmarks: a cookie jar,
redirects returned (not followed), loopback addresses only.

`keep_alive=False` (the default) opens a connection per request, as urllib does; a load
generator passes `keep_alive=True` to hold one connection, opened again once if the server
closed it while idle.
"""

from __future__ import annotations

import http.client
import re
import ssl
import urllib.parse
from dataclasses import dataclass
from datetime import date, timedelta
from email.message import Message

from .accounts import PASSWORD

LOOPBACK = ("127.0.0.1", "localhost", "::1")
FORM = {"Content-Type": "application/x-www-form-urlencoded"}
_CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


@dataclass
class Response:
    status: int
    headers: Message
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")

    @property
    def location(self) -> str:
        return self.headers.get("Location", "")


def csrf_token(html: str | bytes) -> str:
    """The CSRF token of the (first) form on a page."""
    if isinstance(html, bytes):
        html = html.decode("utf-8", errors="replace")
    match = _CSRF.search(html)
    if not match:
        raise AssertionError("no csrf_token in the page")
    return match.group(1)


class Client:
    """Requests to one loopback server (paths), or to the absolute loopback URLs of links."""

    csrf = staticmethod(csrf_token)

    def __init__(
        self,
        base_url: str,
        *,
        keep_alive: bool = False,
        timeout: float = 30,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self.base_url, self.keep_alive, self.timeout = base_url, keep_alive, timeout
        self.ssl_context = ssl_context
        self.cookies: dict[str, str] = {}
        self._conn: http.client.HTTPConnection | None = None
        self._origin: tuple[str, str, int | None] | None = None

    def _connection(self, origin: tuple[str, str, int | None]) -> http.client.HTTPConnection:
        scheme, host, port = origin
        if host not in LOOPBACK:
            raise ValueError("tests and benchmarks only talk to loopback addresses")
        if self._conn is None or self._origin != origin:
            self.close()
            if scheme == "https":
                self._conn = http.client.HTTPSConnection(
                    host, port, timeout=self.timeout, context=self.ssl_context
                )
            else:
                self._conn = http.client.HTTPConnection(host, port, timeout=self.timeout)
            self._origin = origin
        return self._conn

    def request(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
        timeout: float | None = None,
    ) -> Response:
        """One request; `path` is below base_url, or an absolute URL."""
        parts = urllib.parse.urlsplit(path if "://" in path else self.base_url + path)
        target = urllib.parse.urlunsplit(("", "", parts.path or "/", parts.query, ""))
        headers = dict(headers or {})
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if not self.keep_alive:
            headers["Connection"] = "close"
        origin = (parts.scheme, parts.hostname or "", parts.port)
        for attempt in (1, 2):
            conn = self._connection(origin)
            reused = conn.sock is not None
            conn.timeout = timeout or self.timeout
            if conn.sock is not None:
                conn.sock.settimeout(conn.timeout)
            try:
                conn.request(method, target, body=body, headers=headers)
                response = conn.getresponse()
                data = response.read()
                break
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self.close()  # the server closed an idle keep-alive connection: once more
                if attempt == 2 or not reused:
                    raise
            except BaseException:
                self.close()
                raise
        if not self.keep_alive:
            self.close()
        self._keep_cookies(response.headers)
        return Response(response.status, response.headers, data)

    def _keep_cookies(self, headers: Message) -> None:
        for value in headers.get_all("Set-Cookie") or []:
            pair, _, attributes = value.partition(";")
            name, _, cookie = pair.partition("=")
            if "max-age=0" in attributes.lower().replace(" ", "") or not cookie:
                self.cookies.pop(name.strip(), None)
            else:
                self.cookies[name.strip()] = cookie

    def get(
        self, path: str, headers: dict[str, str] | None = None, timeout: float | None = None
    ) -> Response:
        return self.request("GET", path, headers=headers, timeout=timeout)

    def post(
        self,
        path: str,
        fields: list[tuple[str, str]] | dict[str, str],
        headers: dict[str, str] | None = None,
        timeout: float | None = None,
    ) -> Response:
        """A form posted as a browser posts it (URL-encoded)."""
        body = urllib.parse.urlencode(fields).encode()
        return self.request("POST", path, body, FORM | (headers or {}), timeout)

    def login(self, email: str, password: str = PASSWORD) -> Response:
        """Log in through the login page (its CSRF token); fails unless redirected."""
        page = self.get("/logga-in")
        assert page.status == 200, page.status
        fields = [("csrf_token", csrf_token(page.text)), ("email", email), ("password", password)]
        response = self.post("/logga-in", fields)
        assert response.status in (302, 303), (email, response.status, response.text[-2000:])
        return response

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
        self._conn = self._origin = None


def deviation_fields(csrf: str, description: str) -> list[tuple[str, str]]:
    """The deviation form as a browser posts it (Familjeenheten → BUP Farsta, sent)."""
    return [
        ("csrf_token", csrf),
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
