"""The secretary compiles a digest, follows its progress and downloads both files."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from tests.integration.helpers import CHEF_A, SECRETARY
from tests.support.accounts import give_password_in

from .conftest import check_a11y
from .test_closing_journey import file_report, log_in

pytestmark = pytest.mark.browser


def test_secretary_compiles_and_downloads_the_digest(live_stack, new_context):
    give_password_in(live_stack.database_url, [SECRETARY])
    chef_a = new_context().new_page()
    log_in(chef_a, live_stack, CHEF_A)
    case_number = file_report(chef_a, live_stack)

    secretary = new_context(accept_downloads=True).new_page()
    log_in(secretary, live_stack, SECRETARY)
    secretary.goto(live_stack.url("/styrgrupp"))
    secretary.get_by_role("link", name="Planera ett möte").click()
    day = (datetime.now(ZoneInfo("Europe/Stockholm")).date() + timedelta(days=14)).isoformat()
    secretary.get_by_label("Mötesdatum").fill(day)
    secretary.get_by_label("Plats").fill("Stadsdelshuset")
    secretary.get_by_role("button", name="Spara mötet").click()
    expect(secretary.get_by_role("table")).to_contain_text(case_number)

    secretary.get_by_role("button", name="Sammanställ avvikelserna").click()
    expect(secretary.get_by_role("heading", level=1)).to_have_text("Sammanställning av avvikelser")
    status = secretary.get_by_role("status")
    expect(status).to_contain_text(re.compile(r"I kö|Hämtar|Skriver|PDF|bilagor|Sparar|klar"))
    check_a11y(secretary)
    # The page follows the worker by itself (script) and shows the result when it is done.
    expect(status).to_contain_text("Sammanställningen är klar.", timeout=120_000)
    check_a11y(secretary)
    for name, magic in (("Word-dokument", b"PK"), ("PDF", b"%PDF")):
        with secretary.expect_download() as info:
            secretary.get_by_role("link", name=re.compile(f"Ladda ner {name}")).click()
        path = info.value.path()
        assert path.read_bytes().startswith(magic), name
