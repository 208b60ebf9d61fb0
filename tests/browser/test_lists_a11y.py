"""The long lists in a real browser without JavaScript: filters in the URL, paging, the CSV
download, and axe-core on each list page (issue 16)."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import expect
from sqlalchemy import create_engine, text

from tests.integration.helpers import CHEF_A, REMISS, SECRETARIAT, SECRETARY, VANTETID
from tests.support.accounts import give_password_in

from .conftest import check_a11y
from .test_statistics_a11y import log_in

pytestmark = pytest.mark.browser

PREFIX = "BUS-2025-9"  # case numbers of their own, apart from what other tests file


def seed(stack) -> None:
    """70 sent deviations (60 unanswered past the deadline, in one category), straight to
    the database."""
    engine = create_engine(stack.database_url)
    start = datetime(2025, 3, 1, 9, tzinfo=UTC)
    try:
        with engine.begin() as conn:
            chef = conn.scalar(text("SELECT id FROM users WHERE email = :e"), {"e": CHEF_A})
            for n in range(70):
                sent = start + timedelta(hours=n)
                conn.execute(
                    text(
                        "INSERT INTO deviations (case_number, state, form_version, "
                        "reporting_unit_id, receiving_unit_id, group_id, created_by_id, "
                        "event_date, categories, description, actions_taken, bus_individ, "
                        "proposal, child_gender, link_version, created_at, sent_at, deadline) "
                        "VALUES (:n, 'skickad', 1, 'familjeenheten-skarpnack', 'bup-farsta', "
                        "'skarpnack', :u, :d, CAST(:c AS json), 'Syntetisk.', 'Inget.', false, "
                        "'', 'flicka', 1, :s, :s, :dl)"
                    ),
                    {
                        "n": f"{PREFIX}{n:04d}",
                        "u": chef,
                        "d": sent.date(),
                        "c": json.dumps([REMISS if n < 60 else VANTETID]),
                        "s": sent,
                        "dl": sent.date() + timedelta(days=30),
                    },
                )
    finally:
        engine.dispose()


@pytest.fixture(scope="module")
def seeded(live_stack):
    give_password_in(live_stack.database_url, [SECRETARY, SECRETARIAT[0]])
    seed(live_stack)
    return live_stack


def test_the_secretariat_filters_pages_and_downloads_without_javascript(seeded, new_context):
    page = new_context(java_script_enabled=False, accept_downloads=True).new_page()
    log_in(page, seeded, SECRETARIAT[0])
    page.goto(seeded.url("/avvikelser"))
    expect(page.get_by_role("heading", name="Avvikelser", exact=True)).to_be_visible()
    check_a11y(page)

    page.get_by_label("Kategori").select_option(value=REMISS)
    page.get_by_label("Endast obesvarade").check()
    page.get_by_label("Sortera").select_option(value="arende-stigande")
    page.get_by_role("button", name="Visa", exact=True).click()
    expect(page).to_have_url(re.compile(rf"kategori={REMISS}.*obesvarade=j"))
    expect(page.get_by_text(re.compile(r"Sida 1 av \d+")).first).to_be_visible()
    expect(page.get_by_role("link", name=f"{PREFIX}0000")).to_be_visible()
    expect(page.get_by_label("Endast obesvarade")).to_be_checked()  # kept from the URL
    check_a11y(page)

    page.get_by_role("link", name="Nästa sida").click()
    expect(page).to_have_url(re.compile(r"sida=2"))
    expect(page.get_by_role("link", name=f"{PREFIX}0050")).to_be_visible()
    expect(page.get_by_role("link", name=f"{PREFIX}0060")).to_have_count(0)  # another category
    check_a11y(page)

    with page.expect_download() as info:
        page.get_by_role("link", name="Ladda ner som CSV").click()
    body = Path(info.value.path()).read_text(encoding="utf-8-sig")
    assert f"{PREFIX}0059" in body and f"{PREFIX}0060" not in body
    assert "Syntetisk" not in body

    page.goto(seeded.url("/avvikelser?fran=2025-02-30&status=x"))
    expect(page.get_by_role("alert")).to_contain_text("Från: ange ett datum som ÅÅÅÅ-MM-DD.")
    check_a11y(page)


def test_the_other_list_pages_pass_axe_without_javascript(seeded, new_context):
    page = new_context(java_script_enabled=False).new_page()
    log_in(page, seeded, CHEF_A)
    for path, heading in [("/sip/", "SIP-möten"), ("/bus-individ/", "BUS-individ")]:
        page.goto(seeded.url(path + "?sortera=datum-stigande"))
        expect(page.get_by_role("heading", name=heading, exact=True)).to_be_visible()
        check_a11y(page)
    other = new_context(java_script_enabled=False).new_page()
    log_in(other, seeded, SECRETARY)
    other.goto(seeded.url("/styrgrupp/skarpnack/moten"))
    expect(other.get_by_role("heading", name="Möten och sammanställningar")).to_be_visible()
    check_a11y(other)
