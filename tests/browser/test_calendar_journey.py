"""Calendars and working days in a real browser (issue 17, items 4 and 5): the pages changed
or added pass axe-core, work without JavaScript, and the e-mails carry the .ics."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from icalendar import Calendar
from playwright.sync_api import Page, expect

from tests.integration.helpers import ADMIN, CHEF_A, CHEF_B, CONVENER, SECRETARY
from tests.support.accounts import give_password_in

from .conftest import check_a11y, wait_for_mail
from .test_deviation_journey import group, log_in
from .test_sip_journey import CHILD, PLACE, QUESTION, field, fill_invitation, today

pytestmark = pytest.mark.browser


def calendar_of(message) -> Calendar:
    (part,) = [p for p in message.walk() if p.get_content_type() == "text/calendar"]
    data = part.get_payload(decode=True)
    for secret in (CHILD, PLACE, QUESTION):
        assert secret.encode() not in data
    return Calendar.from_ical(data)


def test_steering_group_meeting_planned_changed_withdrawn(live_stack, new_context, smtp_sink):
    give_password_in(live_stack.database_url, [SECRETARY, CONVENER])
    page: Page = new_context(java_script_enabled=False).new_page()
    log_in(page, live_stack, SECRETARY)
    day = today() + timedelta(days=15)
    page.goto(live_stack.url("/styrgrupp/skarpnack/nytt-mote"))
    field(page, "Mötesdatum").fill((day + timedelta(days=1000)).isoformat())
    page.get_by_label("Starttid").fill("13:00")
    page.get_by_role("button", name="Spara mötet").click()
    expect(page.locator(".error-summary")).to_contain_text("Mötesdatum: ange ett datum inom")
    check_a11y(page)
    field(page, "Mötesdatum").fill(day.isoformat())
    page.get_by_label("Starttid").fill("13:00")
    page.get_by_label("Plats").fill("Stadsdelshuset")
    page.get_by_role("button", name="Spara mötet").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Styrgruppsmöte {day.isoformat()}")
    expect(page.get_by_role("link", name="Lägg till i kalendern")).to_be_visible()
    check_a11y(page)

    notice = wait_for_mail(smtp_sink, CONVENER, f"Möte i BUS-styrgruppen {day.isoformat()}")
    (event,) = calendar_of(notice).walk("VEVENT")
    assert event.decoded("DTSTART").hour == 13 and int(event["SEQUENCE"]) == 0

    page.get_by_role("link", name="Ändra mötet").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Ändra mötet")
    check_a11y(page)
    page.get_by_label("Starttid").fill("14:30")
    page.get_by_role("button", name="Spara ändringen").click()
    expect(page.get_by_text("Mötet är ändrat.")).to_be_visible()
    changed = wait_for_mail(smtp_sink, CONVENER, "Ändrat möte i BUS-styrgruppen")
    (event,) = calendar_of(changed).walk("VEVENT")
    assert event.decoded("DTSTART").hour == 14 and int(event["SEQUENCE"]) == 1

    page.get_by_role("button", name="Ställ in mötet").click()
    expect(page.get_by_text("Mötet är inställt.", exact=True)).to_be_visible()
    check_a11y(page)
    withdrawn = wait_for_mail(smtp_sink, CONVENER, "Inställt möte i BUS-styrgruppen")
    calendar = calendar_of(withdrawn)
    assert str(calendar["METHOD"]) == "CANCEL"
    assert int(calendar.walk("VEVENT")[0]["SEQUENCE"]) == 2


def test_sip_meeting_withdrawn_from_its_page(live_stack, new_context, smtp_sink):
    page = new_context().new_page()
    log_in(page, live_stack, CHEF_A)
    page.goto(live_stack.url("/sip/ny"))
    meeting_day = (today() + timedelta(days=30)).isoformat()
    fill_invitation(page, meeting_day)
    page.get_by_role("button", name="Skicka kallelsen").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(f"SIP-möte {meeting_day}")
    expect(page.get_by_role("link", name="Lägg till i kalendern")).to_be_visible()
    check_a11y(page)
    kallelse = wait_for_mail(smtp_sink, CHEF_B, f"Kallelse till SIP-möte {meeting_day}")
    assert str(calendar_of(kallelse)["METHOD"]) == "REQUEST"

    page.get_by_role("button", name="Ställ in mötet").click()
    expect(page.get_by_text("Mötet är inställt.").first).to_be_visible()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Inställt")
    check_a11y(page)
    cancelled = wait_for_mail(smtp_sink, CHEF_B, f"Inställt SIP-möte {meeting_day}")
    assert str(calendar_of(cancelled)["METHOD"]) == "CANCEL"


def test_group_page_offers_working_days(live_stack, new_context):
    give_password_in(live_stack.database_url, [ADMIN])
    page = new_context(java_script_enabled=False).new_page()
    log_in(page, live_stack, ADMIN)
    page.goto(live_stack.url("/admin/bus-grupper/skarpnack"))
    choice = group(page, re.compile("^Svarstid räknas i"))
    choice.get_by_label("Arbetsdagar").check()
    check_a11y(page)
    page.get_by_role("button", name="Spara").click()
    page.goto(live_stack.url("/admin/bus-grupper/skarpnack"))
    expect(
        group(page, re.compile("^Svarstid räknas i")).get_by_label("Arbetsdagar")
    ).to_be_checked()
