"""The secretary plans a meeting and closes a case, in a real browser, axe-core on every page."""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Page, expect

from tests.integration.helpers import CHEF_A, CHEF_B, SECRETARIAT, SECRETARY
from tests.support.accounts import PASSWORD, give_password_in

from .conftest import check_a11y, wait_for_mail

pytestmark = pytest.mark.browser

DESCRIPTION = "Remissen till BUP besvarades inte inom överenskommen tid."
ACTION = "Gemensam genomgång av remissrutinen."
REASON = "Samma brist har rapporterats från flera stadsdelar."
PLACE = "Skarpnäcks stadsdelsförvaltning"


def today() -> str:
    return datetime.now(ZoneInfo("Europe/Stockholm")).date().isoformat()


def log_in(page: Page, stack, email: str) -> None:
    page.goto(stack.url("/logga-in"))
    check_a11y(page)
    page.get_by_label("E-postadress").fill(email)
    page.get_by_label("Lösenord").fill(PASSWORD)
    page.get_by_role("button", name="Logga in").click()
    expect(page).not_to_have_url(re.compile(r"/logga-in"))


def group(page: Page, legend: str):
    return page.get_by_role("group", name=legend)


def file_report(page: Page, stack) -> str:
    page.goto(stack.url("/avvikelser/ny"))
    page.get_by_label("Mottagande verksamhet").select_option(label="BUP Farsta")
    page.get_by_label("Datum för händelsen").fill(today())
    page.get_by_label("Remiss eller förfrågan obesvarad eller avvisad").check()
    page.get_by_label("Beskrivning av avvikelsen").fill(DESCRIPTION)
    page.get_by_label("Vad har gjorts för att lösa problemet?").fill("Vi ringde två gånger.")
    group(page, "Har ärendet behandlats i BUS-individ?").get_by_label("Nej", exact=True).check()
    group(page, "Barnets kön").get_by_label("Flicka", exact=True).check()
    page.get_by_label("Jag intygar att rapporten är avidentifierad").check()
    page.get_by_role("button", name="Skicka avvikelsen").click()
    heading = page.get_by_role("heading", level=1)
    expect(heading).to_contain_text("BUS-")
    return re.search(r"BUS-\d{4}-\d{4}", heading.inner_text()).group(0)


def plan_meeting(page: Page) -> None:
    page.get_by_role("navigation", name="Huvudmeny").get_by_role("link", name="Styrgrupp").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Styrgrupp")
    expect(page.get_by_text("Förslag på nästa möten")).to_be_visible()
    check_a11y(page)
    page.get_by_role("link", name="Planera ett möte").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Planera ett möte")
    check_a11y(page)
    page.get_by_role("button", name="Spara mötet").click()
    expect(page.locator(".error-summary")).to_contain_text("Mötesdatum: fyll i uppgiften.")
    check_a11y(page)
    page.get_by_label("Mötesdatum").fill(today())
    page.get_by_label("Plats").fill(PLACE)
    page.get_by_role("button", name="Spara mötet").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Styrgruppsmöte {today()}")
    check_a11y(page)


def fill_closing(page: Page) -> None:
    expect(page.get_by_label("Behandlad vid möte")).to_have_value(re.compile(r"^\d+$"))
    group(page, "Styrgruppens bedömning").get_by_label("Avvikelse bekräftad").check()
    first = group(page, "Åtgärd 1")
    first.get_by_label("Åtgärd", exact=True).fill(ACTION)
    first.get_by_label("Ansvarig verksamhet").select_option(label="BUP Farsta")
    first.get_by_label("Klart senast").fill("2027-03-31")
    group(page, "Lyfts till BUS-sekretariatet/BUSSAM").get_by_label("Ja", exact=True).check()
    page.get_by_label("Motivering").fill(REASON)


def test_secretary_plans_a_meeting_and_closes_a_case(live_stack, new_context, smtp_sink):
    give_password_in(live_stack.database_url, [SECRETARY])
    chef_a = new_context().new_page()
    log_in(chef_a, live_stack, CHEF_A)
    expect(chef_a.get_by_role("link", name="Styrgrupp")).to_have_count(0)
    case_number = file_report(chef_a, live_stack)
    report_url = chef_a.url

    # The secretary works without JavaScript: every step is a plain form.
    secretary = new_context(java_script_enabled=False).new_page()
    log_in(secretary, live_stack, SECRETARY)
    plan_meeting(secretary)
    cases = secretary.get_by_role("table")
    expect(cases).to_contain_text(case_number)
    expect(cases).to_contain_text("Skickad")

    secretary.get_by_role("link", name=f"Avsluta ärendet {case_number}").click()
    expect(secretary.get_by_role("heading", level=1)).to_have_text(
        f"Avslutning av ärendet {case_number}"
    )
    check_a11y(secretary)
    secretary.get_by_role("button", name="Avsluta ärendet").click()
    summary = secretary.locator(".error-summary")
    expect(summary).to_contain_text("Styrgruppens bedömning: fyll i uppgiften.")
    expect(summary).to_contain_text("Beslutade åtgärder: ange minst en åtgärd.")
    check_a11y(secretary)

    fill_closing(secretary)
    secretary.get_by_role("button", name="Avsluta ärendet").click()
    expect(secretary.get_by_role("heading", level=1)).to_contain_text(case_number)
    expect(secretary.get_by_role("heading", level=1)).to_contain_text("Avslutad")
    decision = secretary.get_by_role("region", name="Avslutning av ärendet")
    expect(decision).to_contain_text("Avvikelse bekräftad")
    expect(decision).to_contain_text(ACTION)
    expect(decision).to_contain_text(REASON)
    expect(secretary.get_by_role("link", name="Avsluta ärendet")).to_have_count(0)
    check_a11y(secretary)

    # Step 7 and the copy for the secretariat, without case content.
    for message in (
        wait_for_mail(smtp_sink, CHEF_B, f"{case_number} är avslutad"),
        wait_for_mail(smtp_sink, SECRETARIAT[0], "Lyfts till BUS-sekretariatet/BUSSAM"),
    ):
        body = message.get_body(("plain",)).get_content()
        assert report_url.split("/avvikelser/")[1] in body
        for secret in (DESCRIPTION, ACTION, REASON):
            assert secret not in body

    # The half-year evaluation, with its period chooser.
    secretary.goto(live_stack.url("/styrgrupp"))
    secretary.get_by_role("link", name="Halvårsuppföljning").click()
    expect(secretary.get_by_role("heading", level=1)).to_have_text(
        "Halvårsuppföljning av avvikelsehanteringen"
    )
    expect(secretary.get_by_role("table")).to_contain_text(case_number)
    check_a11y(secretary)
    secretary.get_by_label("Period").select_option(index=1)
    secretary.get_by_role("button", name="Visa").click()
    expect(secretary).to_have_url(re.compile(r"period=\d{4}H[12]"))
    expect(secretary.get_by_text("Inga avvikelser under perioden.")).to_be_visible()
    check_a11y(secretary)

    # Chef A sees the decision on the report.
    chef_a.goto(report_url)
    expect(chef_a.get_by_role("region", name="Avslutning av ärendet")).to_contain_text(ACTION)
    check_a11y(chef_a)
