"""The deployed shape: Chromium → nginx (TLS, deploy/nginx/formservice.conf) → gunicorn.

Log in, file a report, answer it through the e-mailed https link, log out; axe-core on every
page. Every form is posted over https, so Flask-WTF's strict Referer check runs on each one.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.integration.helpers import CHEF_A, CHEF_B
from tests.support.http import Client
from tests.support.waiting import wait_for

from .conftest import check_a11y, wait_for_mail
from .test_deviation_journey import LINK, fill_valid_report, group, log_in, today

pytestmark = [pytest.mark.browser, pytest.mark.slow]

DESCRIPTION = "Remissen till BUP besvarades inte inom överenskommen tid (via https)."
ASSESSMENT = "Remissen hade hamnat i fel funktionsbrevlåda hos oss."
HSTS = "max-age=31536000"


def test_plain_http_is_redirected_to_https(tls_stack):
    answer = Client(tls_stack.http_url, timeout=10).get("/logga-in")
    assert answer.status == 301
    # The site's https port is 443 in production; the test's nginx listens elsewhere.
    assert answer.location == "https://127.0.0.1/logga-in"


def test_nginx_gives_the_service_its_own_request_id(tls_stack):
    """X-Request-ID from nginx ($request_id), not the client's: in the answer and in both
    logs, so a line in nginx's log leads to the service's and the worker's lines."""
    client = Client(tls_stack.base_url, timeout=10, ssl_context=tls_stack.ssl_context())
    answer = client.get("/healthz", headers={"X-Request-ID": "chosen-by-the-client"})
    assert answer.status == 200
    request_id = answer.headers["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", request_id), request_id
    # nginx writes its access log line after the answer has gone out: wait for it.
    access_log = tls_stack.log_dir / "formservice.access.log"
    wait_for(lambda: "/healthz HTTP/" in access_log.read_text(), 10, "nginx's log line")
    logged = access_log.read_text()
    assert '/healthz HTTP/2.0" 200' in logged or '/healthz HTTP/1.1" 200' in logged
    assert request_id in logged and "chosen-by-the-client" not in logged


def test_journey_through_nginx_over_https(tls_stack, new_context, smtp_sink):
    stack = tls_stack
    assert stack.base_url.startswith("https://")

    # Chef A logs in over https. HSTS comes from the app only when it sees https: behind
    # nginx that is FORMSERVICE_TRUSTED_PROXIES at work.
    chef_a = new_context(ignore_https_errors=True).new_page()
    response = chef_a.goto(stack.url("/logga-in"))
    assert response is not None and response.status == 200
    assert response.headers["strict-transport-security"] == HSTS
    assert response.headers["referrer-policy"] == "same-origin"
    log_in(chef_a, stack, CHEF_A)
    (session,) = [c for c in chef_a.context.cookies() if c["name"] == "session"]
    assert session["secure"] and session["httpOnly"]  # https base URL → Secure by default
    check_a11y(chef_a)

    # ... and files a report.
    chef_a.get_by_role("navigation", name="Huvudmeny").get_by_role(
        "link", name="Ny avvikelse"
    ).click()
    expect(chef_a.get_by_role("heading", level=1)).to_have_text("Avvikelse i BUS-samverkan")
    check_a11y(chef_a)
    fill_valid_report(chef_a, DESCRIPTION)
    chef_a.get_by_label("Jag intygar att rapporten är avidentifierad").check()
    chef_a.get_by_role("button", name="Skicka avvikelsen").click()
    case_number = f"BUS-{today().year}-0001"
    expect(chef_a.get_by_role("heading", level=1)).to_contain_text(case_number)
    check_a11y(chef_a)

    # The e-mailed link is the https address of nginx.
    message = wait_for_mail(smtp_sink, CHEF_B, case_number)
    match = LINK.search(message.get_body(("plain",)).get_content())
    assert match, message.get_content()
    link = match.group(0)
    assert link.startswith(stack.base_url + "/svara/")
    token = link.split("/svara/", 1)[1]

    # Chef B answers through it; the form posts to /svara/<token> with that page as Referer.
    chef_b = new_context(ignore_https_errors=True).new_page()
    response = chef_b.goto(link)
    assert response is not None and response.status == 200
    assert response.headers["referrer-policy"] == "same-origin"
    expect(chef_b.get_by_role("heading", level=1)).to_have_text(f"Svara på avvikelse {case_number}")
    check_a11y(chef_b)
    chef_b.get_by_label("Verksamhetens bedömning").fill(ASSESSMENT)
    group(chef_b, "Instämmer ni i beskrivningen?").get_by_label("Ja", exact=True).check()
    chef_b.get_by_label("Jag intygar att svaret är avidentifierat").check()
    chef_b.get_by_role("button", name="Skicka svaret").click()
    expect(chef_b.get_by_role("heading", level=1)).to_have_text("Tack för ditt svar")
    check_a11y(chef_b)

    # Chef A sees the answer, then logs out.
    chef_a.reload()
    answer = chef_a.get_by_role("region", name="Svar från mottagande verksamhet")
    expect(answer).to_contain_text(ASSESSMENT)
    chef_a.get_by_role("button", name="Logga ut").click()
    expect(chef_a).to_have_url(re.compile(r"/logga-in$"))
    expect(chef_a.get_by_role("status")).to_contain_text("Du är utloggad.")
    check_a11y(chef_a)
    chef_a.goto(stack.url("/avvikelser"))
    expect(chef_a).to_have_url(re.compile(r"/logga-in"))

    # A client cannot choose its own address: only the hop nginx adds is trusted.
    client = Client(stack.base_url, timeout=10, ssl_context=stack.ssl_context())
    assert client.get("/finns-inte", headers={"X-Forwarded-For": "203.0.113.66"}).status == 404

    # The app logged the browser's address (127.0.0.1) from X-Forwarded-For, never nginx's
    # own (it connects from 127.0.0.2) nor the one the client wrote.
    # gunicorn writes its access line after the answer has gone out: wait for the last one.
    web_path = stack.log_dir / "web.log"
    wait_for(lambda: '"GET /finns-inte" 404' in web_path.read_text(), 10, "web.log's last line")
    web_log = web_path.read_text()
    for line in (
        '127.0.0.1 "POST /logga-in" 302',
        '127.0.0.1 "POST /avvikelser/ny" 302',
        '127.0.0.1 "POST /svara/[token]" 200',
        '127.0.0.1 "POST /logga-ut" 302',
        '127.0.0.1 "GET /finns-inte" 404',
    ):
        assert line in web_log, line
    assert "127.0.0.2" not in web_log and "203.0.113.66" not in web_log

    # nginx served HTTP/2 over TLS and logged neither the token nor any Referer.
    nginx_log = (stack.log_dir / "formservice.access.log").read_text()
    assert '"POST /svara/[token] HTTP/2.0" 200' in nginx_log
    assert '"POST /logga-in HTTP/2.0" 302' in nginx_log
    for log in stack.log_dir.glob("*.log"):
        assert token not in log.read_text(), log.name
