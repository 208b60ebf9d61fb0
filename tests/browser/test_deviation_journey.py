"""The issue's journey in a real browser against the real stack, with axe-core on every page."""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Page, expect

from tests.integration.helpers import ADMIN, CHEF_A, CHEF_B, UNRELATED_CHEF
from tests.support.accounts import PASSWORD

from .conftest import check_a11y, wait_for_mail

pytestmark = pytest.mark.browser

PNR = "811218-9876"  # synthetic, valid check digit
DESCRIPTION = "Remissen till BUP besvarades inte inom överenskommen tid."
ASSESSMENT = "Remissen hade hamnat i fel funktionsbrevlåda hos oss."
LINK = re.compile(r"https?://\S+/svara/[^\s>\"']+")


def today() -> datetime:
    return datetime.now(ZoneInfo("Europe/Stockholm"))


def log_in(page: Page, stack, email: str) -> None:
    page.goto(stack.url("/logga-in"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Logga in")
    check_a11y(page)
    page.get_by_label("E-postadress").fill(email)
    page.get_by_label("Lösenord").fill(PASSWORD)
    page.get_by_role("button", name="Logga in").click()
    expect(page).not_to_have_url(re.compile(r"/logga-in"))


def group(page: Page, legend: str):
    return page.get_by_role("group", name=legend)


def fill_valid_report(page: Page, description: str) -> None:
    page.get_by_label("Mottagande verksamhet").select_option(label="BUP Farsta")
    page.get_by_label("Datum för händelsen").fill(today().date().isoformat())
    page.get_by_label("Remiss eller förfrågan obesvarad eller avvisad").check()
    page.get_by_label("Beskrivning av avvikelsen").fill(description)
    page.get_by_label("Vad har gjorts för att lösa problemet?").fill(
        "Vi ringde mottagningen två gånger."
    )
    group(page, "Har ärendet behandlats i BUS-individ?").get_by_label("Nej", exact=True).check()
    group(page, "Barnets kön").get_by_label("Flicka", exact=True).check()


def test_report_answered_through_the_emailed_link(live_stack, new_context, smtp_sink):
    # Chef A logs in and opens the form.
    chef_a = new_context().new_page()
    log_in(chef_a, live_stack, CHEF_A)
    check_a11y(chef_a)  # the list of reports
    chef_a.get_by_role("navigation", name="Huvudmeny").get_by_role(
        "link", name="Ny avvikelse"
    ).click()
    expect(chef_a.get_by_role("heading", level=1)).to_have_text("Avvikelse i BUS-samverkan")
    check_a11y(chef_a)

    # Filled in by its labels, with a personnummer left in the description.
    chef_a.get_by_label("Mottagande verksamhet").select_option(label="BUP Farsta")
    chef_a.get_by_label("Datum för händelsen").fill(today().date().isoformat())
    chef_a.get_by_label("Remiss eller förfrågan obesvarad eller avvisad").check()
    chef_a.get_by_label("Beskrivning av avvikelsen").fill(f"{DESCRIPTION} Barnet har {PNR}.")
    chef_a.get_by_label("Vad har gjorts för att lösa problemet?").fill(
        "Vi ringde mottagningen två gånger."
    )
    group(chef_a, "Har ärendet behandlats i BUS-individ?").get_by_label("Nej", exact=True).check()
    group(chef_a, "Barnets kön").get_by_label("Flicka", exact=True).check()
    chef_a.get_by_label("Jag intygar att rapporten är avidentifierad").check()
    chef_a.get_by_role("button", name="Skicka avvikelsen").click()

    # The error names the field and the kind of data, never the value.
    summary = chef_a.locator(".error-summary")
    expect(summary).to_be_visible()
    expect(summary).to_contain_text("Beskrivning av avvikelsen:")
    expect(summary).to_contain_text("personnummer")
    expect(summary).not_to_contain_text(PNR)
    expect(chef_a).to_have_title(re.compile("^Fel i formuläret"))
    check_a11y(chef_a)

    # Fixed and sent.
    description = chef_a.get_by_label("Beskrivning av avvikelsen")
    expect(description).to_have_value(re.compile(re.escape(PNR)))
    description.fill(DESCRIPTION)
    chef_a.get_by_label("Jag intygar att rapporten är avidentifierad").check()
    chef_a.get_by_role("button", name="Skicka avvikelsen").click()
    case_number = f"BUS-{today().year}-0001"
    expect(chef_a.get_by_role("heading", level=1)).to_contain_text(case_number)
    expect(chef_a.get_by_role("status")).to_contain_text(case_number)
    check_a11y(chef_a)
    report_url = chef_a.url

    # The worker delivers the link to chef B.
    message = wait_for_mail(smtp_sink, CHEF_B, case_number)
    match = LINK.search(message.get_body(("plain",)).get_content())
    assert match, message.get_content()
    link = match.group(0)
    assert link.startswith(live_stack.base_url + "/svara/")

    # Chef B answers without an account, in a browser of their own.
    chef_b = new_context().new_page()
    chef_b.goto(link)
    expect(chef_b.get_by_role("heading", level=1)).to_have_text(f"Svara på avvikelse {case_number}")
    expect(chef_b.get_by_text(DESCRIPTION)).to_be_visible()
    check_a11y(chef_b)
    expect(chef_b.get_by_label("Svarande chef")).to_have_value("Ines Sved")
    chef_b.get_by_label("Verksamhetens bedömning").fill(ASSESSMENT)
    group(chef_b, "Instämmer ni i beskrivningen?").get_by_label("Ja", exact=True).check()
    chef_b.get_by_label("Jag intygar att svaret är avidentifierat").check()
    chef_b.get_by_role("button", name="Skicka svaret").click()
    expect(chef_b.get_by_role("heading", level=1)).to_have_text("Tack för ditt svar")
    check_a11y(chef_b)

    # The link cannot be used again.
    response = chef_b.goto(link)
    assert response is not None and response.status == 410
    expect(chef_b.get_by_role("main")).to_contain_text("redan besvarad")
    expect(chef_b.get_by_role("link", name="logga in")).to_have_attribute(
        "href", re.compile(r"/logga-in$")
    )
    check_a11y(chef_b)

    # Chef A sees the answer on the report.
    chef_a.goto(report_url)
    answer = chef_a.get_by_role("region", name="Svar från mottagande verksamhet")
    expect(answer).to_be_visible()
    expect(answer).to_contain_text(ASSESSMENT)
    check_a11y(chef_a)

    # ... and has been told by e-mail.
    answered = wait_for_mail(smtp_sink, CHEF_A, "har besvarats")
    assert case_number in str(answered["Subject"])


def test_without_javascript_and_error_pages(live_stack, new_context):
    context = new_context(java_script_enabled=False)
    page = context.new_page()
    log_in(page, live_stack, CHEF_A)

    # An empty form is refused by the server, with a summary linking to each field.
    page.goto(live_stack.url("/avvikelser/ny"))
    check_a11y(page)
    page.get_by_role("button", name="Skicka avvikelsen").click()
    summary = page.locator(".error-summary")
    expect(summary).to_be_visible()
    expect(summary.get_by_role("heading")).to_have_text("Formuläret innehåller fel")
    for text in (
        "Mottagande verksamhet:",
        "Datum för händelsen:",
        "Avvikelsen avser:",
        "Beskrivning av avvikelsen:",
        "Vad har gjorts för att lösa problemet?:",
        "Har ärendet behandlats i BUS-individ?:",
        "Barnets kön:",
        "Jag intygar att rapporten är avidentifierad:",
    ):
        expect(summary).to_contain_text(text)
    expect(
        summary.get_by_role("link", name=re.compile("^Mottagande verksamhet:"))
    ).to_have_attribute("href", "#receiving_unit")
    expect(page.get_by_label("Beskrivning av avvikelsen")).to_have_attribute("aria-invalid", "true")
    check_a11y(page)

    # 404: no such report.
    response = page.goto(live_stack.url("/avvikelser/999999"))
    assert response is not None and response.status == 404
    expect(page.get_by_role("heading", level=1)).to_have_text("Sidan finns inte")
    check_a11y(page)

    # 403: the admin has no role in any case.
    admin = new_context(java_script_enabled=False).new_page()
    log_in(admin, live_stack, ADMIN)
    response = admin.goto(live_stack.url("/avvikelser"))
    assert response is not None and response.status == 403
    expect(admin.get_by_role("heading", level=1)).to_have_text("Åtkomst nekad")
    check_a11y(admin)

    # A chef of an unrelated unit may not open someone else's draft.
    page.goto(live_stack.url("/avvikelser/ny"))
    fill_valid_report(page, "Ett utkast.")
    page.get_by_role("button", name="Spara som utkast").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("(utkast)")
    draft_path = re.sub(r"^https?://[^/]+", "", page.url)
    other = new_context(java_script_enabled=False).new_page()
    log_in(other, live_stack, UNRELATED_CHEF)
    response = other.goto(live_stack.url(draft_path))
    assert response is not None and response.status in (403, 404)
    check_a11y(other)
