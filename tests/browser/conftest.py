"""The real production stack (gunicorn + RQ worker as subprocesses) driven by Debian's Chromium.

Everything is real: a fresh PostgreSQL database of its own, Redis DB 14, the aiosmtpd sink;
`tls_stack` puts Debian's nginx in front, terminating TLS with the project's site configuration.
Nothing is skipped: a missing Chromium, nginx, database or Redis makes the tests fail.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import ssl
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path

import pytest

from tests.support import postgres, processes, redis
from tests.support.paths import ROOT
from tests.support.ports import free_port
from tests.support.processes import Proc
from tests.support.stack import environment, prepared_database, web, worker
from tests.support.stack import formservice_command as formservice_command
from tests.support.waiting import wait_for, wait_for_http

BROWSER_REDIS_URL = redis.browser_redis_url()
CHROMIUM = os.environ.get("FORMSERVICE_TEST_CHROMIUM", "/usr/bin/chromium")
NGINX = os.environ.get("FORMSERVICE_TEST_NGINX", "/usr/sbin/nginx")
NGINX_SITE = ROOT / "deploy" / "nginx" / "formservice.conf"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
#: The people who log in or answer during the browser tests.
PEOPLE = [
    "fia.familj@stad.example",
    "ines.sved@region.example",
    "hanna.hab@region.example",
    "ada@stad.example",
]
TIMEOUT_MS = 20_000


@dataclass
class LiveStack:
    base_url: str
    database_url: str
    log_dir: Path
    web_url: str  # `formservice web` itself; the same as base_url without a proxy

    def url(self, path: str) -> str:
        return self.base_url + path

    def logs(self) -> str:
        return processes.logs(self.log_dir)


@contextlib.contextmanager
def formservice_stack(
    smtp_sink, log_dir: Path, base_url: str | None = None, **settings: str
) -> Iterator[tuple[LiveStack, list[Proc]]]:
    """Web and worker on a database of their own; `base_url` is the address users see."""
    db_name, db_url = prepared_database("formservice_browser", PEOPLE, BROWSER_REDIS_URL, log_dir)
    redis.flush(BROWSER_REDIS_URL)
    smtp_sink.clear()  # each stack numbers its cases from BUS-ÅÅÅÅ-0001 again
    port = free_port()
    web_url = f"http://127.0.0.1:{port}"
    defaults = {
        "FORMSERVICE_SMTP_HOST": smtp_sink.host,
        "FORMSERVICE_SMTP_PORT": str(smtp_sink.port),
        "FORMSERVICE_BASE_URL": base_url or web_url,
        "FORMSERVICE_DELIVERY_BACKOFF_SECONDS": "1",
        "FORMSERVICE_SWEEP_INTERVAL_SECONDS": "5",
        # One factor unless the journey is about the second (test_account_journeys.py)
        "FORMSERVICE_REQUIRE_2FA": "none",
    }
    env = environment(db_url, BROWSER_REDIS_URL, **(defaults | settings))
    stack = LiveStack(base_url or web_url, db_url, log_dir, web_url)
    procs: list[Proc] = []
    try:
        procs.append(web(env, log_dir, port))
        procs.append(worker(env, log_dir))
        wait_for_http(web_url + "/logga-in", procs, 30, on_fail=stack.logs)
        yield stack, procs
    finally:
        processes.stop_all(procs, timeout=20)
        redis.flush(BROWSER_REDIS_URL)
        postgres.drop_database(db_name)


_formservice_stack = formservice_stack  # the old private name, for one release


@pytest.fixture(scope="module")
def live_stack(smtp_sink):
    """`formservice web` (gunicorn) and `formservice worker` on a database of their own."""
    # Not under pytest's basetemp: concurrent pytest runs prune old basetemp folders.
    log_dir = Path(tempfile.mkdtemp(prefix="formservice-browser-"))
    try:
        with formservice_stack(smtp_sink, log_dir) as (stack, _procs):
            yield stack
    finally:
        shutil.rmtree(log_dir, ignore_errors=True)


@dataclass
class ProxiedStack(LiveStack):
    """The live stack behind nginx: base_url is nginx's https address."""

    http_url: str = ""  # nginx's plain-http server, which only redirects
    certificate: Path = Path()  # the self-signed certificate nginx presents

    def ssl_context(self) -> ssl.SSLContext:
        """A client context that trusts nginx's certificate, and only it."""
        return ssl.create_default_context(cafile=str(self.certificate))


def render_site(template: str, **values: str) -> str:
    """Fill the @PLACEHOLDER@s of deploy/nginx/formservice.conf; every one must be given."""
    for name, value in values.items():
        template = template.replace(f"@{name}@", value)
    left = sorted(set(re.findall(r"@[A-Z_]+@", template)))
    assert not left, f"placeholders without a value: {left}"
    return template


def _self_signed_certificate(folder: Path) -> Path:
    """fullchain.pem and privkey.pem for 127.0.0.1, made with the openssl program."""
    folder.mkdir(mode=0o700)
    openssl = shutil.which("openssl")
    if not openssl:
        pytest.fail("The openssl program is missing (Debian package openssl).")
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"]
        + ["-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"]
        + ["-keyout", str(folder / "privkey.pem"), "-out", str(folder / "fullchain.pem")],
        check=True,
        capture_output=True,
        timeout=60,
    )
    return folder / "fullchain.pem"


def _nginx_conf(run_dir: Path, site: Path) -> str:
    """The main configuration around the site file, as Debian's nginx.conf has it, but with
    every path in the test's folder. nginx connects to gunicorn from 127.0.0.2, so the client
    address the app logs (127.0.0.1, the browser) can only come from X-Forwarded-For."""
    temp = "\n".join(
        f"    {kind}_temp_path {run_dir / kind};"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    return f"""worker_processes 1;
daemon off;
pid {run_dir / "nginx.pid"};
error_log {run_dir / "nginx-main.log"} notice;
events {{ worker_connections 256; }}
http {{
    access_log {run_dir / "nginx-other.log"};
{temp}
    proxy_bind 127.0.0.2;
    include {site};
}}
"""


@pytest.fixture(scope="module")
def tls_stack(smtp_sink):
    """The live stack behind Debian's nginx terminating TLS, configured by the site file
    that ships in deploy/nginx/ (with this test's ports and folders), as in production."""
    with proxied_stack(smtp_sink) as stack:
        yield stack


@contextlib.contextmanager
def proxied_stack(smtp_sink, **settings: str) -> Iterator[ProxiedStack]:
    """`tls_stack` with more settings for web and worker (a module's own fixture)."""
    if not (os.path.isfile(NGINX) and os.access(NGINX, os.X_OK)):
        pytest.fail(
            f"nginx not found at {NGINX!r}. Install Debian's nginx package "
            "or set FORMSERVICE_TEST_NGINX to its path."
        )
    log_dir = Path(tempfile.mkdtemp(prefix="formservice-tls-"))
    log_dir.chmod(0o711)  # nginx's workers (user nobody when started as root) reach their temp
    https_port, http_port = free_port(), free_port()
    public = f"https://127.0.0.1:{https_port}"
    try:
        certificate = _self_signed_certificate(log_dir / "tls")
        with formservice_stack(
            smtp_sink, log_dir, base_url=public, FORMSERVICE_TRUSTED_PROXIES="1", **settings
        ) as (live, procs):
            stack = ProxiedStack(
                **vars(live), http_url=f"http://127.0.0.1:{http_port}", certificate=certificate
            )
            site = log_dir / "site.conf"
            site.write_text(
                render_site(
                    NGINX_SITE.read_text(encoding="utf-8"),
                    SERVER_NAME="127.0.0.1",
                    HTTPS_LISTEN=f"127.0.0.1:{https_port}",
                    HTTP_LISTEN=f"127.0.0.1:{http_port}",
                    TLS_DIR=str(certificate.parent),
                    LOG_DIR=str(log_dir),
                    UPSTREAM=live.web_url.removeprefix("http://"),
                )
            )
            conf = log_dir / "nginx.conf"
            conf.write_text(_nginx_conf(log_dir, site))
            command = [NGINX, "-p", str(log_dir), "-c", str(conf), "-e", "stderr"]
            check = subprocess.run(command + ["-t"], capture_output=True, text=True, timeout=30)
            if check.returncode != 0:
                pytest.fail(f"nginx refused the configuration:\n{check.stderr}")
            procs.append(Proc("nginx", command, dict(os.environ), log_dir).start())
            wait_for_http(
                stack.url("/logga-in"), procs, 30, stack.ssl_context(), on_fail=stack.logs
            )
            yield stack
    finally:
        shutil.rmtree(log_dir, ignore_errors=True)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """A failed test that used the live stack shows the tail of the servers' logs."""
    report = yield
    funcargs = getattr(item, "funcargs", {})
    stack = funcargs.get("live_stack") or funcargs.get("tls_stack")
    if report.failed and isinstance(stack, LiveStack):
        report.sections.append(("live stack logs", stack.logs()))
    return report


@pytest.fixture(scope="module")
def browser():
    """Debian's Chromium through Playwright; never a downloaded browser."""
    if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)) and not shutil.which(
        CHROMIUM
    ):
        pytest.fail(
            f"Chromium not found at {CHROMIUM!r}. Install Debian's chromium package "
            "or set FORMSERVICE_TEST_CHROMIUM to the browser's path (never `playwright install`)."
        )
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=TIMEOUT_MS)
    playwright = sync_playwright().start()
    try:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    except Exception as exc:
        playwright.stop()
        pytest.fail(f"Chromium at {CHROMIUM!r} could not be started: {exc}")
    try:
        yield chromium
    finally:
        chromium.close()
        playwright.stop()


@pytest.fixture
def new_context(browser):
    """Make browser contexts (separate cookie jars) that are closed after the test."""
    contexts = []

    def make(**options):
        context = browser.new_context(locale="sv-SE", **options)
        context.set_default_timeout(TIMEOUT_MS)
        context.formservice_javascript = options.get("java_script_enabled", True)
        contexts.append(context)
        return context

    yield make
    for context in contexts:
        context.close()


def check_a11y(page) -> None:
    """axe-core on the page as it is now: no violations of any rule.

    axe-core is JavaScript: in a context with JavaScript turned off (where evaluating would
    hang), the page's HTML as served is checked in a scratch JavaScript context instead, at
    the same address so that the style sheet and relative links load from the live server.
    """
    from axe_playwright_python.sync_playwright import Axe

    if getattr(page.context, "formservice_javascript", True):
        results = Axe().run(page)
    else:
        html, url = page.content(), page.url
        scratch = page.context.browser.new_context(locale="sv-SE")
        try:
            scratch.set_default_timeout(TIMEOUT_MS)
            copy = scratch.new_page()
            copy.route(
                url,
                lambda route: route.fulfill(
                    status=200, content_type="text/html; charset=utf-8", body=html
                ),
            )
            copy.goto(url, wait_until="load")
            results = Axe().run(copy)
        finally:
            scratch.close()
    if results.violations_count:
        report = results.generate_report()
        print(f"axe-core violations on {page.url}:\n{report}")
        pytest.fail(
            f"{results.violations_count} accessibility violation(s) on {page.url}:\n{report}",
            pytrace=False,
        )


def wait_for_mail(sink, to: str, contains: str, seconds: float = 30) -> EmailMessage:
    """Poll the SMTP sink until the worker has delivered a matching message."""

    def found() -> EmailMessage | None:
        with sink.lock:
            messages = list(sink.messages)
        return next((m for m in messages if m["To"] == to and contains in str(m["Subject"])), None)

    def seen() -> str:
        with sink.lock:
            return str([(m["To"], str(m["Subject"])) for m in sink.messages])

    return wait_for(
        found, seconds, f"an e-mail to {to} with {contains!r} in the subject", on_fail=seen
    )
