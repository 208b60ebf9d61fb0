"""SIP in a real browser against the real stack, with axe-core on every page."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import create_engine, text

from tests.integration.helpers import CHEF_A, CHEF_B, UNRELATED_CHEF
from tests.support.accounts import PASSWORD

from .conftest import check_a11y, wait_for_mail
from .test_deviation_journey import group, log_in

pytestmark = pytest.mark.browser

CHILD = "Alva Exempelsson"
PLACE = "Familjeenheten, rum 3"
QUESTION = "Hur samordnar vi stödet mellan skola och BUP?"
SIP_LINK = re.compile(r"https?://\S+/sip/(\d+)")


def today():
    return datetime.now(ZoneInfo("Europe/Stockholm")).date()


def field(page: Page, label: str):
    """The input labelled exactly `label` (before " (obligatoriskt)")."""
    return page.get_by_label(re.compile(rf"^{re.escape(label)}(\s|$)"))


def fill_invitation(page: Page, meeting_day: str) -> None:
    group(page, "Typ av möte").get_by_label("Första SIP-möte").check()
    page.get_by_label("Barnets namn").fill(CHILD)
    group(page, "Barnets kön").get_by_label("Flicka", exact=True).check()
    page.get_by_label("Namn, vårdnadshavare 1").fill("Kim Exempelsson")
    page.get_by_label("Kontaktuppgift, vårdnadshavare 1").fill("kim@example.org")
    field(page, "Samtycke inhämtat").fill(today().isoformat())
    group(page, "Samtycke från").get_by_label("Vårdnadshavare 1", exact=True).check()
    group(page, "Samtyckets form").get_by_label("Skriftligt").check()
    group(page, "Har barnet/ungdomen fyllt 15 år?").get_by_label("Nej", exact=True).check()
    page.get_by_label("Frågeställning").fill(QUESTION)
    field(page, "Mötesdatum").fill(meeting_day)
    page.get_by_label("Mötestid").fill("09:30")
    page.get_by_label("Plats eller länk").fill(PLACE)
    page.get_by_label("Ordförandens namn").fill("Greta Skolchef")
    page.get_by_label("Ordförandens verksamhet").select_option(label="Skarpnäcks grundskola")
    page.get_by_label("Sekreterarens namn").fill("Erik Ersatt")
    page.get_by_label("Sekreterarens verksamhet").select_option(label="Familjeenheten Skarpnäck")
    called = group(page, "Kallade verksamheter")
    called.get_by_label("BUP Farsta").check()
    called.get_by_label("Skarpnäcks grundskola").check()


def hold_the_meeting(database_url: str, sip_id: int) -> None:
    """Time passes: the meeting began an hour ago."""
    engine = create_engine(database_url)
    try:
        with engine.begin() as conn:
            conn.execute(
                text("UPDATE sip_meetings SET meeting_at = :at WHERE id = :id"),
                {"at": datetime.now(UTC) - timedelta(hours=1), "id": sip_id},
            )
    finally:
        engine.dispose()


def wait_for_pdf(page: Page, seconds: float = 120) -> None:
    """Reload the meeting until the worker has built the kallelse with LibreOffice."""
    link = page.get_by_role("link", name="Ladda ner kallelsen som PDF")
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if link.count():
            return
        expect(page.get_by_text("Dokumentet skapas…")).to_be_visible()
        time.sleep(1)
        page.reload()
    pytest.fail(f"The kallelse PDF was not built within {seconds} s")


def invitation_body(sink, link: str, seconds: float = 30) -> str:
    """The body of the invitation to chef B that links to this meeting (the sink is shared)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with sink.lock:
            messages = [m for m in sink.messages if m["To"] == CHEF_B]
        for message in messages:
            body = message.get_body(("plain",)).get_content()
            if link in body:
                return body
        time.sleep(0.2)
    pytest.fail(f"No invitation to {CHEF_B} links to {link}")


def test_invitation_notice_rule_email_login_attendance_and_deviation(
    live_stack, new_context, smtp_sink
):
    chef_a = new_context().new_page()
    log_in(chef_a, live_stack, CHEF_A)
    chef_a.get_by_role("navigation", name="Huvudmeny").get_by_role("link", name="SIP").click()
    expect(chef_a.get_by_role("heading", level=1)).to_have_text("SIP-möten")
    check_a11y(chef_a)
    chef_a.get_by_role("link", name="Ny kallelse till SIP-möte").click()
    expect(chef_a.get_by_role("heading", level=1)).to_have_text("Kallelse till SIP-möte")
    check_a11y(chef_a)

    # Too short notice: refused, and the error names the earliest allowed date.
    fill_invitation(chef_a, (today() + timedelta(days=10)).isoformat())
    chef_a.get_by_role("button", name="Skicka kallelsen").click()
    earliest = (today() + timedelta(days=21)).isoformat()
    summary = chef_a.locator(".error-summary")
    expect(summary).to_contain_text("Mötesdatum och tid:")
    expect(summary).to_contain_text(f"Tidigaste tillåtna mötesdatum är {earliest}")
    expect(chef_a).to_have_title(re.compile("^Fel i formuläret"))
    expect(field(chef_a, "Mötesdatum")).to_have_attribute("aria-invalid", "true")
    check_a11y(chef_a)

    # Fixed: the earliest allowed date, and sent.
    field(chef_a, "Mötesdatum").fill(earliest)
    chef_a.get_by_role("button", name="Skicka kallelsen").click()
    expect(chef_a.get_by_role("heading", level=1)).to_contain_text(f"SIP-möte {earliest} 09:30")
    expect(chef_a.get_by_role("status").first).to_contain_text("Kallelsen är skickad")
    check_a11y(chef_a)
    sip_id = int(re.search(r"/sip/(\d+)$", chef_a.url).group(1))

    # The called chef gets an e-mail without the child, with a link behind login.
    message = wait_for_mail(smtp_sink, CHEF_B, f"Kallelse till SIP-möte {earliest}")
    body = invitation_body(smtp_sink, live_stack.url(f"/sip/{sip_id}"))
    assert CHILD not in body and PLACE not in body and QUESTION not in body
    assert CHILD not in str(message["Subject"])
    match = SIP_LINK.search(body)
    assert match and int(match.group(1)) == sip_id, body
    chef_b = new_context().new_page()
    chef_b.goto(match.group(0))
    expect(chef_b).to_have_url(re.compile(r"/logga-in\?next="))
    check_a11y(chef_b)
    chef_b.get_by_label("E-postadress").fill(CHEF_B)
    chef_b.get_by_label("Lösenord").fill(PASSWORD)
    chef_b.get_by_role("button", name="Logga in").click()
    expect(chef_b).to_have_url(match.group(0))
    expect(chef_b.get_by_role("heading", level=1)).to_contain_text(f"SIP-möte {earliest}")
    expect(chef_b.get_by_text(CHILD)).to_be_visible()
    expect(chef_b.get_by_text(QUESTION)).to_be_visible()
    expect(chef_b.get_by_role("link", name="Registrera närvaro")).to_have_count(0)
    check_a11y(chef_b)

    # A chef of a unit that was not called is refused.
    outsider = new_context().new_page()
    log_in(outsider, live_stack, UNRELATED_CHEF)
    response = outsider.goto(live_stack.url(f"/sip/{sip_id}"))
    assert response is not None and response.status == 403
    expect(outsider.get_by_role("heading", level=1)).to_have_text("Åtkomst nekad")
    check_a11y(outsider)

    # The worker builds the kallelse with LibreOffice; the PDF downloads.
    wait_for_pdf(chef_b)
    check_a11y(chef_b)
    pdf = chef_b.request.get(live_stack.url(f"/sip/{sip_id}/kallelse.pdf"))
    assert pdf.status == 200 and pdf.body().startswith(b"%PDF")

    # After the meeting: attendance with one absent unit.
    hold_the_meeting(live_stack.database_url, sip_id)
    chef_a.reload()
    chef_a.get_by_role("link", name="Registrera närvaro").click()
    expect(chef_a.get_by_role("heading", level=1)).to_contain_text("Närvaro vid SIP-möte")
    check_a11y(chef_a)
    group(chef_a, "BUP Farsta").get_by_label("Närvarande").check()
    group(chef_a, "Skarpnäcks grundskola").get_by_label("Frånvarande").check()
    group(chef_a, "Upprättades en plan?").get_by_label("Ja", exact=True).check()
    chef_a.get_by_label("Datum då planen upprättades").fill(today().isoformat())
    chef_a.get_by_role("button", name="Spara närvaro").click()
    expect(chef_a.get_by_role("status").first).to_contain_text("Närvaron är sparad")
    check_a11y(chef_a)

    # The pre-filled deviation to the absent unit's chef.
    expect(chef_a.get_by_role("link", name="Skriv avvikelse till BUP Farsta")).to_have_count(0)
    chef_a.get_by_role("link", name="Skriv avvikelse till Skarpnäcks grundskola").click()
    expect(chef_a.get_by_role("heading", level=1)).to_have_text("Avvikelse i BUS-samverkan")
    expect(chef_a.get_by_label("Mottagande verksamhet")).to_have_value("grundskola-skarpnack")
    expect(chef_a.get_by_label("Kallad part deltog inte i SIP-möte")).to_be_checked()
    held_on = (datetime.now(UTC) - timedelta(hours=1)).astimezone(ZoneInfo("Europe/Stockholm"))
    expect(chef_a.get_by_label("Datum för händelsen")).to_have_value(held_on.date().isoformat())
    expect(chef_a.get_by_role("main")).not_to_contain_text(CHILD)
    check_a11y(chef_a)
