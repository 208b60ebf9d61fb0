"""Granskningslogg and Registerutdrag in a real browser on the live stack: the administrator
(ada@stad.example in the demo directory) searches the log and downloads its CSV, finds a
child's records, downloads the extract and follows "who has seen it"; axe-core finds no
violations on any state of either page, with and without JavaScript (issue 14)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from io import BytesIO
from pathlib import Path

import pytest
from docx import Document
from playwright.sync_api import Page, expect
from sqlalchemy import create_engine, text

from tests.integration.helpers import ADMIN, CHEF_A

from .conftest import check_a11y
from .test_statistics_a11y import log_in

pytestmark = pytest.mark.browser

CHILD = "Testbarn Åkesson"
PNR = "20110615-2380"  # synthetic (serial 238), valid check digit


def seed(stack) -> int:
    """A held SIP meeting with the child's identity, and a view of it by chef A."""
    engine = create_engine(stack.database_url)
    held = datetime.now(UTC) - timedelta(days=3)
    try:
        with engine.begin() as conn:
            chef = conn.scalar(text("SELECT id FROM users WHERE email = :e"), {"e": CHEF_A})
            sip_id = conn.scalar(
                text(
                    "INSERT INTO sip_meetings (state, meeting_type, group_id, child_name, "
                    "child_personnummer, child_gender, child_over_15, guardians, consent, "
                    "question, invitees, meeting_at, place, initiator_unit_id, "
                    "initiator_user_id, short_notice, created_at, held_at) VALUES ("
                    "'genomford', 'forsta', 'skarpnack', :name, :pnr, 'flicka', false, "
                    "CAST(:guardians AS json), CAST('{}' AS json), 'Syntetisk fråga.', "
                    "CAST('[]' AS json), :m, 'Rum 3', 'familjeenheten-skarpnack', :u, false, "
                    ":m, :m) RETURNING id"
                ),
                {
                    "name": CHILD,
                    "pnr": PNR,
                    "guardians": '[{"name": "Vårdnadshavare Åkesson", "contact": "x"}]',
                    "m": held,
                    "u": chef,
                },
            )
            conn.execute(
                text(
                    "INSERT INTO audit_events (at, user_id, actor, action, object_type, "
                    "object_id, detail) VALUES (:at, :u, :e, 'sip.viewed', 'sip', :id, "
                    "CAST('{}' AS json))"
                ),
                {"at": held, "u": chef, "e": CHEF_A, "id": str(sip_id)},
            )
    finally:
        engine.dispose()
    return sip_id


@pytest.fixture(scope="module")
def seeded(live_stack):
    return live_stack, seed(live_stack)


def test_the_log_follow_up_passes_axe_and_exports_csv(seeded, new_context):
    stack, sip_id = seeded
    page = new_context(accept_downloads=True).new_page()
    log_in(page, stack, ADMIN)
    page.goto(stack.url("/admin/granskningslogg"))
    expect(page.get_by_role("heading", name="Granskningslogg", exact=True)).to_be_visible()
    check_a11y(page)

    page.get_by_label("Person", exact=True).fill("fia")
    page.get_by_label("Händelse", exact=True).select_option(label="SIP-möte visat")
    page.get_by_role("button", name="Sök").click()
    table = page.get_by_role("table", name=re.compile("Händelser i granskningsloggen"))
    expect(table.get_by_role("row", name=re.compile("Fia Familj"))).to_be_visible()
    expect(page.get_by_role("heading", name="1 händelse")).to_be_visible()
    check_a11y(page)

    with page.expect_download() as info:
        page.get_by_role("link", name="Ladda ner som CSV").click()
    data = Path(info.value.path()).read_bytes().decode("utf-8-sig")
    assert data.splitlines()[0].startswith("Tidpunkt;E-postadress;Namn;Händelse")
    assert f"{CHEF_A};Fia Familj;SIP-möte visat;sip.viewed;SIP-möte;{sip_id}" in data

    page.get_by_label("Ärendenummer").fill("inte-ett-nummer")
    page.get_by_label("Till").fill("2020-01-01")
    page.get_by_label("Från", exact=True).fill("2021-01-01")
    page.get_by_role("button", name="Sök").click()
    summary = page.get_by_role("alert")
    expect(summary).to_contain_text("Ärendenummer: ange ett ärendenummer som BUS-2026-0001.")
    expect(summary).to_contain_text("Till: datumet kan inte ligga före Från-datumet.")
    check_a11y(page)


def test_the_extract_and_who_has_seen_the_record_without_javascript(seeded, new_context):
    stack, sip_id = seeded
    page: Page = new_context(java_script_enabled=False, accept_downloads=True).new_page()
    log_in(page, stack, ADMIN)
    page.get_by_role("navigation", name="Administration").get_by_role(
        "link", name="Registerutdrag"
    ).click()
    expect(page.get_by_role("heading", name="Registerutdrag", exact=True)).to_be_visible()
    check_a11y(page)

    page.get_by_label("Barnets personnummer").fill("abc")
    page.get_by_role("button", name="Sök").click()
    expect(page.get_by_role("alert")).to_contain_text("Barnets personnummer: ange ett giltigt")
    check_a11y(page)

    page.get_by_label("Barnets personnummer").fill(PNR.replace("-", "")[2:])  # 10 digits
    page.get_by_role("button", name="Sök").click()
    row = page.get_by_role("row", name=re.compile(CHILD))
    expect(row).to_be_visible()
    expect(
        page.get_by_role("checkbox", name=re.compile(f"SIP-möte .*nummer {sip_id}"))
    ).to_be_checked()
    check_a11y(page)

    with page.expect_download() as info:
        page.get_by_role("button", name="Ladda ner registerutdrag").click()
    assert info.value.suggested_filename.startswith("registerutdrag-")
    document = Document(BytesIO(Path(info.value.path()).read_bytes()))
    body = "\n".join(
        p.text for t in document.tables for r in t.rows for p in r.cells[-1].paragraphs
    )
    assert CHILD in body and PNR in body

    page.get_by_role("link", name=f"Vilka har sett SIP-möte nummer {sip_id}").click()
    table = page.get_by_role("table", name=re.compile("Händelser i granskningsloggen"))
    expect(table.get_by_role("row", name=re.compile("Fia Familj.*SIP-möte visat"))).to_be_visible()
    expect(table.get_by_role("row", name=re.compile("Med i registerutdrag"))).to_be_visible()
    check_a11y(page)
