"""The administrator's pages (issue 14) through the app: forms that save through the directory
service, Swedish errors that name the field with nothing half-written, search and pages, the
directory file's preview and "Genomför", and categories renamed from the page while old
reports keep theirs (both databases). Who may open which page: test_authorization.py."""

from __future__ import annotations

import copy
import io
import re
from datetime import date

import pytest
import yaml
from flask import g, request_started
from sqlalchemy import func, select

from formservice.domain.statistics import half_year
from formservice.extensions import db
from formservice.models import AuditEvent, BusGroup, Deviation, FormVersion, Huvudman, Unit, User
from formservice.services import categories, statistics_report
from formservice.services import directory as directory_service
from formservice.services.digest import case_dicts
from tests.support.app import login
from tests.support.paths import DEMO_DIRECTORY

from .helpers import ADMIN, CHEF_A, CHEF_B, VANTETID, send_report, user
from .test_form_versions import docx_text, sent_earlier

DEMO = yaml.safe_load(DEMO_DIRECTORY.read_text(encoding="utf-8"))
OLD_LABEL = "Väntetid eller tillgänglighet"
NEW_LABEL = "Väntetid, kö eller bristande tillgänglighet"


@pytest.fixture(autouse=True)
def _user_per_request(app):
    """Load the logged-in user on every request, as a server does (the test's app context
    would otherwise keep the first client's user for the other's requests)."""

    def forget(sender, **extra) -> None:
        g.pop("_login_user", None)

    request_started.connect(forget, app)
    yield
    request_started.disconnect(forget, app)


def text_of(response) -> str:
    return response.get_data(as_text=True)


def count(model: type) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def as_admin(client):
    assert login(client, ADMIN).status_code == 302
    return client


def test_the_menu_shows_administration_to_the_administrator_only(directory, client):
    page = text_of(as_admin(client).get("/admin"))
    assert 'href="/admin">Administration</a>' in page
    for link in (
        "Verksamheter",
        "Personer",
        "BUS-grupper",
        "Huvudmän",
        "BUS-sekretariatet",
        "Kategorier",
        "Katalogfil",
    ):
        assert f">{link}</a>" in page
    chef = directory.test_client()
    login(chef, CHEF_A)
    assert "Administration" not in text_of(chef.get("/avvikelser"))


def test_adding_a_unit_and_a_person_through_the_forms(directory, client):
    as_admin(client)
    form = text_of(client.get("/admin/personer/ny"))
    assert 'for="name">Namn' in form and 'for="email">E-postadress' in form
    response = client.post(
        "/admin/personer/ny", data={"name": "Nora Ny", "email": "nora.ny@stad.example"}
    )
    nora = db.session.scalar(select(User).where(User.email == "nora.ny@stad.example"))
    assert response.status_code == 302 and response.headers["Location"].endswith(
        f"/admin/personer/{nora.id}"
    )
    form = text_of(client.get("/admin/verksamheter/ny"))
    for label in (
        "Namn",
        "Huvudman",
        "Typ av verksamhet",
        "BUS-grupper",
        "Ansvarig chef",
        "Ersättare",
        "Aktiv",
    ):
        assert f">{label}<" in form or f">{label}</legend>" in form or f">{label}</label>" in form
    assert '<option value="nora.ny@stad.example">Nora Ny</option>' in form  # the suggestions
    response = client.post(
        "/admin/verksamheter/ny",
        data={
            "name": "Fritidsgården Skarpnäck",
            "huvudman": "stockholms-stad",
            "type": "annan",
            "bus_groups": ["skarpnack"],
            "chef": "Nora.Ny@stad.example",
            "deputies": "erik.ersatt@stad.example\n\n",
            "active": "y",
        },
        follow_redirects=True,
    )
    assert response.status_code == 200 and "Verksamheten är sparad." in text_of(response)
    unit = db.session.get(Unit, "fritidsgarden-skarpnack")
    assert unit.chef.email == "nora.ny@stad.example" and unit.active
    assert [d.email for d in unit.deputies] == ["erik.ersatt@stad.example"]
    person_page = text_of(client.get(f"/admin/personer/{nora.id}"))
    assert "Fritidsgården Skarpnäck" in person_page  # the units they lead are shown


def test_refusals_name_the_field_and_write_nothing(directory, client):
    as_admin(client)
    before = (count(Unit), count(AuditEvent))
    response = client.post(
        "/admin/verksamheter/ny",
        data={"name": "", "huvudman": "stockholms-stad", "type": "annan"},
    )
    assert response.status_code == 422 and "Namn: fyll i uppgiften." in text_of(response)
    response = client.post(
        "/admin/verksamheter/ny",
        data={
            "name": "Ny enhet",
            "huvudman": "stockholms-stad",
            "type": "annan",
            "chef": "okand@stad.example",
            "active": "y",
        },
    )
    page = text_of(response)
    assert response.status_code == 422
    assert "Ansvarig chef: det finns ingen aktiv person med e-postadressen okand@stad.example" in (
        page
    )
    assert 'value="Ny enhet"' in page  # nothing the administrator typed is lost
    response = client.post(
        "/admin/verksamheter/ny",
        data={"name": "Ny enhet", "huvudman": "finns-inte", "type": "annan"},
    )
    assert response.status_code == 422 and "Huvudman: välj ett av alternativen." in text_of(
        response
    )
    response = client.post(
        "/admin/bus-grupper/skarpnack",
        data={"name": "Lokal BUS Skarpnäck", "meetings_per_term": "tre", "answer_days": "0"},
    )
    page = text_of(response)
    assert response.status_code == 422
    assert "Möten per termin: ange ett heltal." in page
    assert "Svarstid i dagar: ange ett tal från 1 till 365." in page
    response = client.post("/admin/personer/ny", data={"name": "Dubbel", "email": CHEF_A.upper()})
    assert response.status_code == 422
    assert "E-postadress: det finns redan en person med den e-postadressen." in text_of(response)
    response = client.post(
        "/admin/huvudman/region-stockholm",
        data={"name": "Region Stockholm", "type": "region"},  # "Aktiv" unticked
    )
    assert response.status_code == 422 and "Aktiv: huvudmannen har 2 aktiva" in text_of(response)
    assert (count(Unit), count(AuditEvent)) == before
    assert db.session.get(Huvudman, "region-stockholm").active


def test_a_group_page_sets_the_bus_individ_units_and_the_meeting_rhythm(directory, client):
    as_admin(client)
    page = text_of(client.get("/admin/bus-grupper/skarpnack"))
    for label in (
        "Namn",
        "Sammankallande",
        "Sekreterare",
        "Svarstid i dagar",
        "Svarstid räknas i",
        "Kalenderdagar",
        "Arbetsdagar",
        "Sammankallande verksamhet för BUS-individ",
        "Ordförande verksamhet för BUS-individ",
        "Möten per termin",
        "Aktiv",
    ):
        assert f">{label}" in page, label
    assert 'value="vera.callen@stad.example"' in page
    response = client.post(
        "/admin/bus-grupper/skarpnack",
        data={
            "name": "Lokal BUS Skarpnäck",
            "convener": "vera.callen@stad.example",
            "secretary": "sam.prevent@stad.example",
            "answer_days": "45",
            "answer_day_kind": "arbetsdagar",
            "bus_individ_convener_unit": "familjeenheten-skarpnack",
            "bus_individ_chair_unit": "forskola-skarpnack",
            "meetings_per_term": "4",
            "active": "y",
        },
    )
    assert response.status_code == 302
    group = db.session.get(BusGroup, "skarpnack")
    assert (group.answer_days, group.meetings_per_term) == (45, 4)
    assert group.answer_day_kind == "arbetsdagar"
    shown = text_of(client.get("/admin/bus-grupper/skarpnack"))
    assert re.search(r'<input checked [^>]*value="arbetsdagar"', shown)
    assert group.bus_individ_chair_unit_id == "forskola-skarpnack"
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "bus_group.changed"))
    assert event.actor == ADMIN
    assert event.detail["fields"] == [
        "bus_individ_chair_unit",
        "answer_days",
        "answer_day_kind",
        "meetings_per_term",
    ]


def test_search_and_pages(directory, client):
    as_admin(client)
    for n in range(55):
        directory_service.save_unit(
            user(ADMIN),
            None,
            directory_service.UnitInput(f"Testskola {n:02}", "stockholms-stad", "grundskola"),
        )
    first = text_of(client.get("/admin/verksamheter?q=testskola"))
    assert "55 verksamheter" in first and "Testskola 00" in first and "Testskola 50" not in first
    assert "Sida 1 av 2" in first and "sida=2" in first
    second = text_of(client.get("/admin/verksamheter?q=TESTSKOLA&sida=2"))
    assert "Testskola 50" in second and "Testskola 49" not in second
    people = text_of(client.get("/admin/personer?q=ines"))
    assert "1 person" in people and CHEF_B in people and CHEF_A not in people
    assert "0 personer" in text_of(client.get("/admin/personer?q=%25"))  # "%" is no wildcard
    bup = directory_service.unit_input(db.session.get(Unit, "bup-farsta"))
    directory_service.save_unit(
        user(ADMIN), "bup-farsta", directory_service.UnitInput(**(vars(bup) | {"active": False}))
    )
    assert "BUP Farsta" not in text_of(client.get("/admin/verksamheter?q=bup"))
    shown = text_of(client.get("/admin/verksamheter?q=bup&inaktiva=y"))
    assert "BUP Farsta" in shown and "Inaktiv" in shown


def test_deactivating_from_the_person_page(directory, client):
    as_admin(client)
    chef_b = user(CHEF_B)
    page = text_of(client.get(f"/admin/personer/{chef_b.id}"))
    assert "BUP Farsta" in page and ">Inaktivera</button>" in page
    response = client.post(f"/admin/personer/{chef_b.id}/inaktivera", follow_redirects=True)
    assert "Personen är inaktiverad." in text_of(response)
    assert not user(CHEF_B).active
    admin = user(ADMIN)
    response = client.post(f"/admin/personer/{admin.id}/inaktivera", follow_redirects=True)
    assert "Du kan inte inaktivera dig själv." in text_of(response)
    assert user(ADMIN).active
    assert client.post("/admin/personer/999999/inaktivera").status_code == 404


def test_mailboxes_of_the_secretariat(directory, client):
    as_admin(client)
    assert "bus-avvikelser@storsthlm.example" in text_of(client.get("/admin/sekretariatet"))
    response = client.post(
        "/admin/sekretariatet/ny",
        data={"name": "BUS-avvikelser Syd", "email": "bus-syd@storsthlm.example"},
        follow_redirects=True,
    )
    assert "Brevlådan är sparad." in text_of(response)
    assert "bus-syd@storsthlm.example" in text_of(response)
    assert db.session.scalar(
        select(User).where(User.email == "bus-syd@storsthlm.example")
    ).is_secretariat


# --- Katalogfil --------------------------------------------------------------------------------


def upload(client, text: str, name: str = "katalog.yaml"):
    data = {"file": (io.BytesIO(text.encode()), name)}
    return client.post("/admin/katalog", data=data, content_type="multipart/form-data")


def token_of(page: str) -> str:
    start = page.index('name="token"')
    value = page.index('value="', start) + len('value="')
    return page[value : page.index('"', value)]


def test_download_upload_preview_and_apply(directory, client):
    as_admin(client)
    download = client.get("/admin/katalog.yaml")
    assert download.status_code == 200
    assert download.headers["Content-Disposition"].startswith('attachment; filename="katalog-')
    exported = yaml.safe_load(download.data)
    assert exported == directory_service.export_directory()
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "directory.exported"))

    same = upload(client, download.data.decode())
    assert same.status_code == 200 and "Filen ändrar ingenting i katalogen." in text_of(same)

    changed = copy.deepcopy(exported)
    changed["units"] = [u for u in changed["units"] if u["id"] != "hc-soderstaden"]
    next(u for u in changed["units"] if u["id"] == "bup-farsta")["name"] = "BUP Farsta-Skarpnäck"
    changed["people"] = [{"name": "Nora Ny", "email": "nora.ny@stad.example"}]
    before = directory_service.export_directory()
    preview = upload(client, yaml.safe_dump(changed, allow_unicode=True))
    page = text_of(preview)
    assert preview.status_code == 200
    assert (
        "Läggs till" in page and "Person: <strong>Nora Ny</strong> (nora.ny@stad.example)" in page
    )
    assert (
        "Ändras" in page
        and "Verksamhet: <strong>BUP Farsta-Skarpnäck</strong> – ändras: Namn" in page
    )
    assert "Inaktiveras" in page and "Verksamhet: <strong>HC Söderstaden</strong>" in page
    assert directory_service.export_directory() == before  # the preview changed nothing

    token = token_of(page)
    tampered = client.post("/admin/katalog/genomfor", data={"token": token[:-2] + "xx"})
    assert tampered.status_code == 422 and "Ladda upp filen igen" in text_of(tampered)
    assert directory_service.export_directory() == before

    applied = client.post("/admin/katalog/genomfor", data={"token": token}, follow_redirects=True)
    assert "Katalogen är inläst:" in text_of(applied)
    db.session.expire_all()
    assert not db.session.get(Unit, "hc-soderstaden").active
    assert db.session.get(Unit, "bup-farsta").name == "BUP Farsta-Skarpnäck"
    imported = select(AuditEvent).where(AuditEvent.action == "directory.imported")
    assert [e.actor for e in db.session.scalars(imported)] == ["system", ADMIN]  # fixture, page

    again = client.post("/admin/katalog/genomfor", data={"token": token})  # a stale preview
    assert again.status_code == 409 and "Katalogen har ändrats" in text_of(again)


def test_a_bad_file_is_refused_with_the_reason(directory, client):
    as_admin(client)
    before = directory_service.export_directory()
    cases = [
        (
            "huvudman:\n  - {id: x, name: [\nunits: []\n",
            "Katalogfil: filen kan inte läsas som YAML (fel på rad 2).",
        ),
        ("- bara\n- en lista\n", "Katalogfil: Filen ska vara ett YAML-dokument"),
        (
            "units:\n  - {id: u1, name: U, huvudman: finns-inte, type: bup}\n",
            "Katalogfil: units u1: okänd huvudman",
        ),
    ]
    for text, message in cases:
        response = upload(client, text)
        assert response.status_code == 422 and message in text_of(response), text_of(response)
    binary = client.post(
        "/admin/katalog",
        data={"file": (io.BytesIO(b"\xff\xfe\x00x"), "k.yaml")},
        content_type="multipart/form-data",
    )
    assert "Katalogfil: filen ska vara en textfil i UTF-8." in text_of(binary)
    empty = client.post("/admin/katalog", data={}, content_type="multipart/form-data")
    assert empty.status_code == 422 and "Katalogfil: välj en fil." in text_of(empty)
    without_me = copy.deepcopy(before)
    without_me["admins"] = []
    refused = upload(client, yaml.safe_dump(without_me, allow_unicode=True))
    assert refused.status_code == 422 and "din egen behörighet" in text_of(refused)
    assert directory_service.export_directory() == before


# --- Kategorier --------------------------------------------------------------------------------


def test_a_category_renamed_on_the_page_leaves_old_reports_as_filed(directory, client):
    old = sent_earlier(send_report(categories=[VANTETID]))  # 2025 H1, on version 1
    as_admin(client)
    page = text_of(client.get("/admin/kategorier"))
    assert OLD_LABEL in page and 'value="Lägg till"' in page and "Ta bort ur blanketten" in page
    response = client.post(
        f"/admin/kategorier/{VANTETID}/namn", data={f"{VANTETID}-label": NEW_LABEL}
    )
    assert response.status_code == 302
    assert db.session.get(FormVersion, 2).categories[6] == {"code": VANTETID, "label": NEW_LABEL}
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "form.version_created"))
    assert event.actor == ADMIN

    chef = directory.test_client()
    login(chef, CHEF_A)
    shown = text_of(chef.get(f"/avvikelser/{old.id}"))
    assert OLD_LABEL in shown and NEW_LABEL not in shown
    docx = docx_text(chef.get(f"/avvikelser/{old.id}/avvikelse.docx"))
    assert OLD_LABEL in docx and NEW_LABEL not in docx
    (entry,) = case_dicts([old.id])  # the digest's entry
    assert entry["categories"] == [OLD_LABEL]
    assert NEW_LABEL in text_of(chef.get("/avvikelser/ny"))

    report = statistics_report.group_report(
        "skarpnack", half_year(2025, 1), today=date(2026, 12, 1)
    )
    counted = {r["key"]: (r["label"], r["count"]) for r in report["deviations"]["by_category"]}
    assert counted[VANTETID] == (NEW_LABEL, 1)  # the earlier period still counts it


def test_adding_and_retiring_categories_on_the_page(directory, client):
    as_admin(client)
    response = client.post("/admin/kategorier/ny", data={"label": "Brister i dokumentationen"})
    assert response.status_code == 302
    page = text_of(client.get("/admin/kategorier"))
    assert "Kategorin Brister i dokumentationen är tillagd i blanketten." in page
    duplicate = client.post("/admin/kategorier/ny", data={"label": "övrigt"})
    assert duplicate.status_code == 422
    assert "Ny kategori: det finns redan en kategori som heter övrigt." in text_of(duplicate)
    empty = client.post("/admin/kategorier/ovrigt/namn", data={"ovrigt-label": " "})
    assert empty.status_code == 422 and "Nytt namn för Övrigt: fyll i uppgiften." in text_of(empty)

    report = send_report(categories=["ovrigt"])
    retired = client.post("/admin/kategorier/ovrigt/ta-bort", follow_redirects=True)
    page = text_of(retired)
    assert "Kategorin Övrigt är borttagen ur blanketten." in page
    assert "Borttagna kategorier" in page
    chef = directory.test_client()
    login(chef, CHEF_A)
    assert 'value="ovrigt"' not in text_of(chef.get("/avvikelser/ny"))
    assert "Övrigt" in text_of(chef.get(f"/avvikelser/{report.id}"))
    assert client.post("/admin/kategorier/ovrigt/ta-bort").status_code == 404  # already gone
    codes = [
        c for c in db.session.scalar(select(Deviation.categories).where(Deviation.id == report.id))
    ]
    assert codes == ["ovrigt"]


def test_the_last_category_cannot_be_retired(directory, client):
    as_admin(client)
    codes = [code for code, _ in categories.choices()]
    categories.new_version(user(ADMIN), retire=codes[1:])
    response = client.post(f"/admin/kategorier/{codes[0]}/ta-bort", follow_redirects=True)
    assert "blanketten måste ha minst en kategori" in text_of(response)


@pytest.mark.parametrize("ticked", [True, False])
def test_a_new_person_is_invited_when_the_box_is_ticked(directory, client, ticked):
    """ "Skicka inbjudan nu": an invitation (outbox row and audit event) only when ticked."""
    from formservice.models import OutboxMessage

    login(client, ADMIN)
    assert "Skicka inbjudan nu" in text_of(client.get("/admin/personer/ny"))
    data = {"name": "Ivar Inbjuden", "email": "ivar.inbjuden@stad.example"}
    if ticked:
        data["invite"] = "y"
    response = client.post("/admin/personer/ny", data=data)
    assert response.status_code == 302
    person = db.session.scalar(select(User).where(User.email == "ivar.inbjuden@stad.example"))
    rows = db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.to_email == person.email)
    ).all()
    invited = db.session.scalar(
        select(func.count())
        .select_from(AuditEvent)
        .where(AuditEvent.action == "account.invited", AuditEvent.object_id == str(person.id))
    )
    assert [r.kind for r in rows] == (["invitation"] if ticked else [])
    assert invited == (1 if ticked else 0)
