"""Sign-on through a real OpenID provider (tests/oidc/provider.mjs) in Debian's Chromium, on
the deployed shape: Chromium → nginx (TLS) → gunicorn, the app behind ProxyFix. Chef A signs
on with the organisation's account, files a report and signs out (here and at the
provider); a person the directory does not know gets a clear page. axe-core on our pages.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import Page, expect

from tests.integration.helpers import CHEF_A
from tests.oidc_provider import CLIENT_ID, CLIENT_SECRET, Provider, running_provider
from tests.support.ports import free_port

from .conftest import ProxiedStack, check_a11y, proxied_stack
from .test_deviation_journey import fill_valid_report, today

pytestmark = [pytest.mark.browser, pytest.mark.slow]

DESCRIPTION = "Remissen besvarades inte inom överenskommen tid (inloggad via organisationen)."


@pytest.fixture(scope="module")
def signed_on_stack(smtp_sink) -> Iterator[tuple[ProxiedStack, Provider]]:
    """The TLS stack with sign-on configured, and the provider it trusts (started once the
    stack's https address, the redirect address to register, is known)."""
    port = free_port()
    issuer = f"http://127.0.0.1:{port}"
    settings = {
        "FORMSERVICE_OIDC_ISSUER": issuer,
        "FORMSERVICE_OIDC_CLIENT_ID": CLIENT_ID,
        "FORMSERVICE_OIDC_CLIENT_SECRET": CLIENT_SECRET,
    }
    with (
        proxied_stack(smtp_sink, **settings) as stack,
        running_provider(
            [stack.url("/logga-in/oidc")], [stack.url("/logga-in")], port=port
        ) as provider,
    ):
        yield stack, provider


def sign_on(page: Page, stack: ProxiedStack, provider: Provider, email: str) -> None:
    """From our login page through the provider's login form and back."""
    page.goto(stack.url("/logga-in"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Logga in")
    check_a11y(page)
    with page.expect_request(re.compile(re.escape(provider.issuer) + r"/auth\?")) as started:
        page.get_by_role("link", name="Logga in med organisationens konto").click()
    query = parse_qs(urlsplit(started.value.url).query)
    # behind nginx and ProxyFix the provider is told the https address users see
    assert query["redirect_uri"] == [stack.url("/logga-in/oidc")]
    assert query["code_challenge_method"] == ["S256"]
    expect(page.get_by_role("heading", level=1)).to_have_text("Testleverantörens inloggning")
    page.get_by_label("E-postadress").fill(email)
    page.get_by_role("button", name="Logga in hos testleverantören").click()
    expect(page).to_have_url(re.compile("^" + re.escape(stack.base_url)))


def test_sign_on_file_a_report_and_sign_out(signed_on_stack, new_context):
    stack, provider = signed_on_stack
    chef_a = new_context(ignore_https_errors=True).new_page()
    sign_on(chef_a, stack, provider, CHEF_A)
    expect(chef_a).to_have_url(re.compile(r"/avvikelser#att-besvara$"))
    expect(chef_a.locator("header .who")).to_have_text("Fia Familj")
    check_a11y(chef_a)

    chef_a.get_by_role("navigation", name="Huvudmeny").get_by_role(
        "link", name="Ny avvikelse"
    ).click()
    fill_valid_report(chef_a, DESCRIPTION)
    chef_a.get_by_label("Jag intygar att rapporten är avidentifierad").check()
    chef_a.get_by_role("button", name="Skicka avvikelsen").click()
    expect(chef_a.get_by_role("heading", level=1)).to_contain_text(f"BUS-{today().year}-0001")
    check_a11y(chef_a)

    # Logging out ends the session here, then the provider's (it asks once), and the
    # provider sends the browser back to our login page.
    chef_a.get_by_role("button", name="Logga ut").click()
    expect(chef_a).to_have_url(re.compile("^" + re.escape(provider.issuer) + "/session/end"))
    chef_a.get_by_role("button", name="Ja, logga ut").click()
    expect(chef_a).to_have_url(re.compile("^" + re.escape(stack.url("/logga-in"))))
    expect(chef_a.get_by_role("status")).to_contain_text("Du är utloggad.")
    check_a11y(chef_a)
    chef_a.goto(stack.url("/avvikelser"))
    expect(chef_a).to_have_url(re.compile(r"/logga-in"))
    # the provider's session has ended too: its login form is asked for again
    chef_a.goto(stack.url("/logga-in"))
    chef_a.get_by_role("link", name="Logga in med organisationens konto").click()
    expect(chef_a.get_by_role("heading", level=1)).to_have_text("Testleverantörens inloggning")

    web_log = (stack.log_dir / "web.log").read_text()
    assert '"GET /logga-in/oidc" 302' in web_log
    assert "code=" not in web_log and "state=" not in web_log  # the access log has no query


def test_unknown_person_gets_a_clear_page_without_javascript(signed_on_stack, new_context):
    """The button is a link and every page a plain form: sign-on works without JavaScript."""
    stack, provider = signed_on_stack
    page = new_context(ignore_https_errors=True, java_script_enabled=False).new_page()
    sign_on(page, stack, provider, "okand.person@stad.example")
    expect(page.get_by_role("heading", level=1)).to_have_text("Inloggningen misslyckades")
    expect(page.get_by_role("main")).to_contain_text("finns inte i BUS-katalogen")
    check_a11y(page)
    page.goto(stack.url("/avvikelser"))
    expect(page).to_have_url(re.compile(r"/logga-in"))
