"""Getting in without a terminal, in a real browser against the real stack (issue 14): a person
added to the directory is invited, chooses a password and files a report; the administrator
sets up the app and logs in with a code; "Glömt lösenordet?" looks the same for an address
nobody has; axe-core on every new page. The stack runs with the production default
FORMSERVICE_REQUIRE_2FA=admin."""

from __future__ import annotations

import re
import shutil
import tempfile
import time
from pathlib import Path

import pyotp
import pytest
import yaml
from playwright.sync_api import Page, expect
from sqlalchemy import create_engine, text

from tests.integration.helpers import ADMIN, CHEF_A, CHEF_B
from tests.support import stack as support_stack
from tests.support.accounts import PASSWORD, password_hash
from tests.support.paths import DEMO_DIRECTORY

from .conftest import BROWSER_REDIS_URL, check_a11y, formservice_stack, wait_for_mail
from .test_deviation_journey import fill_valid_report, today

pytestmark = pytest.mark.browser

NORA = "nora.ny@stad.example"  # the new chef, added by a directory import
NOBODY = "ingen.alls@stad.example"
NEW_PASSWORD = "Blåbär-cykel-ekorre-73"
LINK = re.compile(r"https?://\S+/(?:inbjudan|aterstall)/[^\s>\"']+")


@pytest.fixture(scope="module")
def stack(smtp_sink):
    log_dir = Path(tempfile.mkdtemp(prefix="formservice-accounts-"))
    try:
        with formservice_stack(
            smtp_sink,
            log_dir,
            FORMSERVICE_REQUIRE_2FA="admin",
            FORMSERVICE_ACCESSIBILITY_CONTACT="tillganglighet@stad.example",
        ) as (live, _procs):
            yield live
    finally:
        shutil.rmtree(log_dir, ignore_errors=True)


def cli(stack, *args: str) -> None:
    """`formservice …` against the stack's database, as an operator would run it."""
    support_stack.cli(list(args), support_stack.environment(stack.database_url, BROWSER_REDIS_URL))


def add_nora(stack, folder: Path) -> None:
    """The demo directory plus a new pre-school whose chef is Nora (`directory import`)."""
    data = yaml.safe_load(DEMO_DIRECTORY.read_text(encoding="utf-8"))
    data["units"].append(
        {
            "id": "forskola-backen",
            "name": "Förskolan Bäcken",
            "huvudman": "stockholms-stad",
            "type": "forskola",
            "bus_groups": ["skarpnack"],
            "chef": {"name": "Nora Ny", "email": NORA},
        }
    )
    path = folder / "katalog.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    cli(stack, "directory", "import", str(path))


def sql(stack, statement: str, **values):
    engine = create_engine(stack.database_url)
    try:
        with engine.begin() as conn:
            result = conn.execute(text(statement), values)
            return result.all() if result.returns_rows else []
    finally:
        engine.dispose()


def fill_login(page: Page, stack, email: str, password: str = PASSWORD) -> None:
    page.goto(stack.url("/logga-in"))
    page.get_by_label("E-postadress").fill(email)
    page.get_by_label("Lösenord").fill(password)
    page.get_by_role("button", name="Logga in").click()


def heading(page: Page):
    return page.get_by_role("heading", level=1)


def mailed_link(message) -> str:
    found = LINK.findall(message.get_body(("plain",)).get_content())
    assert len(found) == 1, message.get_content()
    return found[0]


def test_invited_chef_chooses_a_password_and_files_a_report(
    stack, new_context, smtp_sink, tmp_path
):
    add_nora(stack, tmp_path)

    # The administrator logs in and must set up the app before anything else.
    admin = new_context().new_page()
    fill_login(admin, stack, ADMIN)
    expect(heading(admin)).to_have_text("Tvåstegsverifiering")
    expect(admin.get_by_role("navigation", name="Huvudmeny")).to_have_count(0)  # not in yet
    check_a11y(admin)
    admin.get_by_role("button", name="Ställ in appen").click()
    expect(admin.get_by_role("img", name=re.compile("QR-kod"))).to_be_visible()
    check_a11y(admin)
    secret = admin.locator("code.secret").inner_text().replace(" ", "")
    admin.get_by_label("Kod från appen").fill("000000")
    admin.get_by_role("button", name="Aktivera tvåstegsverifiering").click()
    expect(admin.locator(".error-summary")).to_contain_text("Kod från appen: koden stämmer inte")
    check_a11y(admin)
    admin.get_by_label("Kod från appen").fill(pyotp.TOTP(secret).now())
    admin.get_by_role("button", name="Aktivera tvåstegsverifiering").click()
    expect(heading(admin)).to_have_text("Dina reservkoder")
    codes = admin.locator("ul.codes code").all_inner_texts()
    assert len(codes) == 10
    check_a11y(admin)
    admin.get_by_role("link", name=re.compile("fortsätt")).click()
    expect(admin).to_have_url(stack.url("/admin"))
    expect(heading(admin)).to_have_text("Administration")
    menu = admin.get_by_role("navigation", name="Huvudmeny")
    expect(menu.get_by_role("link", name="Administration")).to_be_visible()
    expect(menu.get_by_role("link", name="Ny avvikelse")).to_have_count(0)
    check_a11y(admin)

    # "Skicka inbjudan" for Nora: the administrator's route, with the page's CSRF token.
    [(nora_id,)] = sql(stack, "SELECT id FROM users WHERE email = :e", e=NORA)
    token = admin.locator("input[name=csrf_token]").first.get_attribute("value")
    sent = admin.request.post(
        stack.url(f"/admin/personer/{nora_id}/inbjudan"),
        form={"csrf_token": token},
        headers={"Referer": stack.url("/admin")},
    )
    assert sent.ok, sent.status
    message = wait_for_mail(smtp_sink, NORA, "välj ditt lösenord")
    link = mailed_link(message)
    assert link.startswith(stack.base_url + "/inbjudan/")

    # Nora, in a browser of her own without JavaScript, chooses a password.
    nora = new_context(java_script_enabled=False).new_page()
    nora.goto(link)
    expect(heading(nora)).to_have_text("Välj lösenord")
    expect(nora.get_by_role("main")).to_contain_text(NORA)
    check_a11y(nora)
    nora.get_by_label("Nytt lösenord").fill("Password1234")
    nora.get_by_label("Upprepa lösenordet").fill("Password1234")
    nora.get_by_role("button", name="Spara lösenord").click()
    summary = nora.locator(".error-summary")
    expect(summary).to_contain_text("Nytt lösenord: lösenordet är för lätt att gissa")
    check_a11y(nora)
    nora.get_by_label("Nytt lösenord").fill(NEW_PASSWORD)
    nora.get_by_label("Upprepa lösenordet").fill(NEW_PASSWORD)
    nora.get_by_role("button", name="Spara lösenord").click()
    expect(heading(nora)).to_have_text("Logga in")
    expect(nora.get_by_role("status")).to_contain_text("Ditt lösenord är sparat")

    # She logs in, lands on "Att besvara" and files a report to an existing unit.
    fill_login(nora, stack, NORA, NEW_PASSWORD)
    expect(nora).to_have_url(stack.url("/avvikelser#att-besvara"))
    expect(nora.get_by_role("heading", name="Att besvara")).to_be_visible()
    nora.get_by_role("navigation", name="Huvudmeny").get_by_role(
        "link", name="Ny avvikelse"
    ).click()
    expect(nora.get_by_label("Rapporterande verksamhet")).to_have_value("forskola-backen")
    fill_valid_report(nora, "Remissen till BUP besvarades inte inom överenskommen tid.")
    nora.get_by_label("Jag intygar att rapporten är avidentifierad").check()
    nora.get_by_role("button", name="Skicka avvikelsen").click()
    expect(heading(nora)).to_contain_text(f"BUS-{today().year}-")
    wait_for_mail(smtp_sink, CHEF_B, f"BUS-{today().year}-")

    # The invitation worked once.
    response = nora.goto(link)
    assert response is not None and response.status == 410
    expect(heading(nora)).to_have_text("Länken kan inte användas")
    expect(nora.get_by_role("main")).to_contain_text("redan använts")
    check_a11y(nora)

    # The administrator logs in again: password, then the code from the app.
    admin.get_by_role("button", name="Logga ut").click()
    fill_login(admin, stack, ADMIN)
    expect(heading(admin)).to_have_text("Kod från appen")
    check_a11y(admin)
    admin.get_by_label("Kod från appen").fill("111111")
    admin.get_by_role("button", name="Logga in").click()
    expect(admin.locator(".error-summary")).to_contain_text("Kod från appen: koden stämmer inte")
    check_a11y(admin)
    admin.get_by_label("Kod från appen").fill(pyotp.TOTP(secret).at(time.time() + 30))
    admin.get_by_role("button", name="Logga in").click()
    expect(admin).to_have_url(stack.url("/admin"))


def test_forgot_password_looks_the_same_for_known_and_unknown(stack, new_context, smtp_sink):
    page = new_context(java_script_enabled=False).new_page()
    seen = {}
    for email in (CHEF_A, NOBODY):
        page.goto(stack.url("/logga-in"))
        page.get_by_role("link", name="Glömt lösenordet?").click()
        expect(heading(page)).to_have_text("Glömt lösenordet?")
        check_a11y(page)
        page.get_by_label("E-postadress").fill(email)
        page.get_by_role("button", name="Skicka länk").click()
        expect(heading(page)).to_have_text("Kontrollera din e-post")
        seen[email] = (page.title(), page.locator("body").inner_html())
    assert seen[CHEF_A] == seen[NOBODY]
    check_a11y(page)

    message = wait_for_mail(smtp_sink, CHEF_A, "Nytt lösenord")
    link = mailed_link(message)
    assert link.startswith(stack.base_url + "/aterstall/")
    deadline = time.monotonic() + 15  # the worker deletes the unknown address's row unsent
    while sql(stack, "SELECT id FROM outbox WHERE to_email = :e", e=NOBODY):
        assert time.monotonic() < deadline, "the row to an unknown address stayed"
        time.sleep(0.3)
    assert not [m for m in smtp_sink.messages if m["To"] == NOBODY]

    page.goto(link)
    expect(heading(page)).to_have_text("Välj lösenord")
    check_a11y(page)
    page.get_by_label("Nytt lösenord").fill(NEW_PASSWORD)
    page.get_by_label("Upprepa lösenordet").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Spara lösenord").click()
    fill_login(page, stack, CHEF_A, NEW_PASSWORD)
    expect(page).to_have_url(stack.url("/avvikelser#att-besvara"))

    response = page.goto(link)  # used: dead
    assert response is not None and response.status == 410
    expect(page.get_by_role("main")).to_contain_text("redan använts")


def test_the_other_new_pages_pass_axe(stack, new_context):
    # The accessibility statement, public, from the footer of the login page.
    visitor = new_context(java_script_enabled=False).new_page()
    visitor.goto(stack.url("/logga-in"))
    visitor.get_by_role("contentinfo").get_by_role(
        "link", name="Tillgänglighetsredogörelse"
    ).click()
    expect(heading(visitor)).to_have_text("Tillgänglighetsredogörelse")
    expect(visitor.get_by_role("link", name="tillganglighet@stad.example")).to_be_visible()
    check_a11y(visitor)

    # "Mitt konto" and its second-factor page for a chef (one factor: no role needs two).
    chef = new_context().new_page()
    fill_login(chef, stack, "hanna.hab@region.example")
    chef.get_by_role("navigation", name="Huvudmeny").get_by_role("link", name="Mitt konto").click()
    expect(heading(chef)).to_have_text("Mitt konto")
    check_a11y(chef)
    chef.get_by_label("Nuvarande lösenord").fill("fel-lösenord-1")
    chef.get_by_label("Nytt lösenord").fill(NEW_PASSWORD)
    chef.get_by_label("Upprepa lösenordet").fill(NEW_PASSWORD)
    chef.get_by_role("button", name="Spara lösenord").click()
    expect(chef.locator(".error-summary")).to_contain_text("Nuvarande lösenord")
    check_a11y(chef)
    chef.get_by_role("link", name="Hantera tvåstegsverifiering").click()
    expect(heading(chef)).to_have_text("Tvåstegsverifiering")
    check_a11y(chef)

    # A person the directory gives no role yet.
    sql(
        stack,
        "INSERT INTO users (email, name, password_hash, is_admin, is_secretariat, active,"
        " token_version) VALUES (:e, 'Utan Roll', :h, false, false, true, 0)",
        e="utan.roll@stad.example",
        h=password_hash(),
    )
    nobody = new_context().new_page()
    fill_login(nobody, stack, "utan.roll@stad.example")
    expect(heading(nobody)).to_have_text("Du har ingen roll ännu")
    expect(nobody.get_by_role("main")).to_contain_text("Ada Admin")
    check_a11y(nobody)

    # A link that is not one.
    response = visitor.goto(stack.url("/aterstall/inte-en-riktig-lank"))
    assert response is not None and response.status == 400
    expect(heading(visitor)).to_have_text("Länken kan inte användas")
    check_a11y(visitor)
