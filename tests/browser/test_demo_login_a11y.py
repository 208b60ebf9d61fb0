"""The demo's login page in a real browser (issue 16): the demo accounts with their roles,
axe-core without violations, and "Logga in som …" signing in, with and without JavaScript."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest
from playwright.sync_api import expect

from .conftest import check_a11y, formservice_stack

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def demo_stack(smtp_sink):
    """`formservice web` and `worker` in demo mode (FORMSERVICE_DEMO), the demo directory."""
    log_dir = Path(tempfile.mkdtemp(prefix="formservice-demo-"))
    try:
        with formservice_stack(smtp_sink, log_dir, FORMSERVICE_DEMO="1") as (stack, _procs):
            yield stack
    finally:
        shutil.rmtree(log_dir, ignore_errors=True)


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_the_demo_login_page_passes_axe_and_signs_in(demo_stack, new_context, javascript):
    page = new_context(java_script_enabled=javascript).new_page()
    page.goto(demo_stack.url("/logga-in"))
    expect(page.get_by_role("heading", name="Demokonton")).to_be_visible()
    expect(page.get_by_role("row", name="Sam Prevent")).to_contain_text(
        "Sekreterare, Lokal BUS Skarpnäck"
    )
    check_a11y(page)
    page.get_by_role("button", name="Logga in som Sam Prevent").click()
    page.wait_for_url("**/avvikelser")
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    check_a11y(page)
