"""The administrator's pages in a real browser without JavaScript (issue 14): a new unit and a
new chef who then files a report from it, the directory file downloaded and read back, a
category renamed while an older report keeps its own; axe-core on every page."""

from __future__ import annotations

import re

import pytest
import yaml
from docx import Document
from playwright.sync_api import Page, expect

from tests.integration.helpers import ADMIN, CHEF_A
from tests.support.accounts import give_password_in

from .conftest import check_a11y
from .test_deviation_journey import fill_valid_report, group, log_in

pytestmark = pytest.mark.browser

NORA = "nora.ny@stad.example"
UNIT = "Fritidsgården Skarpnäck"
OLD_LABEL = "Väntetid eller tillgänglighet"
NEW_LABEL = "Väntetid, kö eller bristande tillgänglighet"


def heading(page: Page):
    return page.get_by_role("heading", level=1)


def flash(page: Page):
    return page.locator(".flashes")


def admin_menu(page: Page, name: str) -> None:
    page.get_by_role("navigation", name="Administration").get_by_role("link", name=name).click()


def test_the_administrator_adds_a_unit_and_its_chef_who_files_a_report(
    live_stack, new_context, tmp_path
):
    admin = new_context(java_script_enabled=False).new_page()
    log_in(admin, live_stack, ADMIN)
    admin.get_by_role("navigation", name="Huvudmeny").get_by_role(
        "link", name="Administration"
    ).click()
    expect(heading(admin)).to_have_text("Administration")
    check_a11y(admin)

    # A new person: the chef-to-be.
    admin_menu(admin, "Personer")
    expect(heading(admin)).to_have_text("Personer")
    check_a11y(admin)
    admin.get_by_role("link", name="Ny person").click()
    check_a11y(admin)
    admin.get_by_label("Namn").fill("Nora Ny")
    admin.get_by_label("E-postadress").fill(NORA)
    admin.get_by_role("button", name="Spara").click()
    expect(heading(admin)).to_have_text("Nora Ny")
    expect(flash(admin)).to_contain_text("Personen är sparad.")
    check_a11y(admin)

    # A new unit with Nora as its chef; first without a name.
    admin_menu(admin, "Verksamheter")
    expect(heading(admin)).to_have_text("Verksamheter")
    check_a11y(admin)
    admin.get_by_role("link", name="Ny verksamhet").click()
    expect(heading(admin)).to_have_text("Ny verksamhet")
    check_a11y(admin)
    admin.get_by_label("Huvudman").select_option(label="Stockholms stad")
    admin.get_by_label("Typ av verksamhet").select_option(label="Annan")
    group(admin, "BUS-grupper").get_by_label("Lokal BUS Skarpnäck").check()
    admin.get_by_label("Ansvarig chef").fill(NORA)
    admin.get_by_role("button", name="Spara").click()
    expect(admin.locator(".error-summary")).to_contain_text("Namn: fyll i uppgiften.")
    expect(admin).to_have_title(re.compile("^Fel i formuläret"))
    expect(admin.get_by_label("Ansvarig chef")).to_have_value(NORA)  # nothing lost
    check_a11y(admin)
    admin.get_by_label("Namn").fill(UNIT)
    admin.get_by_role("button", name="Spara").click()
    expect(heading(admin)).to_have_text(UNIT)
    expect(flash(admin)).to_contain_text("Verksamheten är sparad.")
    check_a11y(admin)

    admin_menu(admin, "Personer")
    admin.get_by_label("Sök").fill("nora")
    admin.get_by_role("button", name="Sök").click()
    admin.get_by_role("link", name="Nora Ny").click()
    expect(admin.get_by_role("main")).to_contain_text(UNIT)  # the unit she leads
    check_a11y(admin)

    # The other pages of the administration.
    for section, title in [
        ("BUS-grupper", "BUS-grupper"),
        ("Huvudmän", "Huvudmän"),
        ("BUS-sekretariatet", "BUS-sekretariatet"),
        ("Kategorier", "Kategorier"),
    ]:
        admin_menu(admin, section)
        expect(heading(admin)).to_have_text(title)
        check_a11y(admin)
    admin_menu(admin, "BUS-grupper")
    admin.get_by_role("link", name="Lokal BUS Skarpnäck").click()
    expect(admin.get_by_label("Möten per termin")).to_have_value("2")
    check_a11y(admin)
    admin_menu(admin, "BUS-grupper")
    admin.get_by_role("link", name="Ny BUS-grupp").click()
    expect(heading(admin)).to_have_text("Ny BUS-grupp")
    check_a11y(admin)
    admin_menu(admin, "Huvudmän")
    admin.get_by_role("link", name="Ny huvudman").click()
    check_a11y(admin)
    admin_menu(admin, "BUS-sekretariatet")
    admin.get_by_role("link", name="Ny brevlåda").click()
    check_a11y(admin)

    # The directory file: download, read it back (no change), then a change to preview.
    admin_menu(admin, "Katalogfil")
    expect(heading(admin)).to_have_text("Katalogfil")
    check_a11y(admin)
    with admin.expect_download() as info:
        admin.get_by_role("link", name="Ladda ner katalogen").click()
    downloaded = tmp_path / "katalog.yaml"
    info.value.save_as(downloaded)
    catalog = yaml.safe_load(downloaded.read_text(encoding="utf-8"))
    assert UNIT in {u["name"] for u in catalog["units"]}
    admin.get_by_label("Katalogfil").set_input_files(downloaded)
    admin.get_by_role("button", name="Visa ändringar").click()
    expect(admin.get_by_role("main")).to_contain_text("Filen ändrar ingenting i katalogen.")
    check_a11y(admin)
    admin.goto(live_stack.url("/admin/katalog"))
    catalog["units"] = [u for u in catalog["units"] if u["id"] != "hc-soderstaden"]
    changed = tmp_path / "andrad.yaml"
    changed.write_text(yaml.safe_dump(catalog, allow_unicode=True), encoding="utf-8")
    admin.get_by_label("Katalogfil").set_input_files(changed)
    admin.get_by_role("button", name="Visa ändringar").click()
    expect(heading(admin)).to_have_text("Vad katalogfilen ändrar")
    inactivated = admin.get_by_role("heading", name="Inaktiveras")
    expect(inactivated).to_be_visible()
    expect(admin.get_by_role("main")).to_contain_text("Verksamhet: HC Söderstaden")
    check_a11y(admin)
    admin.get_by_role("button", name="Genomför").click()
    expect(flash(admin)).to_contain_text("Katalogen är inläst:")
    check_a11y(admin)

    # Nora (her password set as the invitation will) files a report from her new unit.
    give_password_in(live_stack.database_url, [NORA])
    nora = new_context().new_page()
    log_in(nora, live_stack, NORA)
    nora.goto(live_stack.url("/avvikelser/ny"))
    expect(nora.get_by_label("Rapporterande verksamhet")).to_have_value(
        re.compile("fritidsgarden-skarpnack")
    )
    fill_valid_report(nora, "Remissen besvarades inte inom överenskommen tid.")
    nora.get_by_label("Jag intygar att rapporten är avidentifierad").check()
    nora.get_by_role("button", name="Skicka avvikelsen").click()
    expect(heading(nora)).to_contain_text("BUS-")
    expect(nora.get_by_role("main")).to_contain_text(UNIT)


def test_a_category_renamed_in_the_browser_leaves_an_older_report_as_filed(
    live_stack, new_context, tmp_path
):
    chef = new_context().new_page()
    log_in(chef, live_stack, CHEF_A)
    chef.goto(live_stack.url("/avvikelser/ny"))
    fill_valid_report(chef, "Väntetiden till första besöket var lång.")
    chef.get_by_label(OLD_LABEL).check()
    chef.get_by_label("Jag intygar att rapporten är avidentifierad").check()
    chef.get_by_role("button", name="Skicka avvikelsen").click()
    expect(heading(chef)).to_contain_text("BUS-")
    report_url = chef.url

    admin = new_context(java_script_enabled=False).new_page()
    log_in(admin, live_stack, ADMIN)
    admin.goto(live_stack.url("/admin/kategorier"))
    check_a11y(admin)
    admin.get_by_label(f"Nytt namn för {OLD_LABEL}").fill(NEW_LABEL)
    admin.get_by_label(f"Nytt namn för {OLD_LABEL}").locator("xpath=ancestor::form").get_by_role(
        "button", name="Byt namn"
    ).click()
    expect(flash(admin)).to_contain_text(f"heter nu {NEW_LABEL}")
    check_a11y(admin)
    admin.get_by_label("Ny kategori").fill("Brister i dokumentationen")
    admin.get_by_role("button", name="Lägg till").click()
    expect(flash(admin)).to_contain_text("Brister i dokumentationen är tillagd")
    admin.get_by_role("button", name="Ta bort ur blanketten: Brister i dokumentationen").click()
    expect(admin.get_by_role("heading", name="Borttagna kategorier")).to_be_visible()
    check_a11y(admin)

    chef.goto(report_url)  # the older report: as filed
    main = chef.get_by_role("main")
    expect(main).to_contain_text(OLD_LABEL)
    expect(main).not_to_contain_text(NEW_LABEL)
    with chef.expect_download() as info:
        chef.get_by_role("link", name=re.compile("Word")).first.click()
    path = tmp_path / "avvikelse.docx"
    info.value.save_as(path)
    document = Document(str(path))
    cells = [c.text for t in document.tables for r in t.rows for c in r.cells]
    words = "\n".join([p.text for p in document.paragraphs] + cells)
    assert OLD_LABEL in words and NEW_LABEL not in words
    chef.goto(live_stack.url("/avvikelser/ny"))  # the form: the new name
    expect(chef.get_by_label(NEW_LABEL)).to_be_visible()
    expect(chef.get_by_text("Brister i dokumentationen")).to_have_count(0)
