"""BUS-individ minutes with no agreement, then the pre-filled deviation, in a real browser."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import create_engine, text

from tests.integration.helpers import CHEF_A, CHEF_B

from .conftest import check_a11y, wait_for_mail
from .test_deviation_journey import group, log_in

pytestmark = pytest.mark.browser

CHILD = "Testbarn Webbsson"
QUESTION = "Vem ansvarar för stödet under skoldagen?"


def day(offset: int) -> str:
    return (datetime.now(ZoneInfo("Europe/Stockholm")).date() + timedelta(days=offset)).isoformat()


def fill_minutes_without_agreement(page: Page) -> None:
    page.get_by_label("Datum för SIP-möte").fill(day(-40))
    page.get_by_label("Samtycke inhämtat").fill(day(-50))
    group(page, "Samtycke lämnat av").get_by_label("Vårdnadshavare 1").check()
    group(page, "Samtyckets form").get_by_label("Skriftligt").check()
    group(page, "Har barnet fyllt 15 år?").get_by_label("Nej", exact=True).check()
    page.get_by_label("Barnets namn").fill(CHILD)
    group(page, "Barnets kön").get_by_label("Pojke", exact=True).check()
    participants = group(page, "Deltagande verksamheter")
    participants.get_by_label("Familjeenheten Skarpnäck").check()
    participants.get_by_label("BUP Farsta").check()
    page.get_by_label("Frågeställning").fill(QUESTION)
    page.get_by_label("Mötesdatum").fill(day(-1))
    group(page, "Nåddes en överenskommelse?").get_by_label("Nej", exact=True).check()
    group(page, "Behövs ett uppföljande möte?").get_by_label("Nej", exact=True).check()


def wait_for_pdf(page: Page, seconds: float = 90) -> None:
    """The worker builds the minutes with LibreOffice; reload until the download appears."""
    link = page.get_by_role("link", name="Ladda ner protokollet som PDF")
    deadline = datetime.now() + timedelta(seconds=seconds)
    while datetime.now() < deadline:
        if link.count():
            return
        page.wait_for_timeout(1000)
        page.reload()
    pytest.fail("The minutes' PDF was not built in time")


def linked_bus_individ(database_url: str) -> list[tuple]:
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            query = "SELECT case_number, bus_individ_id FROM deviations ORDER BY id"
            return [tuple(row) for row in conn.execute(text(query))]
    finally:
        engine.dispose()


def test_minutes_without_agreement_lead_to_a_linked_deviation(live_stack, new_context, smtp_sink):
    page = new_context().new_page()
    log_in(page, live_stack, CHEF_A)
    page.get_by_role("navigation", name="Huvudmeny").get_by_role("link", name="BUS-individ").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("BUS-individ")
    check_a11y(page)

    page.get_by_role("link", name="Nytt protokoll från BUS-individ").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Protokoll från BUS-individ")
    check_a11y(page)

    # Without a preceding SIP and consent the minutes are refused, naming the fields.
    page.get_by_role("button", name="Spara protokollet").click()
    summary = page.locator(".error-summary")
    expect(summary).to_be_visible()
    expect(summary).to_contain_text("Föregående SIP-möte: välj SIP-mötet")
    expect(summary).to_contain_text("Samtycke inhämtat: fyll i uppgiften.")
    expect(page).to_have_title(re.compile("^Fel i formuläret"))
    check_a11y(page)

    fill_minutes_without_agreement(page)
    page.get_by_role("button", name="Spara protokollet").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        f"Protokoll från BUS-individ {day(-1)}"
    )
    expect(page.get_by_role("status")).to_contain_text("Protokollet är sparat")
    expect(page.get_by_text(CHILD)).to_be_visible()
    check_a11y(page)
    wait_for_pdf(page)
    check_a11y(page)

    # The chef of a participating unit is told, without the child's name.
    message = wait_for_mail(smtp_sink, CHEF_B, f"Protokoll från BUS-individ {day(-1)}")
    assert CHILD not in message.as_string() and QUESTION not in message.as_string()
    record_id = int(page.url.rstrip("/").rsplit("/", 1)[1])
    assert f"/bus-individ/{record_id}" in message.get_content()

    # No agreement: the deviation form opens pre-filled and linked to the meeting.
    page.get_by_role("link", name="Skriv avvikelse").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Avvikelse i BUS-samverkan")
    expect(page.get_by_label("Beskrivning av avvikelsen")).to_have_value(
        f"Ingen överenskommelse nåddes vid BUS-individ {day(-1)}."
    )
    bus_question = group(page, "Har ärendet behandlats i BUS-individ?")
    expect(bus_question.get_by_label("Ja", exact=True)).to_be_checked()
    expect(page.get_by_label("Datum för BUS-individ")).to_have_value(day(-1))
    check_a11y(page)

    page.get_by_label("Mottagande verksamhet").select_option(label="BUP Farsta")
    page.get_by_label("Vad har gjorts för att lösa problemet?").fill(
        "Frågan togs upp i BUS-individ."
    )
    group(page, "Barnets kön").get_by_label("Pojke", exact=True).check()
    page.get_by_label("Jag intygar att rapporten är avidentifierad").check()
    page.get_by_role("button", name="Skicka avvikelsen").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("BUS-")
    check_a11y(page)
    case_number = page.get_by_role("heading", level=1).inner_text().split()[1]
    assert (case_number, record_id) in linked_bus_individ(live_stack.database_url)

    # The list now shows the meeting (without the child's name).
    page.goto(live_stack.url("/bus-individ/"))
    expect(page.get_by_role("link", name=re.compile(re.escape(day(-1))))).to_be_visible()
    expect(page.get_by_text(CHILD)).to_have_count(0)
    check_a11y(page)
