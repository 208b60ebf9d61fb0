"""Behind HTTPS: the Referer a browser sends, CSRF's strict check, proxies, secure cookies."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from flask import request

from formservice import create_app
from formservice.extensions import db
from formservice.models import Deviation
from formservice.tokens import make_token
from tests.support.accounts import PASSWORD
from tests.support.app import base_config, close
from tests.support.paths import ROOT
from tests.support.ports import free_port

from .helpers import CHEF_A, CHEF_B, send_report

SITE = "https://formservice.test"
_CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


def browser_referer(policy: str, document_url: str, target_url: str) -> str | None:
    """The Referer a browser sends from a page with this Referrer-Policy (W3C Referrer Policy)."""

    def origin(url: str) -> tuple[str, str]:
        parts = urlsplit(url)
        return parts.scheme, parts.netloc

    same = origin(document_url) == origin(target_url)
    full = document_url.split("#", 1)[0]
    if policy == "no-referrer":
        return None
    if policy == "same-origin":
        return full if same else None
    raise AssertionError(f"no model for Referrer-Policy {policy!r}")


def csrf_token(response) -> str:
    match = _CSRF.search(response.get_data(as_text=True))
    assert match, "no csrf_token in the page"
    return match.group(1)


def logged_in(client, base_url: str = SITE) -> bool:
    return client.get("/avvikelser", base_url=base_url).status_code == 200


@pytest.fixture
def strict_client(app, directory):
    """A test client with CSRF protection on, as in production."""
    app.config["WTF_CSRF_ENABLED"] = True
    return app.test_client()


def test_pages_ask_for_a_same_origin_referer_only(strict_client):
    deviation = send_report()
    token = make_token(deviation.id, CHEF_B, deviation.link_version)
    for path in ("/logga-in", f"/svara/{token}"):
        response = strict_client.get(path, base_url=SITE)
        assert response.status_code == 200
        assert response.headers["Referrer-Policy"] == "same-origin", path


def test_login_over_https_with_the_referer_a_browser_sends(strict_client):
    page_url = f"{SITE}/logga-in"
    page = strict_client.get("/logga-in", base_url=SITE)
    referer = browser_referer(page.headers["Referrer-Policy"], page_url, page_url)
    headers = {"Referer": referer} if referer else {}
    data = {"csrf_token": csrf_token(page), "email": CHEF_A, "password": PASSWORD}
    response = strict_client.post("/logga-in", base_url=SITE, data=data, headers=headers)
    assert response.status_code == 302, response.get_data(as_text=True)
    assert logged_in(strict_client)


@pytest.mark.parametrize(
    "referer",
    [
        None,
        "https://evil.example/logga-in",
        "http://formservice.test/logga-in",  # downgraded scheme
        "https://formservice.test:8443/logga-in",  # another port is another origin
    ],
)
def test_https_post_without_a_same_origin_referer_is_refused(strict_client, referer):
    page = strict_client.get("/logga-in", base_url=SITE)
    headers = {"Referer": referer} if referer else {}
    data = {"csrf_token": csrf_token(page), "email": CHEF_A, "password": PASSWORD}
    response = strict_client.post("/logga-in", base_url=SITE, data=data, headers=headers)
    assert response.status_code == 400
    assert "säkerhetskod" in response.get_data(as_text=True)
    assert not logged_in(strict_client)


def test_answer_by_link_over_https(strict_client):
    deviation = send_report()
    token = make_token(deviation.id, CHEF_B, deviation.link_version)
    page_url = f"{SITE}/svara/{token}"
    page = strict_client.get(page_url)
    referer = browser_referer(page.headers["Referrer-Policy"], page_url, page_url)
    assert referer == page_url  # the token goes only to ourselves
    assert browser_referer(page.headers["Referrer-Policy"], page_url, "https://x.example/") is None
    response = strict_client.post(
        page_url,
        headers={"Referer": referer},
        data={
            "csrf_token": csrf_token(page),
            "responder_name": "Ines Sved",
            "assessment": "Remissen hade hamnat fel.",
            "agrees": "ja",
            "attest": "y",
        },
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    assert "Tack för ditt svar" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Deviation, deviation.id).state == "besvarad"


@pytest.mark.parametrize(
    ("base_url", "setting", "secure"),
    [
        ("https://bus.stad.example", None, True),
        ("https://bus.stad.example", False, False),  # an explicit value wins
        ("http://127.0.0.1:5000", None, False),
        ("http://127.0.0.1:5000", True, True),
    ],
)
def test_session_cookie_is_secure_when_the_base_url_is_https(
    directory, db_url, smtp_sink, tmp_path, base_url, setting, secure
):
    config = base_config(db_url, smtp_sink, tmp_path) | {
        "WTF_CSRF_ENABLED": False,
        "FORMSERVICE_BASE_URL": base_url,
    }
    if setting is not None:
        config["FORMSERVICE_SECURE_COOKIES"] = setting
    app = make_app(config)
    try:
        client = app.test_client()
        data = {"email": CHEF_A, "password": PASSWORD}
        response = client.post("/logga-in", base_url=SITE, data=data)
        assert response.status_code == 302
        cookie = response.headers["Set-Cookie"]
        assert cookie.startswith("session=")
        assert ("; Secure" in cookie) is secure, cookie
    finally:
        close(app)


# --- Reverse proxies (FORMSERVICE_TRUSTED_PROXIES, Werkzeug's ProxyFix) ---

FORWARDED = {
    "X-Forwarded-For": "198.51.100.7, 203.0.113.9",
    "X-Forwarded-Proto": "https",
    "X-Forwarded-Host": "bus.stad.example",
    "X-Forwarded-Port": "443",
}


def make_app(config: dict):
    """A second app on the test's database (the `directory` fixture has filled it)."""
    app = create_app(config)

    @app.get("/_probe")
    def probe():
        return {
            "scheme": request.scheme,
            "secure": request.is_secure,
            "host": request.host,
            "remote_addr": request.remote_addr,
        }

    return app


@pytest.fixture
def proxied_app(directory, db_url, smtp_sink, tmp_path):
    """Make an app with FORMSERVICE_TRUSTED_PROXIES set and CSRF on."""
    apps = []

    def make(trusted: int, **config):
        settings = base_config(db_url, smtp_sink, tmp_path) | config
        apps.append(make_app(settings | {"FORMSERVICE_TRUSTED_PROXIES": trusted}))
        return apps[-1]

    yield make
    for app in apps:
        close(app)


def test_forwarded_headers_are_ignored_without_trusted_proxies(proxied_app):
    client = proxied_app(0).test_client()
    seen = client.get("/_probe", headers=FORWARDED, environ_base={"REMOTE_ADDR": "10.0.0.5"}).json
    assert seen == {
        "scheme": "http",
        "secure": False,
        "host": "localhost",
        "remote_addr": "10.0.0.5",
    }
    assert "Strict-Transport-Security" not in client.get("/logga-in", headers=FORWARDED).headers


def test_one_trusted_proxy_gives_scheme_host_and_client_address(proxied_app):
    client = proxied_app(1).test_client()
    seen = client.get("/_probe", headers=FORWARDED, environ_base={"REMOTE_ADDR": "10.0.0.5"}).json
    # Only the address the proxy itself saw is trusted, never one the client wrote.
    assert seen == {
        "scheme": "https",
        "secure": True,
        "host": "bus.stad.example",
        "remote_addr": "203.0.113.9",
    }
    other_port = FORWARDED | {"X-Forwarded-Port": "8443"}
    assert client.get("/_probe", headers=other_port).json["host"] == "bus.stad.example:8443"
    page = client.get("/logga-in", headers=FORWARDED)
    assert page.headers["Strict-Transport-Security"] == "max-age=31536000"


def test_login_behind_a_trusted_proxy_that_terminates_tls(proxied_app):
    """nginx speaks plain http to gunicorn; the browser's https origin comes in headers."""
    app = proxied_app(1, WTF_CSRF_ENABLED=True, FORMSERVICE_BASE_URL="https://bus.stad.example")
    client = app.test_client()
    base = "http://127.0.0.1:8000"
    page = client.get("/logga-in", base_url=base, headers=FORWARDED)
    assert page.status_code == 200
    data = {"csrf_token": csrf_token(page), "email": CHEF_A, "password": PASSWORD}
    foreign = FORWARDED | {"Referer": "https://evil.example/logga-in"}
    assert client.post("/logga-in", base_url=base, data=data, headers=foreign).status_code == 400
    ours = FORWARDED | {"Referer": "https://bus.stad.example/logga-in"}
    response = client.post("/logga-in", base_url=base, data=data, headers=ours)
    assert response.status_code == 302
    assert "; Secure" in response.headers["Set-Cookie"]


def test_a_negative_number_of_proxies_is_refused(db_url, smtp_sink, tmp_path):
    config = base_config(db_url, smtp_sink, tmp_path) | {"FORMSERVICE_TRUSTED_PROXIES": -1}
    with pytest.raises(RuntimeError, match="FORMSERVICE_TRUSTED_PROXIES"):
        create_app(config)


def get_until_up(url: str, headers: dict, proc: subprocess.Popen, seconds: float = 30):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert proc.poll() is None, "formservice web exited during start-up"
        try:
            return urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=5)
        except (urllib.error.URLError, OSError):
            time.sleep(0.2)
    raise AssertionError(f"formservice web did not answer within {seconds} s")


@pytest.mark.parametrize(("trusted", "hsts"), [("0", False), ("1", True)])
def test_gunicorn_leaves_forwarded_headers_to_the_setting(sqlite_url, tmp_path, trusted, hsts):
    """gunicorn itself would believe X-Forwarded-Proto from 127.0.0.1; only the setting may."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("FORMSERVICE_")}
    env |= {
        "FORMSERVICE_SECRET_KEY": "https-test-secret",
        "FORMSERVICE_DATABASE_URL": f"sqlite:///{tmp_path / 'web.db'}",
        "FORMSERVICE_TRUSTED_PROXIES": trusted,
    }
    script = Path(sys.executable).parent / "formservice"
    command = [str(script)] if script.exists() else [sys.executable, "-m", "formservice.cli"]
    args = ["web", "--host", "127.0.0.1", "--port", str(port), "--workers", "1"]
    with (tmp_path / "web.log").open("w") as log:
        proc = subprocess.Popen(command + args, env=env, cwd=ROOT, stdout=log, stderr=log)
    try:
        url = f"http://127.0.0.1:{port}/logga-in"
        with get_until_up(url, {"X-Forwarded-Proto": "https"}, proc) as response:
            assert response.status == 200
            assert ("Strict-Transport-Security" in response.headers) is hsts
    finally:
        proc.terminate()
        proc.wait(timeout=30)
