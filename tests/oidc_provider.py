"""The real OpenID provider of the sign-on tests (tests/oidc/provider.mjs, npm oidc-provider)
run with the machine's Node.js, and a user agent for its pages driven with requests."""

from __future__ import annotations

import html
import os
import re
import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urljoin

import pytest
import requests

HARNESS = Path(__file__).resolve().parent / "oidc"
CLIENT_ID = "formservice"
CLIENT_SECRET = "formservice-hemlighet"
MFA = "urn:formservice:test:mfa"


@dataclass
class Provider:
    issuer: str

    def settings(self, **extra: str) -> dict[str, str]:
        """The FORMSERVICE_OIDC_* settings of a client of this provider."""
        return {
            "FORMSERVICE_OIDC_ISSUER": self.issuer,
            "FORMSERVICE_OIDC_CLIENT_ID": CLIENT_ID,
            "FORMSERVICE_OIDC_CLIENT_SECRET": CLIENT_SECRET,
            **extra,
        }

    def tamper(self, **change: object) -> None:
        """Change the ID token of the next token response (provider.mjs, /__test/tamper)."""
        requests.post(f"{self.issuer}/__test/tamper", json=change, timeout=5).raise_for_status()


@contextmanager
def running_provider(
    redirect_uris: list[str],
    post_logout_uris: list[str],
    clock_skew: int = 0,
    id_token_ttl: int = 3600,
    port: int | None = None,
) -> Iterator[Provider]:
    """Start provider.mjs on a free port; fail (never skip) without Node.js or the harness's
    npm packages (scripts/bootstrap.sh runs `npm ci`)."""
    node = shutil.which("node")
    if node is None:
        pytest.fail("Node.js saknas: testernas OpenID-leverantör kan inte startas (nodejs).")
    if not (HARNESS / "node_modules" / "oidc-provider").is_dir():
        pytest.fail("tests/oidc/node_modules saknas: kör scripts/bootstrap.sh (npm ci).")
    from tests.support.ports import free_port

    port = port or free_port()
    env = {
        **os.environ,
        "OIDC_PORT": str(port),
        "OIDC_REDIRECT_URIS": ",".join(redirect_uris),
        "OIDC_POST_LOGOUT_URIS": ",".join(post_logout_uris),
        "OIDC_CLOCK_SKEW": str(clock_skew),
        "OIDC_ID_TOKEN_TTL": str(id_token_ttl),
    }
    proc = subprocess.Popen(
        [node, str(HARNESS / "provider.mjs")],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        line = proc.stdout.readline() if proc.stdout else ""
        if not line.startswith("ready "):
            pytest.fail(f"OpenID-leverantören startade inte: {line!r}")
        issuer = line.split()[1]
        _wait_for(issuer)
        yield Provider(issuer)
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        if proc.stdout:
            proc.stdout.close()  # else its pipe is left to the garbage collector (ResourceWarning)


def _wait_for(issuer: str) -> None:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        try:
            requests.get(f"{issuer}/.well-known/openid-configuration", timeout=2)
            return
        except requests.ConnectionError:
            time.sleep(0.1)
    pytest.fail("OpenID-leverantören svarar inte")


def sign_in_at_provider(
    agent: requests.Session,
    authorize_url: str,
    email: str,
    stop_at: str,
    mfa: bool = False,
    cancel: bool = False,
) -> str:
    """Follow the provider's pages from the authorization URL as a browser would, log in
    as `email`, and return the first redirect to an address starting with `stop_at` (our
    callback with code and state, not followed)."""
    url = _follow(agent, agent.get(authorize_url, allow_redirects=False), stop_at)
    if url.startswith(stop_at):
        return url
    page = agent.get(url)
    action = re.search(r'<form method="post" action="([^"]+)"', page.text)
    assert action, page.text
    data = {"login": email}
    if mfa:
        data["mfa"] = "ja"
    if cancel:
        data["cancel"] = "ja"
    response = agent.post(urljoin(url, action.group(1)), data=data, allow_redirects=False)
    return _follow(agent, response, stop_at)


def log_out_at_provider(agent: requests.Session, end_session_url: str, stop_at: str) -> str:
    """Open the provider's end_session page, confirm, and return where it sends back."""
    page = agent.get(end_session_url)
    assert page.status_code == 200, page.text
    form = re.search(r'<form[^>]*action="([^"]+)"[^>]*>(.*?)</form>', page.text, re.S)
    assert form, page.text
    fields = dict(re.findall(r'name="([^"]+)" value="([^"]*)"', form.group(2)))
    fields["logout"] = "yes"
    response = agent.post(
        urljoin(end_session_url, html.unescape(form.group(1))), data=fields, allow_redirects=False
    )
    return _follow(agent, response, stop_at)


def _follow(agent: requests.Session, response: requests.Response, stop_at: str) -> str:
    """Follow redirects on the provider until one leaves for `stop_at` or a page is shown."""
    for _ in range(10):
        if response.status_code not in (302, 303):
            return response.url
        location = urljoin(response.url, response.headers["Location"])
        if location.startswith(stop_at):
            return location
        response = agent.get(location, allow_redirects=False)
    raise AssertionError("too many redirects at the provider")
