"""Issue 17's journey in a real browser without JavaScript: chef A finds the answer not
enough, chef B supplements it through the e-mailed link, once, and the secretary's digest
shows both; axe-core on every page."""

from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
from docx import Document
from playwright.sync_api import Page, expect

from tests.integration.helpers import CHEF_A, CHEF_B, SECRETARY
from tests.support.accounts import give_password_in

from .conftest import check_a11y, wait_for_mail
from .test_deviation_journey import fill_valid_report, group, log_in, today

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ASSESSMENT = "Remissen hade hamnat i fel funktionsbrevlåda hos oss."
MOTIVATION = "Svaret säger inte hur remisserna ska hanteras framöver."
SUPPLEMENT = "Från januari går vi igenom inkomna remisser varje måndag."
ANSWER_LINK = re.compile(r"https?://\S+/svara/[^\s>\"']+")
SUPPLEMENT_LINK = re.compile(r"https?://\S+/komplettera/[^\s>\"']+")


def link_in(message, pattern: re.Pattern[str]) -> str:
    match = pattern.search(message.get_body(("plain",)).get_content())
    assert match, message.get_content()
    return match.group(0)


def answer_by_link(page: Page, link: str) -> None:
    page.goto(link)
    page.get_by_label("Verksamhetens bedömning").fill(ASSESSMENT)
    group(page, "Instämmer ni i beskrivningen?").get_by_label("Ja", exact=True).check()
    page.get_by_label("Jag intygar att svaret är avidentifierat").check()
    page.get_by_role("button", name="Skicka svaret").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Tack för ditt svar")


def test_insufficient_answer_supplemented_through_the_link(live_stack, new_context, smtp_sink):
    chef_a = new_context(java_script_enabled=False).new_page()
    log_in(chef_a, live_stack, CHEF_A)
    chef_a.goto(live_stack.url("/avvikelser/ny"))
    fill_valid_report(chef_a, "Remissen till BUP besvarades inte inom överenskommen tid.")
    chef_a.get_by_label("Jag intygar att rapporten är avidentifierad").check()
    chef_a.get_by_role("button", name="Skicka avvikelsen").click()
    case_number = f"BUS-{today().year}-0001"
    expect(chef_a.get_by_role("heading", level=1)).to_contain_text(case_number)
    report_url = chef_a.url

    chef_b = new_context(java_script_enabled=False).new_page()
    answer_by_link(chef_b, link_in(wait_for_mail(smtp_sink, CHEF_B, case_number), ANSWER_LINK))
    old_link = chef_b.url

    # Chef A is asked for feedback on the answer; "räcker inte" needs a motivation.
    chef_a.goto(report_url)
    feedback = chef_a.get_by_role("region", name="Återkoppling på svaret")
    expect(feedback).to_be_visible()
    check_a11y(chef_a)
    group(chef_a, "Återkoppling på svaret").get_by_label("Svaret räcker inte", exact=True).check()
    chef_a.get_by_role("button", name="Skicka återkoppling").click()
    summary = chef_a.locator(".error-summary")
    expect(summary).to_contain_text("Motivering: fyll i varför svaret inte räcker.")
    expect(chef_a).to_have_title(re.compile("^Fel i formuläret"))
    expect(chef_a.get_by_label("Motivering")).to_have_attribute("aria-invalid", "true")
    check_a11y(chef_a)
    chef_a.get_by_label("Motivering").fill(MOTIVATION)
    chef_a.get_by_role("button", name="Skicka återkoppling").click()
    expect(chef_a.get_by_role("status")).to_contain_text("Återkopplingen är skickad")
    expect(chef_a.get_by_role("button", name="Skicka återkoppling")).to_have_count(0)
    check_a11y(chef_a)

    # B and the secretary are told; the mails carry a link, not the motivation.
    message = wait_for_mail(smtp_sink, CHEF_B, "komplettera")
    copy = wait_for_mail(smtp_sink, SECRETARY, "återkoppling")
    for mail in (message, copy):
        assert MOTIVATION not in mail.as_string()
    link = link_in(message, SUPPLEMENT_LINK)
    assert link.startswith(live_stack.base_url + "/komplettera/")

    # The old answer link does not reopen anything; the new one takes one supplement.
    response = chef_b.goto(old_link)
    assert response is not None and response.status == 410
    chef_b.goto(link)
    expect(chef_b.get_by_role("heading", level=1)).to_have_text(
        f"Kompletterande svar på avvikelse {case_number}"
    )
    expect(chef_b.get_by_text(MOTIVATION)).to_be_visible()
    check_a11y(chef_b)
    chef_b.get_by_label("Kompletterande svar").fill("Ring 070-123 45 67 för detaljer.")
    chef_b.get_by_label("Jag intygar att svaret är avidentifierat").check()
    chef_b.get_by_role("button", name="Skicka kompletterande svar").click()
    expect(chef_b.locator(".error-summary")).to_contain_text("Kompletterande svar:")
    check_a11y(chef_b)
    chef_b.get_by_label("Kompletterande svar").fill(SUPPLEMENT)
    chef_b.get_by_label("Jag intygar att svaret är avidentifierat").check()
    chef_b.get_by_role("button", name="Skicka kompletterande svar").click()
    expect(chef_b.get_by_role("heading", level=1)).to_have_text("Tack för ditt kompletterande svar")
    check_a11y(chef_b)
    response = chef_b.goto(link)
    assert response is not None and response.status == 410
    expect(chef_b.get_by_role("main")).to_contain_text("redan lämnat")
    check_a11y(chef_b)

    # Chef A reads answer, feedback and supplement in order, and is told by e-mail.
    wait_for_mail(smtp_sink, CHEF_A, "kompletterande svar")
    chef_a.goto(report_url)
    main = chef_a.get_by_role("main").inner_text()
    positions = [main.index(ASSESSMENT), main.index(MOTIVATION), main.index(SUPPLEMENT)]
    assert positions == sorted(positions)
    expect(chef_a.get_by_role("region", name="Kompletterande svar")).to_contain_text(SUPPLEMENT)
    check_a11y(chef_a)
    chef_a.goto(live_stack.url("/avvikelser"))
    expect(chef_a.get_by_text("Återkoppling: räcker inte")).to_be_visible()
    check_a11y(chef_a)

    # The secretary's digest for the next meeting flags the case and shows both, in order.
    give_password_in(live_stack.database_url, [SECRETARY])
    secretary = new_context(java_script_enabled=False, accept_downloads=True).new_page()
    log_in(secretary, live_stack, SECRETARY)
    secretary.goto(live_stack.url("/styrgrupp"))
    secretary.get_by_role("link", name="Planera ett möte").click()
    secretary.get_by_label("Mötesdatum").fill((today().date() + timedelta(days=14)).isoformat())
    secretary.get_by_role("button", name="Spara mötet").click()
    expect(secretary.get_by_role("table")).to_contain_text(case_number)
    secretary.get_by_role("button", name="Sammanställ avvikelserna").click()
    status = secretary.get_by_role("status")
    for _ in range(120):  # without JavaScript the page is reloaded by hand ("Uppdatera sidan")
        if "Sammanställningen är klar." in status.inner_text():
            break
        secretary.wait_for_timeout(1000)
        secretary.reload()
    expect(status).to_contain_text("Sammanställningen är klar.")
    with secretary.expect_download() as info:
        secretary.get_by_role("link", name=re.compile("Ladda ner Word-dokument")).click()
    lines = [p.text for p in Document(io.BytesIO(info.value.path().read_bytes())).paragraphs]
    text = "\n".join(lines)
    table_text = "\n".join(
        cell.text
        for table in Document(io.BytesIO(info.value.path().read_bytes())).tables
        for row in table.rows
        for cell in row.cells
    )
    assert f"{case_number}: " in text and "– Återkoppling: räcker inte" in text
    assert MOTIVATION in table_text and SUPPLEMENT in table_text
    assert table_text.index(ASSESSMENT) < table_text.index(MOTIVATION)
    assert table_text.index(MOTIVATION) < table_text.index(SUPPLEMENT)
