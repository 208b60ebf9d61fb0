"""Registerutdrag (/admin/registerutdrag, GDPR art. 15): a child's SIP meetings and BUS-individ
records found by personnummer in every written form or by name; one DOCX (and JSON) with
everything held about the child and who has seen it; never a deviation; every search and
extract audited without the personnummer (issue 14). SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from io import BytesIO

from docx import Document
from docx.oxml.ns import qn
from docx.text.paragraph import Paragraph
from sqlalchemy import select

from formservice.extensions import db
from formservice.models import AuditEvent, SipMeeting
from formservice.services import retention
from formservice.services.files import DOCX_TYPE

from .helpers import ADMIN, CHEF_A, CHEF_B, send_report
from .meeting_helpers import AGREEMENT, CHILD, PNR, QUESTION, bus_individ, sip_meeting
from .test_audit_log import client_of

DEVIATION_TEXT = "Avvikelsetext som aldrig hör hemma i ett registerutdrag DEV-99."
OTHER_PNR = "20110615-2380"  # synthetic (serial 238, as tests/unit/test_sip_rules.py), valid


def text_of(data: bytes) -> str:
    doc = Document(BytesIO(data))
    return "\n".join(Paragraph(p, doc._body).text for p in doc.element.body.iter(qn("w:p")))


def child_world(app) -> dict:
    """The child: a SIP meeting (10-digit personnummer, as older rows hold it) with files, a
    follow-up stored with 12 digits, a BUS-individ record following the first, a deviation
    linked to both, and views by chef A and chef B. Another child's meeting besides."""
    past = datetime.now(UTC) - timedelta(days=40)
    first = sip_meeting(past, with_files=True)
    follow_up = sip_meeting(past + timedelta(days=20), meeting_type="uppfoljning")
    follow_up.child_personnummer = "19811218-9876"
    other = sip_meeting(past)
    other.child_name, other.child_personnummer = "Annat Barn", OTHER_PNR
    record = bus_individ(past.date() + timedelta(days=30), with_files=True)
    record.sip_id = first.id
    record.follow_up, record.follow_up_convener_unit_id = True, "bup-farsta"
    record.follow_up_date = date(2027, 1, 15)
    db.session.commit()
    deviation = send_report(description=DEVIATION_TEXT, sip_id=first.id, bus_individ_id=record.id)
    for email, urls in (
        (CHEF_A, [f"/sip/{first.id}", f"/sip/{first.id}/kallelse.pdf"]),
        (CHEF_B, [f"/bus-individ/{record.id}", f"/sip/{first.id}"]),
    ):
        client = client_of(app, email)
        for url in urls:
            assert client.get(url).status_code == 200, url
    return {
        "first": first.id,
        "follow_up": follow_up.id,
        "other": other.id,
        "record": record.id,
        "case_number": deviation.case_number,
    }


def search(client, **data) -> str:
    response = client.post("/admin/registerutdrag", data=data)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_data(as_text=True)


def listed(html: str) -> set[tuple[str, str]]:
    import re

    return set(re.findall(r'name="(sip|bus_individ)" value="(\d+)"', html))


def test_every_written_form_of_the_personnummer_finds_the_same_records(directory, app):
    world = child_world(app)
    client = client_of(app, ADMIN)
    expected = {
        ("sip", str(world["first"])),
        ("sip", str(world["follow_up"])),
        ("bus_individ", str(world["record"])),  # by the SIP meeting it follows
    }
    for written in ("811218-9876", "8112189876", "19811218-9876", "198112189876", " 811218 9876 "):
        assert listed(search(client, personnummer=written)) == expected, written
    assert listed(search(client, personnummer=OTHER_PNR)) == {("sip", str(world["other"]))}


def test_a_name_finds_records_in_any_case_and_with_swedish_letters(directory, app):
    world = child_world(app)
    meeting = db.session.get(SipMeeting, world["other"])
    meeting.child_name = "Åsa Öberg"
    db.session.commit()
    client = client_of(app, ADMIN)
    html = search(client, namn="åsa ÖBERG")
    assert listed(html) == {("sip", str(world["other"]))}
    assert "Åsa Öberg" in html and OTHER_PNR in html
    found = listed(search(client, namn="hemligsson"))
    assert ("bus_individ", str(world["record"])) in found and ("sip", str(world["first"])) in found


def test_records_whose_identity_was_removed_no_longer_match(directory, app):
    world = child_world(app)
    client = client_of(app, ADMIN)
    page = client.get("/admin/registerutdrag").get_data(as_text=True)
    assert "24 månader efter mötet" in page and "hittas\n    inte längre här" in page
    retention.remove_expired_identities(date.today() + timedelta(days=3 * 365))
    html = search(client, personnummer=PNR)
    assert listed(html) == set()
    assert "Inga SIP-möten eller BUS-individ med identitet kvar matchar sökningen." in html
    assert listed(search(client, namn=CHILD)) == set()
    assert world  # the records are still there, only without the child


def test_the_extract_holds_everything_about_the_child_and_no_deviation(directory, app):
    world = child_world(app)
    client = client_of(app, ADMIN)
    response = client.post(
        "/admin/registerutdrag/utdrag",
        data={
            "personnummer": "198112189876",
            "namn": "",
            "sip": [world["first"], world["follow_up"]],
            "bus_individ": [world["record"]],
            "format": "docx",
        },
    )
    assert response.status_code == 200
    assert response.mimetype == DOCX_TYPE
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment") and "registerutdrag-" in disposition
    assert PNR not in disposition and "Hemligsson" not in disposition
    text = text_of(response.get_data())

    for held in (
        CHILD,  # child
        "811218-9876",
        "19811218-9876",
        "Vårdnadshavare Hemligsson",  # guardians
        "070-000 00 00",
        "Vårdnadshavare 1",  # consent
        "Skriftligt",
        "Muntligt",
        QUESTION,  # question
        "Skolan, rum 3",  # place
        "Moster Hemligsson",  # invitees
        "BUP Farsta",  # called units, participants
        "Närvarande",  # attendance
        AGREEMENT,  # agreements
        "Rektor",
        "2027-01-15",  # follow-up
        "kallelse.pdf",  # stored documents' names
        "kallelse.docx",
        "protokoll.pdf",
        "Fia Familj (fia.familj@stad.example)",  # who has seen it
        "Ines Sved (ines.sved@region.example)",
        "SIP-möte visat",
        "SIP-kallelse nedladdad",
        "BUS-individ visat",
        "Med i registerutdrag",  # this very extract, in the records' own logs
        "Ada Admin (ada@stad.example)",
        "24 månader efter mötet",
    ):
        assert held in text, held
    assert "Annat Barn" not in text and OTHER_PNR not in text
    for deviation in (world["case_number"], DEVIATION_TEXT, "Remissen besvarades inte"):
        assert deviation not in text, deviation
    assert "Avvikelser ingår inte i utdraget" in text


def test_the_json_extract_is_the_same_content(directory, app):
    world = child_world(app)
    client = client_of(app, ADMIN)
    response = client.post(
        "/admin/registerutdrag/utdrag",
        data={"personnummer": "", "namn": "hemligsson", "sip": [world["first"]], "format": "json"},
    )
    assert response.status_code == 200 and response.mimetype == "application/json"
    extract = json.loads(response.get_data())
    (meeting,) = extract["sip_meetings"]
    assert meeting["child_name"] == CHILD and meeting["question"] == QUESTION
    assert {"unit": "BUP Farsta", "attendance": "Närvarande"} in meeting["called"]
    assert meeting["documents"] == ["kallelse.docx", "kallelse.pdf"]
    whom = {(e["who"], e["event"]) for e in meeting["events"]}
    assert ("Ines Sved (ines.sved@region.example)", "SIP-möte visat") in whom
    assert extract["bus_individ_records"] == []  # not chosen
    assert world["case_number"] not in response.get_data(as_text=True)


def test_search_and_extract_are_audited_without_the_personnummer(directory, app):
    world = child_world(app)
    first = db.session.scalar(select(AuditEvent.id).order_by(AuditEvent.id.desc()).limit(1))
    client = client_of(app, ADMIN)
    search(client, personnummer="8112189876")
    search(client, namn="Hemligsson")
    client.post(
        "/admin/registerutdrag/utdrag",
        data={"personnummer": PNR, "sip": [world["first"]], "format": "docx"},
    ).get_data()

    rows = list(db.session.scalars(select(AuditEvent).where(AuditEvent.id > first)))
    searches = [r for r in rows if r.action == "extract.searched"]
    assert [r.detail for r in searches] == [
        {"by": ["personnummer"], "matches": 3},
        {"by": ["namn"], "matches": 3},
    ]
    assert all(r.actor == ADMIN for r in rows)
    listed_sips = sorted(int(r.object_id) for r in rows if r.action == "sip.extract_listed")
    assert listed_sips == sorted([world["first"], world["follow_up"]] * 2)
    assert [(r.object_type, int(r.object_id)) for r in rows if "downloaded" in r.action] == [
        ("sip", world["first"])
    ]
    stored = " ".join(f"{r.actor} {r.object_id} {json.dumps(r.detail)}" for r in rows)
    for secret in ("9876", "811218", "Hemligsson", CHILD):
        assert secret not in stored, secret


def test_only_records_the_search_finds_can_be_taken_out(directory, app):
    world = child_world(app)
    client = client_of(app, ADMIN)
    response = client.post(
        "/admin/registerutdrag/utdrag",
        data={"personnummer": PNR, "sip": [world["other"]], "format": "docx"},
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Journaler som gäller barnet: välj bland journalerna i listan." in html
    assert "Annat Barn" not in html
    assert listed(html) == {
        ("sip", str(world["first"])),
        ("sip", str(world["follow_up"])),
        ("bus_individ", str(world["record"])),
    }  # the search is shown again; nothing that was not ticked is ticked
    assert "checked" not in html.split("<tbody>")[1]
    none = client.post("/admin/registerutdrag/utdrag", data={"personnummer": PNR, "format": "docx"})
    assert none.status_code == 422
    assert "Journaler som gäller barnet: välj minst en journal." in none.get_data(as_text=True)
    bad = client.post(
        "/admin/registerutdrag/utdrag",
        data={"personnummer": PNR, "sip": ["1 OR 1=1"], "format": "docx"},
    )
    assert bad.status_code == 422
    downloaded = select(AuditEvent).where(AuditEvent.action.like("%extract_downloaded"))
    assert db.session.scalars(downloaded).all() == []


def test_bad_searches_name_the_field(directory, app):
    client = client_of(app, ADMIN)
    for data, message in (
        ({}, "Barnets personnummer: fyll i barnets personnummer eller namn."),
        ({"personnummer": "811218-9875"}, "Barnets personnummer: ange ett giltigt personnummer"),
        ({"personnummer": "abc", "namn": "Kim"}, "Barnets personnummer: ange ett giltigt"),
        ({"namn": "K"}, "Barnets namn: skriv minst 2 tecken."),
        ({"namn": "x" * 201}, "Barnets namn: högst 200 tecken."),
    ):
        response = client.post("/admin/registerutdrag", data=data)
        assert response.status_code == 422, data
        assert message in response.get_data(as_text=True), data
    searched = select(AuditEvent).where(AuditEvent.action == "extract.searched")
    assert db.session.scalars(searched).all() == []


def test_too_many_matches_are_not_shown(directory, app, monkeypatch):
    from formservice.services import register_extract

    world = child_world(app)
    monkeypatch.setattr(register_extract, "MAX_MATCHES", 2)
    client = client_of(app, ADMIN)
    html = search(client, namn="hemligsson")
    assert "Sökningen gav 3 journaler, fler än 2." in html
    assert listed(html) == set() and CHILD not in html
    shown = select(AuditEvent).where(AuditEvent.action.like("%extract_listed"))
    assert db.session.scalars(shown).all() == []
    assert world


def test_a_get_never_searches(directory, app):
    """The personnummer goes in a POST body, never in an address that logs keep."""
    child_world(app)
    client = client_of(app, ADMIN)
    html = client.get(f"/admin/registerutdrag?personnummer={PNR}").get_data(as_text=True)
    assert 'method="post"' in html and listed(html) == set()
