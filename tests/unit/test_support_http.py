"""The support package's HTTP client against a real local server: cookies kept and dropped,
redirects returned, keep-alive reused, loopback only."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.support.http import Client, csrf_token


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:  # noqa: N802  (http.server's hook)
        """/set and /drop change the cookie; /go redirects; / echoes the Cookie header."""
        headers = {"Content-Type": "text/html"}
        status, body = 200, f"cookie={self.headers.get('Cookie', '')}"
        if self.path == "/set":
            headers["Set-Cookie"] = "session=abc; HttpOnly; Path=/"
        elif self.path == "/drop":
            headers["Set-Cookie"] = "session=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0"
        elif self.path == "/go":
            status, headers["Location"] = 302, "/elsewhere"
        elif self.path == "/form":
            body = '<input id="csrf_token" name="csrf_token" type="hidden" value="tok-1">'
        data = f"{body} connection={self.client_address[1]}".encode()
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        """Quiet."""


@pytest.fixture
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_cookies_are_kept_sent_and_dropped(server):
    client = Client(server)
    client.get("/set")
    assert client.cookies == {"session": "abc"}
    assert client.get("/").text.startswith("cookie=session=abc ")
    client.get("/drop")
    assert client.cookies == {}


def test_a_redirect_is_returned_not_followed(server):
    response = Client(server).get("/go")
    assert (response.status, response.location) == (302, "/elsewhere")


def test_keep_alive_holds_one_connection_and_the_default_does_not(server):
    def ports(client: Client) -> set[str]:
        return {client.get("/").text.split("connection=")[1] for _ in range(3)}

    held = Client(server, keep_alive=True)
    assert len(ports(held)) == 1
    held.close()
    assert len(ports(Client(server))) == 3


def test_absolute_links_and_the_csrf_token(server):
    page = Client("").get(server + "/form")
    assert csrf_token(page.text) == csrf_token(page.body) == "tok-1"


def test_only_loopback_addresses():
    with pytest.raises(ValueError):
        Client("http://example.org").get("/")
