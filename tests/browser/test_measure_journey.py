"""Decided measures in a real browser (issue 17): the secretary closes a case with two
measures, the daily reminder job sends chef B a link, chef B reports one "Genomförd" through
it without an account, the deputy reports the other from "Beslutade åtgärder" without
JavaScript; axe-core on every new page."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from playwright.sync_api import Page, expect
from redis import Redis
from rq import Queue

from formservice.queue import QUEUE_NAME
from tests.integration.helpers import CHEF_A, CHEF_B, DEPUTY_B, SECRETARY
from tests.support.accounts import give_password_in

from .conftest import BROWSER_REDIS_URL, check_a11y, wait_for_mail
from .test_closing_journey import file_report, group, log_in, plan_meeting, today

pytestmark = pytest.mark.browser

FIRST = "Gemensam genomgång MEAS-B1 av remissrutinen."
SECOND = "Utbildningsdag MEAS-B2 om samverkan."
LINK = re.compile(r"https?://\S+/atgard/\S+")


def close_with_measures(page: Page, case_number: str) -> None:
    page.get_by_role("link", name=f"Avsluta ärendet {case_number}").click()
    group(page, "Styrgruppens bedömning").get_by_label("Avvikelse bekräftad").check()
    later = (date.fromisoformat(today()) + timedelta(days=30)).isoformat()
    for n, (action, due) in enumerate(((FIRST, today()), (SECOND, later)), start=1):
        row = group(page, f"Åtgärd {n}")
        row.get_by_label("Åtgärd", exact=True).fill(action)
        row.get_by_label("Ansvarig verksamhet").select_option(label="BUP Farsta")
        row.get_by_label("Klart senast").fill(due)
    page.get_by_role("button", name="Avsluta ärendet").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Avslutad")


def run_reminder_job() -> None:
    """Queue the daily reminder job as the worker's cron does; the live worker runs it."""
    Queue(QUEUE_NAME, connection=Redis.from_url(BROWSER_REDIS_URL)).enqueue(
        "worker.jobs.send_reminders"
    )


def test_a_responsible_chef_confirms_measures_by_link_and_logged_in(
    live_stack, new_context, smtp_sink
):
    give_password_in(live_stack.database_url, [SECRETARY, DEPUTY_B])
    chef_a = new_context().new_page()
    log_in(chef_a, live_stack, CHEF_A)
    case_number = file_report(chef_a, live_stack)
    case_url = chef_a.url

    secretary = new_context(java_script_enabled=False).new_page()
    log_in(secretary, live_stack, SECRETARY)
    plan_meeting(secretary)
    close_with_measures(secretary, case_number)
    measures = secretary.get_by_role("region", name="Avslutning av ärendet")
    expect(measures).to_contain_text(FIRST)
    expect(measures).to_contain_text("Ej genomförd")
    check_a11y(secretary)

    # The first measure is due today: the reminder job mails chef B a link, nothing else.
    run_reminder_job()
    message = wait_for_mail(smtp_sink, CHEF_B, "Sista dagen: en beslutad åtgärd")
    body = message.get_body(("plain",)).get_content()
    assert FIRST not in body and SECOND not in body and case_number not in body
    link = LINK.search(body).group(0)

    # Chef B, not logged in and without JavaScript, reports it through the link.
    chef_b = new_context(java_script_enabled=False).new_page()
    chef_b.goto(link)
    expect(chef_b.get_by_role("heading", level=1)).to_have_text(
        f"Beslutad åtgärd i ärende {case_number}"
    )
    expect(chef_b.get_by_text(FIRST)).to_be_visible()
    check_a11y(chef_b)
    chef_b.get_by_role("button", name="Genomförd").click()
    expect(chef_b.locator(".error-summary")).to_contain_text("Kommentar: fyll i uppgiften.")
    check_a11y(chef_b)
    chef_b.get_by_label("Kommentar").fill("Genomgången hölls med båda verksamheterna.")
    chef_b.get_by_role("button", name="Genomförd").click()
    expect(chef_b.get_by_role("heading", level=1)).to_have_text("Tack, åtgärden är rapporterad")
    check_a11y(chef_b)
    chef_b.goto(link)
    expect(chef_b.get_by_text("redan rapporterad som genomförd")).to_be_visible()
    check_a11y(chef_b)

    # The deputy sees the open one's form on the case page, and reports it from
    # "Beslutade åtgärder", without JavaScript.
    deputy = new_context(java_script_enabled=False).new_page()
    log_in(deputy, live_stack, DEPUTY_B)
    deputy.goto(case_url)
    expect(deputy.get_by_role("heading", name="Rapportera åtgärd 2 som genomförd")).to_be_visible()
    expect(deputy.get_by_label("Kommentar")).to_have_count(1)
    check_a11y(deputy)
    deputy.get_by_role("navigation", name="Huvudmeny").get_by_role("link", name="Åtgärder").click()
    expect(deputy.get_by_role("heading", level=1)).to_have_text("Beslutade åtgärder")
    check_a11y(deputy)
    second = deputy.get_by_role("region", name=f"{case_number}, åtgärd 2")
    second.get_by_label("Kommentar").fill("Utbildningsdagen är genomförd.")
    second.get_by_role("button", name="Genomförd").click()
    expect(deputy.get_by_text("Åtgärden är rapporterad som genomförd.")).to_be_visible()
    first = deputy.get_by_role("region", name=f"{case_number}, åtgärd 1")
    expect(first).to_contain_text("Genomgången hölls med båda verksamheterna.")
    expect(deputy.get_by_label("Kommentar")).to_have_count(0)
    check_a11y(deputy)

    # Chef A and the secretary see both done on the case page; the evaluation counts them.
    chef_a.goto(case_url)
    decided = chef_a.get_by_role("region", name="Avslutning av ärendet")
    expect(decided).to_contain_text("Utbildningsdagen är genomförd.")
    expect(decided.get_by_text("Ej genomförd")).to_have_count(0)
    check_a11y(chef_a)
    secretary.goto(live_stack.url("/styrgrupp/utvardering"))
    expect(secretary.get_by_role("region", name="Beslutade åtgärder")).to_contain_text(
        "Andel genomförda i tid"
    )
    check_a11y(secretary)
