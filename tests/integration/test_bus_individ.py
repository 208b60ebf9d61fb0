"""BUS-individ minutes through the pages, the queue, the SMTP sink and LibreOffice (both DBs)."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from pypdf import PdfReader
from rq import Queue
from sqlalchemy import func, select

from formservice.extensions import db
from formservice.models import AuditEvent, BusGroup, BusIndivid, Deviation, StoredFile
from formservice.queue import QUEUE_NAME, redis_connection
from formservice.services import record_documents
from tests.support.app import login, run_worker

from .helpers import (
    ADMIN,
    CHEF_A,
    CHEF_B,
    DEPUTY_A,
    DEPUTY_B,
    SECRETARY,
    failure_shown,
    form_data,
)
from .meeting_helpers import AGREEMENT, CHILD, OWN_UNIT, QUESTION, sip_meeting, stockholm_today

FRANS = "frans.forskolechef@stad.example"  # förskolan: not part of the meetings below
GRETA = "greta.skolchef@stad.example"  # grundskolan: the chair unit of Skarpnäck
HANNA = "hanna.hab@region.example"
STOCKHOLM = ZoneInfo("Europe/Stockholm")


EMPTY_ROW = {"agreements-0-what": "", "agreements-0-who": "", "agreements-0-by_when": ""}


def days_ago(days: int) -> str:
    return (stockholm_today() - timedelta(days=days)).isoformat()


def minutes_form(**overrides) -> dict:
    """The minutes form as the browser posts it: consent, SIP date, one agreement."""
    data = {
        "sip_meeting": "",
        "sip_date": days_ago(40),
        "consent_date": days_ago(60),
        "consent_from": ["vardnadshavare_1"],
        "consent_form": "skriftligt",
        "child_over_15": "nej",
        "child_name": CHILD,
        "child_gender": "flicka",
        "raised_by_unit": OWN_UNIT,
        "participants": [OWN_UNIT, "bup-farsta"],
        "question": QUESTION,
        "meeting_date": days_ago(2),
        "agreement_reached": "ja",
        "agreements-0-what": AGREEMENT,
        "agreements-0-who": "Rektor",
        "agreements-0-by_when": days_ago(-30),
        "follow_up": "nej",
        "submit": "Spara protokollet",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def text_of(response) -> str:
    return response.get_data(as_text=True)


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def save(client, **overrides) -> BusIndivid:
    login(client, CHEF_A)
    response = client.post("/bus-individ/ny", data=minutes_form(**overrides))
    assert response.status_code == 302, text_of(response)
    record_id = int(response.headers["Location"].rsplit("/", 1)[1])
    return db.session.get(BusIndivid, record_id)


def audit_actions(record_id: int, action: str) -> list[str]:
    query = select(AuditEvent.actor).where(
        AuditEvent.action == action, AuditEvent.object_id == str(record_id)
    )
    return list(db.session.scalars(query))


def test_refused_without_a_preceding_sip(client, directory):
    login(client, CHEF_A)
    response = client.post("/bus-individ/ny", data=minutes_form(sip_date=""))
    assert response.status_code == 422
    page = text_of(response)
    assert "Föregående SIP-möte: välj SIP-mötet som föregick ärendet eller fyll i Datum" in page
    assert count(BusIndivid) == 0


def test_refused_when_the_sip_date_is_after_the_meeting(client, directory):
    login(client, CHEF_A)
    response = client.post("/bus-individ/ny", data=minutes_form(sip_date=days_ago(1)))
    assert response.status_code == 422
    assert "Datum för SIP-möte: SIP-mötet ska ha hållits före mötet" in text_of(response)
    assert count(BusIndivid) == 0


def test_refused_without_consent(client, directory):
    login(client, CHEF_A)
    data = minutes_form(consent_date="", consent_from=None, consent_form=None)
    page = text_of(client.post("/bus-individ/ny", data=data))
    assert "Samtycke inhämtat: fyll i uppgiften." in page
    assert "Samtycke lämnat av: fyll i uppgiften." in page
    assert "Samtyckets form: fyll i uppgiften." in page
    assert count(BusIndivid) == 0


def test_over_15_needs_the_young_persons_own_consent(client, directory):
    login(client, CHEF_A)
    response = client.post("/bus-individ/ny", data=minutes_form(child_over_15="ja"))
    assert response.status_code == 422
    assert "Samtycke inhämtat: Ungdomen har fyllt 15 år" in text_of(response)
    data = minutes_form(child_over_15="ja", consent_from=["vardnadshavare_1", "barnet"])
    assert client.post("/bus-individ/ny", data=data).status_code == 302


def test_consent_cannot_be_dated_in_the_future(client, directory):
    login(client, CHEF_A)
    response = client.post("/bus-individ/ny", data=minutes_form(consent_date=days_ago(-3)))
    assert response.status_code == 422
    assert "Samtycke inhämtat: Samtycket kan inte ha inhämtats" in text_of(response)


def test_agreement_reached_needs_an_agreement(client, directory):
    login(client, CHEF_A)
    data = minutes_form(**EMPTY_ROW)
    response = client.post("/bus-individ/ny", data=data)
    assert response.status_code == 422
    assert "Överenskommelser: skriv minst en överenskommelse" in text_of(response)


def test_follow_up_needs_convener_and_date(client, directory):
    login(client, CHEF_A)
    page = text_of(client.post("/bus-individ/ny", data=minutes_form(follow_up="ja")))
    assert "Sammankallande för uppföljning: fyll i uppgiften." in page
    assert "Datum för uppföljning: fyll i uppgiften." in page


def test_free_text_may_hold_identity_but_is_length_checked(client, directory):
    record = save(client, question="Barnet 811218-9876 behöver stöd.")
    assert record.question == "Barnet 811218-9876 behöver stöd."
    response = client.post("/bus-individ/ny", data=minutes_form(question="x" * 20_001))
    assert response.status_code == 422
    assert "Frågeställning: högst 20000 tecken." in text_of(response)


def test_preceding_sip_is_chosen_among_the_meetings_the_user_may_see(client, directory):
    held_at = datetime.now(UTC) - timedelta(days=30)
    own = sip_meeting(held_at)
    draft = sip_meeting(held_at, state="utkast")
    foreign = sip_meeting(
        held_at, initiator_unit="hc-soderstaden", initiator=HANNA, called=("bup-farsta",)
    )
    login(client, CHEF_A)
    page = text_of(client.get("/bus-individ/ny"))
    assert f'<option value="{own.id}">' in page
    assert f'value="{draft.id}"' not in page and f'value="{foreign.id}"' not in page

    refused = client.post("/bus-individ/ny", data=minutes_form(sip_meeting=str(foreign.id)))
    assert "Föregående SIP-möte: välj ett av alternativen." in text_of(refused)
    record = save(client, sip_meeting=str(own.id), sip_date="")
    assert (record.sip_id, record.sip_date) == (own.id, None)


def test_convener_and_chair_come_from_the_groups_settings(client, directory):
    login(client, CHEF_A)
    page = text_of(client.get("/bus-individ/ny"))
    roles = page.split("Sammankallande och ordförande", 1)[1].split("</dl>", 1)[0]
    assert "Familjeenheten Skarpnäck" in roles and "Skarpnäcks grundskola" in roles

    group = db.session.get(BusGroup, "skarpnack")
    group.bus_individ_chair_unit_id = "bup-farsta"
    db.session.commit()
    record = save(client, convener_unit="hc-soderstaden", chair_unit="hc-soderstaden")
    assert record.group_id == "skarpnack"
    assert (record.convener_unit_id, record.chair_unit_id) == (OWN_UNIT, "bup-farsta")
    assert record.state == "genomford" and record.held_at is not None


def test_minutes_notify_the_chefs_without_personal_data(client, directory, smtp_sink):
    record = save(client)
    run_worker(directory)
    # participants familjeenheten and BUP, convener familjeenheten, chair grundskolan
    expected = sorted([CHEF_A, DEPUTY_A, CHEF_B, DEPUTY_B, GRETA])
    assert sorted(m["To"] for m in smtp_sink.messages) == expected
    for message in smtp_sink.messages:
        body = message.get_content()
        assert record.meeting_date.isoformat() in message["Subject"]
        assert f"http://formservice.test/bus-individ/{record.id}" in body
        assert "BUP Farsta" in body and "Skarpnäcks grundskola" in body
        for secret in (CHILD, "Hemligsson", QUESTION, AGREEMENT, "Rektor"):
            assert secret not in message.as_string()


def test_minutes_pdf_is_built_by_the_worker_once(client, directory):
    record = save(client)
    assert record.pdf_file_id is None
    run_worker(directory)
    db.session.refresh(record)
    assert record.document_error is None
    pdf = PdfReader(io.BytesIO(record.pdf_file.data))
    text = " ".join(page.extract_text() for page in pdf.pages)
    assert record.meeting_date.isoformat() in text
    assert AGREEMENT in text
    assert record.docx_file.data.startswith(b"PK")

    files, ids = count(StoredFile), (record.docx_file_id, record.pdf_file_id)
    assert record_documents.build("bus_individ", record.id) == "exists"
    kind = record_documents.KINDS["bus_individ"]
    late = record_documents._store(kind, record.id, "late", b"PK late", b"%PDF late")
    assert late == "exists"  # lost the race: neither file is kept
    Queue(QUEUE_NAME, connection=redis_connection()).enqueue(
        "worker.jobs.build_bus_individ_documents", record.id
    )
    run_worker(directory)
    db.session.refresh(record)
    assert (count(StoredFile), (record.docx_file_id, record.pdf_file_id)) == (files, ids)


def test_conversion_error_is_recorded_and_the_documents_can_be_rebuilt(client, directory):
    directory.config["FORMSERVICE_SOFFICE"] = "/finns-inte/soffice"
    record = save(client)
    run_worker(directory)
    failed = Queue(QUEUE_NAME, connection=redis_connection()).failed_job_registry
    assert len(failed.get_job_ids()) == 1
    db.session.refresh(record)
    shown = failure_shown(record.document_error, record.document_error_args)
    assert "LibreOffice kunde inte startas" in shown
    assert (record.docx_file_id, record.pdf_file_id, count(StoredFile)) == (None, None, 0)
    assert "Skapa dokumenten igen" in text_of(client.get(f"/bus-individ/{record.id}"))

    directory.config["FORMSERVICE_SOFFICE"] = "soffice"
    assert client.post(f"/bus-individ/{record.id}/skapa-dokument").status_code == 302
    run_worker(directory)
    db.session.refresh(record)
    assert record.document_error is None and record.pdf_file_id is not None


def test_only_the_units_concerned_may_see_the_record(client, directory):
    record = save(client)
    assert record.pdf_file_id is None  # not built yet: the download is 404 for insiders
    for outsider in (FRANS, SECRETARY, ADMIN):
        client.post("/logga-ut")
        login(client, outsider)
        assert client.get(f"/bus-individ/{record.id}").status_code == 403
        assert client.get(f"/bus-individ/{record.id}/protokoll.pdf").status_code == 403
        assert CHILD not in text_of(client.get("/bus-individ/"))
    client.post("/logga-ut")
    login(client, FRANS)
    assert client.get("/bus-individ/ny").status_code == 200  # a chef may raise cases
    for insider in (CHEF_B, DEPUTY_B, GRETA):
        client.post("/logga-ut")
        login(client, insider)
        assert client.get(f"/bus-individ/{record.id}").status_code == 200
        assert client.get(f"/bus-individ/{record.id}/protokoll.pdf").status_code == 404
        assert f"/bus-individ/{record.id}" in text_of(client.get("/bus-individ/"))
    client.post("/logga-ut")
    login(client, SECRETARY)
    assert client.get("/bus-individ/ny").status_code == 403
    assert f"/bus-individ/{record.id}" not in text_of(client.get("/bus-individ/"))


def test_views_and_downloads_are_audited(client, directory):
    record = save(client)
    run_worker(directory)
    client.post("/logga-ut")
    login(client, CHEF_B)
    page = text_of(client.get(f"/bus-individ/{record.id}"))
    assert CHILD in page and QUESTION in page and AGREEMENT in page
    response = client.get(f"/bus-individ/{record.id}/protokoll.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.headers["Content-Security-Policy"] == "default-src 'none'; sandbox"
    docx = client.get(f"/bus-individ/{record.id}/protokoll.docx")
    assert docx.status_code == 200 and docx.data.startswith(b"PK")
    assert audit_actions(record.id, "bus_individ.viewed") == [CHEF_B]
    assert audit_actions(record.id, "bus_individ.downloaded") == [CHEF_B, CHEF_B]
    formats = db.session.scalars(
        select(AuditEvent.detail).where(AuditEvent.action == "bus_individ.downloaded")
    )
    assert sorted(d["format"] for d in formats) == ["docx", "pdf"]
    assert audit_actions(record.id, "bus_individ.created") == [CHEF_A]


def test_no_agreement_leads_to_a_prefilled_linked_deviation(client, directory):
    agreed = save(client)
    assert "Skriv avvikelse" not in text_of(client.get(f"/bus-individ/{agreed.id}"))

    record = save(client, agreement_reached="nej", **EMPTY_ROW)
    page = text_of(client.get(f"/bus-individ/{record.id}"))
    link = f"/avvikelser/ny?bus_individ={record.id}"
    assert f'href="{link}">Skriv avvikelse</a>' in page

    form_page = text_of(client.get(link))
    hidden = re.search(r'<input[^>]*name="bus_individ_id"[^>]*>', form_page)
    assert hidden and f'value="{record.id}"' in hidden.group(0)
    assert "Ingen överenskommelse nåddes vid BUS-individ" in form_page
    assert CHILD not in form_page and QUESTION not in form_page

    data = form_data(
        bus_individ="ja",
        bus_individ_date=record.meeting_date.isoformat(),
        bus_individ_id=str(record.id),
        description=f"Ingen överenskommelse nåddes vid BUS-individ {record.meeting_date}.",
    )
    response = client.post("/avvikelser/ny", data=data)
    assert response.status_code == 302, text_of(response)
    deviation = db.session.scalar(select(Deviation))
    assert deviation.state == "skickad" and deviation.bus_individ_id == record.id


def test_nobody_else_can_link_a_deviation_to_the_record(client, directory):
    record = save(client, agreement_reached="nej", **EMPTY_ROW)
    client.post("/logga-ut")
    login(client, FRANS)
    assert client.get(f"/avvikelser/ny?bus_individ={record.id}").status_code == 403
    data = form_data(
        reporting_unit="forskola-skarpnack", bus_individ_id=str(record.id), bus_individ="ja"
    )
    data["bus_individ_date"] = record.meeting_date.isoformat()
    assert client.post("/avvikelser/ny", data=data).status_code == 403
    assert count(Deviation) == 0


def test_the_preceding_sip_names_the_child_only_for_those_who_may_see_it(client, directory):
    """Greta's unit chairs the BUS-individ meeting but was not called to the SIP meeting."""
    meeting = sip_meeting(datetime.now(UTC) - timedelta(days=40))  # calls BUP Farsta only
    meeting.child_name = "Siri Sipsdotter"
    db.session.commit()
    record = save(client)
    record.sip_id, record.sip_date = meeting.id, None
    db.session.commit()
    day = meeting.meeting_at.astimezone(STOCKHOLM).date().isoformat() + " – Första SIP-möte"

    client.post("/logga-ut")
    login(client, GRETA)
    assert client.get(f"/sip/{meeting.id}").status_code == 403
    page = text_of(client.get(f"/bus-individ/{record.id}"))
    assert f"<dd>{day}</dd>" in page  # date and type only
    assert "Siri Sipsdotter" not in page

    for insider in (CHEF_A, CHEF_B):  # the SIP's initiating and called units
        client.post("/logga-ut")
        login(client, insider)
        assert client.get(f"/sip/{meeting.id}").status_code == 200
        page = text_of(client.get(f"/bus-individ/{record.id}"))
        assert f"{day} – Familjeenheten Skarpnäck – Siri Sipsdotter" in page
