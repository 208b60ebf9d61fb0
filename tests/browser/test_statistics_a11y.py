"""Statistics and the yearly follow-up in a real browser: axe-core on every page, no JavaScript
needed for the charts (SPEC §6, §7)."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import create_engine, text

from tests.integration.helpers import CHEF_A, SECRETARIAT, SECRETARY
from tests.support.accounts import PASSWORD, give_password_in

from .conftest import check_a11y

pytestmark = pytest.mark.browser

YEAR = datetime.now(UTC).year


def seed(stack) -> None:
    """Held SIP meetings and sent deviations of this year, written straight to the database."""
    engine = create_engine(stack.database_url)
    start = datetime(YEAR, 1, 15, 9, tzinfo=UTC)
    try:
        with engine.begin() as conn:
            chef = conn.scalar(text("SELECT id FROM users WHERE email = :e"), {"e": CHEF_A})
            for n, gender in enumerate(["flicka", "flicka", "flicka", "pojke"]):
                _sip(conn, chef, start + timedelta(days=n), gender)
            for n, (receiving, category) in enumerate(
                [
                    ("bup-farsta", "remiss-eller-forfragan-obesvarad-eller-avvisad"),
                    ("bup-farsta", "vantetid-eller-tillganglighet"),
                    ("hc-soderstaden", "remiss-eller-forfragan-obesvarad-eller-avvisad"),
                ]
            ):
                _deviation(conn, chef, start + timedelta(days=n), receiving, category)
    finally:
        engine.dispose()


def _sip(conn, chef: int, moment: datetime, gender: str) -> None:
    conn.execute(
        text(
            "INSERT INTO sip_meetings (state, meeting_type, group_id, child_gender, "
            "child_over_15, guardians, consent, invitees, meeting_at, initiator_unit_id, "
            "initiator_user_id, short_notice, created_at, held_at) VALUES ('genomford', "
            "'forsta', 'skarpnack', :g, false, CAST('[]' AS json), CAST('{}' AS json), "
            "CAST('[]' AS json), :m, 'familjeenheten-skarpnack', :u, false, :m, :m)"
        ),
        {"g": gender, "m": moment, "u": chef},
    )


def _deviation(conn, chef: int, sent: datetime, receiving: str, category: str) -> None:
    conn.execute(
        text(
            "INSERT INTO deviations (state, form_version, reporting_unit_id, receiving_unit_id, "
            "group_id, created_by_id, event_date, categories, description, actions_taken, "
            "bus_individ, proposal, child_gender, link_version, created_at, sent_at, deadline) "
            "VALUES ('skickad', 1, 'familjeenheten-skarpnack', :r, 'skarpnack', :u, :d, "
            "CAST(:c AS json), 'Syntetisk.', 'Inget.', false, '', 'flicka', 1, :s, :s, :dl)"
        ),
        {
            "r": receiving,
            "u": chef,
            "d": sent.date(),
            "c": json.dumps([category]),
            "s": sent,
            "dl": sent.date() + timedelta(days=30),
        },
    )


def log_in(page: Page, stack, email: str) -> None:
    page.goto(stack.url("/logga-in"))
    page.get_by_label("E-postadress").fill(email)
    page.get_by_label("Lösenord").fill(PASSWORD)
    page.get_by_role("button", name="Logga in").click()
    expect(page).not_to_have_url(re.compile(r"/logga-in"))


@pytest.fixture(scope="module")
def seeded(live_stack):
    give_password_in(live_stack.database_url, [SECRETARY, SECRETARIAT[0]])
    seed(live_stack)
    return live_stack


def test_statistics_and_yearly_pages_pass_axe(seeded, new_context):
    stack = seeded
    page = new_context().new_page()
    log_in(page, stack, SECRETARY)
    page.get_by_role("link", name="Statistik").click()
    expect(page.get_by_role("heading", name="Statistik", exact=True)).to_be_visible()
    check_a11y(page)

    page.get_by_label("Period").select_option(value=str(YEAR))
    page.get_by_role("button", name="Visa statistik").click()
    expect(page).to_have_url(re.compile(rf"period={YEAR}"))
    chart = page.get_by_role("img", name="Diagram: SIP-möten efter barnets kön")
    expect(chart).to_be_visible()
    table = page.locator("figure", has=chart).get_by_role("table")
    expect(table.get_by_role("row", name="Flicka 3")).to_be_visible()
    check_a11y(page)

    page.get_by_label("Period").select_option(value="egen")
    page.get_by_label("Från").fill(f"{YEAR}-02-01")
    page.get_by_label("Till").fill(f"{YEAR}-01-01")
    page.get_by_role("button", name="Visa statistik").click()
    expect(page.get_by_role("alert")).to_contain_text("Till: datumet kan inte ligga före")
    check_a11y(page)

    page.goto(stack.url(f"/statistik?grupp=skarpnack&period={YEAR}"))
    page.get_by_role("link", name=f"Årsuppföljning {YEAR}").click()
    expect(page.get_by_role("heading", name="Årsuppföljning av överenskommelsen")).to_be_visible()
    yearly_chart = page.get_by_role("img", name="Diagram: Avvikelser efter kategori, helår")
    expect(yearly_chart).to_be_visible()
    check_a11y(page)


def test_charts_are_readable_without_javascript(seeded, new_context):
    page = new_context(java_script_enabled=False).new_page()
    log_in(page, seeded, SECRETARY)
    page.goto(seeded.url(f"/statistik?grupp=skarpnack&period={YEAR}"))
    chart = page.get_by_role("img", name="Diagram: Avvikelser efter kategori")
    expect(chart).to_be_visible()
    assert chart.bounding_box()["height"] > 50
    check_a11y(page)


def test_secretariat_pages_pass_axe(seeded, new_context):
    page = new_context().new_page()
    log_in(page, seeded, SECRETARIAT[0])
    page.goto(seeded.url(f"/statistik?grupp=alla&period={YEAR}"))
    expect(page.get_by_text("Små tal döljs")).to_be_visible()
    check_a11y(page)
    page.goto(seeded.url(f"/statistik/ar/{YEAR}?grupp=alla"))
    page.get_by_role("link", name=f"Sammanställning för alla grupper {YEAR}").click()
    expect(page.get_by_role("table", name=re.compile("per BUS-grupp"))).to_be_visible()
    check_a11y(page)
