"""SIP invitations end to end on both databases: form, rules, e-mail, LibreOffice, access."""

from __future__ import annotations

import io
import re
import zipfile
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from pypdf import PdfReader
from redis import Redis
from rq import Queue
from rq.registry import FailedJobRegistry
from sqlalchemy import func, select, update

from formservice.documents.pdf import ConversionError
from formservice.extensions import db
from formservice.models import AuditEvent, OutboxMessage, SipMeeting, StoredFile
from formservice.queue import QUEUE_NAME, redis_connection
from formservice.services import record_documents
from tests.support.app import login, run_worker
from tests.support.ports import free_port
from tests.unit.test_sip_rules import make_pnr
from worker import jobs

from .helpers import (
    ADMIN,
    CHEF_A,
    CHEF_B,
    DEPUTY_A,
    DEPUTY_B,
    SECRETARY,
    UNRELATED_CHEF,
    failure_shown,
)

STOCKHOLM = ZoneInfo("Europe/Stockholm")
SCHOOL_CHEF = "greta.skolchef@stad.example"  # grundskola-skarpnack
SECRETARIAT_MAILBOX = "bus-avvikelser@storsthlm.example"
CALLED = ["bup-farsta", "grundskola-skarpnack"]  # HC Söderstaden (hanna.hab) is not called
CHILD = "Alva Exempelsson"
PLACE = "Familjeenheten, Skarpnäcks allé 1, rum 3"
QUESTION = "Hur samordnar vi stödet mellan skola och BUP?"


def today() -> date:
    return datetime.now(STOCKHOLM).date()


def child_pnr(age: int = 10) -> str:
    born = today() - timedelta(days=365 * age + 100)
    return make_pnr(born)


def sip_form(days: int = 30, **overrides) -> dict:
    """The invitation form as the browser posts it: a meeting `days` from today, 09:30."""
    data = {
        "meeting_type": "forsta",
        "follows": "",
        "child_name": CHILD,
        "child_personnummer": "",
        "child_gender": "flicka",
        "guardians-0-name": "Kim Exempelsson",
        "guardians-0-contact": "kim@example.org",
        "guardians-1-name": "",
        "guardians-1-contact": "",
        "consent_date": today().isoformat(),
        "consent_from": ["vardnadshavare_1"],
        "consent_form": "skriftligt",
        "child_over_15": "nej",
        "question": QUESTION,
        "meeting_date": (today() + timedelta(days=days)).isoformat(),
        "meeting_time": "09:30",
        "place": PLACE,
        "initiator_unit": "familjeenheten-skarpnack",
        "chair_name": "Greta Skolchef",
        "chair_unit": "grundskola-skarpnack",
        "secretary_name": "Erik Ersatt",
        "secretary_unit": "familjeenheten-skarpnack",
        "called_units": CALLED,
        "invitees-0-name": "Fredrik Fk",
        "invitees-0-organisation": "Försäkringskassan",
        "invitees-0-email": "fredrik.fk@forsakringskassan.example",
        "invitees-1-name": "",
        "invitees-1-organisation": "",
        "invitees-1-email": "",
        "short_notice_reason": "",
        "send": "Skicka kallelsen",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def page(response) -> str:
    return response.get_data(as_text=True)


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def only_meeting() -> SipMeeting:
    db.session.expire_all()
    return db.session.scalar(select(SipMeeting))


def send(client, **overrides) -> SipMeeting:
    login(client, CHEF_A)
    response = client.post("/sip/ny", data=sip_form(**overrides))
    assert response.status_code == 302, page(response)
    meeting = only_meeting()
    assert response.headers["Location"].endswith(f"/sip/{meeting.id}")
    return meeting


def audit_actions(action: str) -> list[AuditEvent]:
    query = select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
    return list(db.session.scalars(query))


def move_meeting_to_the_past(meeting: SipMeeting, days: int = 1) -> None:
    """Time passes: the meeting was held yesterday at the same time."""
    moment = datetime.now(UTC) - timedelta(days=days)
    db.session.execute(
        update(SipMeeting).where(SipMeeting.id == meeting.id).values(meeting_at=moment)
    )
    db.session.commit()


# --- the form and its rules --------------------------------------------------------------------


def test_form_shows_the_labels_of_the_spec(client, directory):
    login(client, CHEF_A)
    text = page(client.get("/sip/ny"))
    for label in (
        "Kallelse till SIP-möte",
        "Typ av möte",
        "Första SIP-möte",
        "Uppföljning",
        "Följer SIP-möte",
        "Barnets namn",
        "Barnets personnummer",
        "Barnets kön",
        "Vårdnadshavare",
        "Samtycke inhämtat",
        "Vårdnadshavare 1",
        "Vårdnadshavare 2",
        "Barnet/ungdomen",
        "Skriftligt",
        "Muntligt",
        "Har barnet/ungdomen fyllt 15 år?",
        "Frågeställning",
        "Mötesdatum och tid",
        "Plats eller länk",
        "Initiativtagare",
        "Ordförande",
        "Sekreterare",
        "Kallade verksamheter",
        "Inbjudna (övriga)",
        "Kortare kallelsetid",
        "Skäl till kortare kallelsetid",
        "Skicka kallelsen",
        "Spara som utkast",
        "Namn, vårdnadshavare 2",
        "E-post, inbjuden 2",
    ):
        assert label in text, label
    assert 'type="time"' in text and 'type="date"' in text


def test_send_without_consent_is_refused_but_a_draft_is_kept(client, directory):
    login(client, CHEF_A)
    no_consent = {"consent_date": "", "consent_from": [], "consent_form": None}
    response = client.post("/sip/ny", data=sip_form(**no_consent))
    assert response.status_code == 422
    assert "Samtycke inhämtat: samtycke måste vara inhämtat" in page(response)
    assert count(SipMeeting) == 0

    response = client.post(
        "/sip/ny", data=sip_form(**no_consent, send=None, save_draft="Spara som utkast")
    )
    assert response.status_code == 302
    meeting = only_meeting()
    assert meeting.state == "utkast" and meeting.sent_at is None
    assert meeting.consent == {"date": None, "given_by": [], "form": None}
    assert count(OutboxMessage) == 0
    assert [e.action for e in audit_actions("sip.created")] == ["sip.created"]

    # The draft is completed and sent from the edit page.
    response = client.post(f"/sip/{meeting.id}/redigera", data=sip_form())
    assert response.status_code == 302
    assert only_meeting().state == "skickad"
    assert count(SipMeeting) == 1


def test_notice_refusal_names_the_earliest_date(client, directory):
    login(client, CHEF_A)
    response = client.post("/sip/ny", data=sip_form(days=20))
    assert response.status_code == 422
    earliest = (today() + timedelta(days=21)).isoformat()
    text = page(response)
    assert f"Tidigaste tillåtna mötesdatum är {earliest}" in text
    assert 'href="#meeting_date">Mötesdatum och tid:' in text
    assert count(SipMeeting) == 0
    # 21 days is enough.
    assert client.post("/sip/ny", data=sip_form(days=21)).status_code == 302
    meeting = only_meeting()
    assert meeting.short_notice is False and meeting.short_notice_reason is None


def test_short_notice_override_needs_a_reason_and_is_recorded(client, directory):
    login(client, CHEF_A)
    response = client.post("/sip/ny", data=sip_form(days=5, short_notice="y"))
    assert response.status_code == 422
    assert "Skäl till kortare kallelsetid: fyll i uppgiften." in page(response)

    reason = "Skolplaceringen avgörs om två veckor."
    response = client.post(
        "/sip/ny", data=sip_form(days=5, short_notice="y", short_notice_reason=reason)
    )
    assert response.status_code == 302
    meeting = only_meeting()
    assert meeting.state == "skickad"
    assert (meeting.short_notice, meeting.short_notice_reason) == (True, reason)
    assert audit_actions("sip.sent")[0].detail == {"short_notice": True}


def test_an_override_that_was_not_needed_is_not_counted(client, directory):
    meeting = send(client, days=30, short_notice="y", short_notice_reason="För säkerhets skull.")
    assert (meeting.short_notice, meeting.short_notice_reason) == (False, None)


def test_meeting_time_is_stockholm_time_stored_as_utc(client, directory):
    meeting = send(client, days=30, meeting_time="09:30")
    local = meeting.meeting_at.astimezone(STOCKHOLM)
    assert (local.date(), local.hour, local.minute) == (today() + timedelta(days=30), 9, 30)
    assert meeting.meeting_at.utcoffset() == timedelta(0)


def test_personnummer_is_validated_without_echoing_it(client, directory, caplog):
    login(client, CHEF_A)
    good = child_pnr(10)
    bad = good[:-1] + str((int(good[-1]) + 1) % 10)
    response = client.post("/sip/ny", data=sip_form(child_personnummer=bad))
    assert response.status_code == 422
    text = page(response)
    assert "Barnets personnummer: ange ett giltigt personnummer" in text
    summary = text.split('class="error-summary"')[1].split("</div>")[0]
    assert bad not in summary
    assert bad not in caplog.text and good not in caplog.text
    assert count(SipMeeting) == 0


def test_age_is_derived_from_the_personnummer(client, directory):
    login(client, CHEF_A)
    sixteen = child_pnr(16)
    response = client.post("/sip/ny", data=sip_form(child_personnummer=sixteen))
    assert response.status_code == 422
    assert "Har barnet/ungdomen fyllt 15 år?: svaret stämmer inte med personnumret." in page(
        response
    )
    response = client.post("/sip/ny", data=sip_form(child_personnummer=sixteen, child_over_15=None))
    assert response.status_code == 422
    assert "Samtycke inhämtat: ungdomen har fyllt 15 år" in page(response)

    consent = ["vardnadshavare_1", "barnet"]
    short = sixteen[2:].replace("-", "")  # ÅÅMMDDNNNN is accepted and normalised
    data = sip_form(child_personnummer=short, child_over_15=None, consent_from=consent)
    assert client.post("/sip/ny", data=data).status_code == 302
    meeting = only_meeting()
    assert meeting.child_over_15 is True
    assert meeting.child_personnummer == sixteen


def test_time_in_the_spring_dst_gap_is_refused(client, directory):
    login(client, CHEF_A)
    data = sip_form(meeting_date="2030-03-31", meeting_time="02:30")
    response = client.post("/sip/ny", data=data)
    assert response.status_code == 422
    assert "Mötestid: tiden finns inte den dagen" in page(response)


def test_garbage_never_gives_500(client, directory):
    login(client, CHEF_A)
    response = client.post(
        "/sip/ny",
        data=sip_form(
            meeting_type="x",
            child_gender="?",
            initiator_unit="bup-farsta",  # not chef A's unit
            called_units=["finns-inte"],
            meeting_date="igår",
            meeting_time="25:99",
            follows="999",
            **{"invitees-1-email": "inte-en-adress", "guardians-1-contact": "070"},
        ),
    )
    text = page(response)
    assert response.status_code == 422
    for message in (
        "Typ av möte: välj ett av alternativen.",
        "Barnets kön: välj ett av alternativen.",
        "Initiativtagare: välj ett av alternativen.",
        "Kallade verksamheter: ogiltigt val.",
        "Mötesdatum: ange ett datum som ÅÅÅÅ-MM-DD.",
        "Mötestid: ange en tid som TT:MM",
        "Följer SIP-möte: välj ett av alternativen.",
        "E-post, inbjuden 2: ange en giltig e-postadress.",
        "Namn, vårdnadshavare 2: fyll i namnet eller töm raden.",
    ):
        assert message in text, message
    assert count(SipMeeting) == 0


def test_only_chefs_may_invite(client, directory):
    login(client, SECRETARY)
    assert client.get("/sip/ny").status_code == 403


# --- sending: outbox, e-mail and documents ----------------------------------------------------


def test_send_writes_one_invitation_per_manager_of_the_called_units(client, directory):
    meeting = send(client)
    assert meeting.state == "skickad" and meeting.sent_at is not None
    assert meeting.group_id == "skarpnack"
    assert sorted(c.unit_id for c in meeting.called) == sorted(CALLED)
    rows = list(db.session.scalars(select(OutboxMessage)))
    assert sorted(m.to_email for m in rows) == sorted([CHEF_B, DEPUTY_B, SCHOOL_CHEF])
    for message in rows:
        assert message.kind == "sip_invitation" and message.deviation_id is None
        assert message.context["sip_id"] == meeting.id
        assert CHILD not in str(message.context) and PLACE not in str(message.context)
    assert [e.action for e in audit_actions("sip.sent")] == ["sip.sent"]


def test_worker_mails_without_personal_data_and_builds_the_documents(
    app, client, directory, smtp_sink
):
    pnr = child_pnr(10)
    meeting = send(client, child_personnummer=pnr)
    run_worker(app)

    # The e-mails: date, initiating unit and a login link; nothing about the child or place.
    assert sorted(m["To"] for m in smtp_sink.messages) == sorted([CHEF_B, DEPUTY_B, SCHOOL_CHEF])
    meeting_day = meeting.meeting_at.astimezone(STOCKHOLM).date().isoformat()
    for message in smtp_sink.messages:
        body = message.get_body(("plain",)).get_content()
        whole = str(message["Subject"]) + body
        assert str(message["Subject"]) == f"Kallelse till SIP-möte {meeting_day}"
        assert f"Ni är kallade till ett SIP-möte {meeting_day} av Familjeenheten Skarpnäck" in body
        assert f"http://formservice.test/sip/{meeting.id}" in body
        for secret in (CHILD, "Alva", pnr, pnr.replace("-", ""), pnr[2:], PLACE, "rum 3"):
            assert secret not in whole, secret
        assert QUESTION not in whole and "Kim Exempelsson" not in whole

    # The documents, built with the real LibreOffice.
    meeting = only_meeting()
    assert meeting.document_error is None
    assert meeting.docx_file is not None and meeting.pdf_file is not None
    reader = PdfReader(io.BytesIO(meeting.pdf_file.data))
    pdf_text = "\n".join(p.extract_text() for p in reader.pages)
    assert meeting_day in pdf_text
    assert QUESTION in pdf_text
    metadata = reader.trailer["/Root"]["/Metadata"].get_object().get_data().decode()
    assert "<pdfaid:part>2</pdfaid:part>" in metadata
    docx_xml = zipfile.ZipFile(io.BytesIO(meeting.docx_file.data)).read("word/document.xml")
    assert CHILD in docx_xml.decode()
    assert meeting.docx_file.name == f"kallelse-sip-{meeting.id}.docx"
    assert count(StoredFile) == 2
    assert len(audit_actions("sip.documents_built")) == 1

    # Running the job again, directly or through the queue, changes nothing.
    files = (meeting.docx_file_id, meeting.pdf_file_id)
    assert jobs.build_sip_documents(meeting.id) == "exists"
    Queue(QUEUE_NAME, connection=redis_connection()).enqueue(
        "worker.jobs.build_sip_documents", meeting.id
    )
    run_worker(app)
    meeting = only_meeting()
    assert (meeting.docx_file_id, meeting.pdf_file_id) == files
    assert count(StoredFile) == 2
    assert len(audit_actions("sip.documents_built")) == 1
    assert len(smtp_sink.messages) == 3  # nothing sent twice
    assert jobs.sweep_documents() == 0


def test_a_failed_conversion_is_recorded_and_the_job_fails(app, client, directory, tmp_path):
    broken = tmp_path / "soffice"
    broken.write_text("#!/bin/sh\nexit 3\n")
    broken.chmod(0o755)
    app.config["FORMSERVICE_SOFFICE"] = str(broken)
    meeting = send(client)
    with pytest.raises(ConversionError):
        jobs.build_sip_documents(meeting.id)
    meeting = only_meeting()
    assert "kunde inte omvandla" in failure_shown(
        meeting.document_error, meeting.document_error_args
    )
    assert meeting.docx_file_id is None and meeting.pdf_file_id is None
    assert count(StoredFile) == 0
    assert record_documents.due(min_age_seconds=0) == []  # the sweep leaves it be

    # Through the real queue, RQ marks the job failed.
    registry = FailedJobRegistry(QUEUE_NAME, connection=redis_connection())
    run_worker(app)
    assert f"sip-documents-{meeting.id}" in registry.get_job_ids()

    # The initiator asks again once LibreOffice works.
    app.config["FORMSERVICE_SOFFICE"] = "soffice"
    text = page(client.get(f"/sip/{meeting.id}"))
    assert "Dokumentet kunde inte skapas." in text
    assert client.post(f"/sip/{meeting.id}/dokument").status_code == 302
    run_worker(app)
    meeting = only_meeting()
    assert meeting.pdf_file_id is not None and meeting.document_error is None


def test_redis_outage_keeps_the_invitation_and_the_sweep_catches_up(
    app, client, directory, smtp_sink
):
    real = redis_connection()
    app.extensions["formservice.redis"] = Redis(
        host="127.0.0.1", port=free_port(), socket_connect_timeout=1
    )
    try:
        login(client, CHEF_A)
        response = client.post("/sip/ny", data=sip_form(), follow_redirects=True)
    finally:
        app.extensions["formservice.redis"] = real
    assert response.status_code == 200
    assert "skapas automatiskt så snart kön är tillgänglig igen" in page(response)
    meeting = only_meeting()
    assert meeting.state == "skickad"
    assert count(OutboxMessage) == 3

    assert jobs.sweep_documents() == 0  # younger than a minute: may still be on its way
    past = datetime.now(UTC) - timedelta(minutes=5)
    db.session.execute(update(SipMeeting).values(sent_at=past))
    db.session.execute(update(OutboxMessage).values(created_at=past))
    db.session.commit()
    assert jobs.sweep_outbox() == 3
    run_worker(app)
    assert len(smtp_sink.messages) == 3
    assert only_meeting().pdf_file_id is not None


# --- pages and access ---------------------------------------------------------------------------


def stored(name: str) -> int:
    row = StoredFile(name=name, content_type="application/pdf", size=3, sha256="0" * 64, data=b"%P")
    db.session.add(row)
    db.session.flush()
    return row.id


def with_documents(meeting: SipMeeting) -> None:
    meeting.docx_file_id = stored("kallelse.docx")
    meeting.pdf_file_id = stored("kallelse.pdf")
    db.session.commit()


@pytest.mark.parametrize("email", [UNRELATED_CHEF, SECRETARY, SECRETARIAT_MAILBOX, ADMIN])
def test_everyone_else_gets_403(app, directory, email):
    client = app.test_client()
    meeting = send(client)
    with_documents(meeting)
    other = app.test_client()
    login(other, email)
    for path in ("", "/kallelse.pdf", "/kallelse.docx", "/narvaro", "/redigera"):
        assert other.get(f"/sip/{meeting.id}{path}").status_code == 403, path
    assert other.post(f"/sip/{meeting.id}/narvaro", data={}).status_code == 403
    assert other.post(f"/sip/{meeting.id}/dokument").status_code == 403
    assert other.get(f"/sip/ny?foljer={meeting.id}").status_code == 403
    assert f"/sip/{meeting.id}" not in page(other.get("/sip/"))
    assert audit_actions("sip.viewed") == [] and audit_actions("sip.downloaded") == []


def test_called_chefs_see_the_child_and_every_view_is_audited(app, directory):
    meeting = send(app.test_client(), child_personnummer=child_pnr(10))
    with_documents(meeting)
    for email in (CHEF_B, DEPUTY_B, SCHOOL_CHEF):
        client = app.test_client()
        login(client, email)
        text = page(client.get(f"/sip/{meeting.id}"))
        assert CHILD in text and PLACE in text and QUESTION in text
        assert "Registrera närvaro" not in text and "Planera uppföljning" not in text
        assert client.get(f"/sip/{meeting.id}").status_code == 200
        assert client.get(f"/sip/{meeting.id}/kallelse.pdf").status_code == 200
        assert client.get(f"/sip/{meeting.id}/kallelse.docx").status_code == 200
        assert client.get(f"/sip/{meeting.id}/narvaro").status_code == 403
        listing = page(client.get("/sip/"))
        assert f"/sip/{meeting.id}" in listing and CHILD not in listing

    viewed = audit_actions("sip.viewed")
    assert [(e.actor, e.object_id) for e in viewed] == [
        (email, str(meeting.id)) for email in (CHEF_B, DEPUTY_B, SCHOOL_CHEF) for _ in range(2)
    ]
    downloaded = audit_actions("sip.downloaded")
    assert [(e.actor, e.detail["format"]) for e in downloaded] == [
        (email, kind) for email in (CHEF_B, DEPUTY_B, SCHOOL_CHEF) for kind in ("pdf", "docx")
    ]
    chef_b = app.test_client()
    login(chef_b, CHEF_B)
    download = chef_b.get(f"/sip/{meeting.id}/kallelse.pdf")
    assert download.headers["Content-Disposition"].startswith("attachment")
    assert download.headers["Content-Security-Policy"] == "default-src 'none'; sandbox"


def test_a_draft_is_only_for_the_initiating_side(app, directory):
    client = app.test_client()
    login(client, CHEF_A)
    client.post("/sip/ny", data=sip_form(send=None, save_draft="Spara som utkast"))
    meeting = only_meeting()
    called = app.test_client()
    login(called, CHEF_B)
    assert called.get(f"/sip/{meeting.id}").status_code == 403
    assert f"/sip/{meeting.id}" not in page(called.get("/sip/"))
    deputy = app.test_client()
    login(deputy, DEPUTY_A)  # deputy of the initiating unit
    assert deputy.get(f"/sip/{meeting.id}").status_code == 200
    assert deputy.get(f"/sip/{meeting.id}/redigera").status_code == 200
    assert "Dokumentet skapas" not in page(client.get(f"/sip/{meeting.id}"))


def test_pending_documents_say_so(client, directory):
    meeting = send(client)
    text = page(client.get(f"/sip/{meeting.id}"))
    assert "Dokumentet skapas…" in text
    assert client.get(f"/sip/{meeting.id}/kallelse.pdf").status_code == 404
    assert "/sip/" in page(client.get("/sip/"))


# --- after the meeting ----------------------------------------------------------------------------


def attendance(**overrides) -> dict:
    data = {
        "unit_0": "narvarande",  # BUP Farsta (called units in unit-id order)
        "unit_1": "franvarande",  # Skarpnäcks grundskola
        "plan_drawn_up": "ja",
        "plan_date": today().isoformat(),
        "save": "Spara närvaro",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def test_attendance_waits_for_the_meeting(client, directory):
    meeting = send(client)
    response = client.get(f"/sip/{meeting.id}/narvaro")
    assert response.status_code == 302
    assert "Registrera närvaro" not in page(client.get(f"/sip/{meeting.id}"))
    assert client.post(f"/sip/{meeting.id}/narvaro", data=attendance()).status_code == 302
    assert only_meeting().held_at is None


def test_attendance_errors_name_the_unit(client, directory):
    meeting = send(client)
    move_meeting_to_the_past(meeting)
    response = client.post(f"/sip/{meeting.id}/narvaro", data=attendance(unit_1=None, plan_date=""))
    assert response.status_code == 422
    text = page(response)
    assert "Skarpnäcks grundskola: fyll i uppgiften." in text
    assert "Datum då planen upprättades: fyll i uppgiften." in text
    assert only_meeting().held_at is None


def test_absent_unit_gets_a_prefilled_deviation(client, directory):
    meeting = send(client)
    move_meeting_to_the_past(meeting)
    held_on = only_meeting().meeting_at.astimezone(STOCKHOLM).date().isoformat()
    form = page(client.get(f"/sip/{meeting.id}/narvaro"))
    assert "BUP Farsta" in form and "Skarpnäcks grundskola" in form
    assert "Upprättades en plan?" in form and "Datum då planen upprättades" in form

    response = client.post(f"/sip/{meeting.id}/narvaro", data=attendance())
    assert response.status_code == 302
    meeting = only_meeting()
    assert meeting.state == "genomford" and meeting.held_at is not None
    assert meeting.plan_drawn_up is True and meeting.plan_date == today()
    assert {c.unit_id: c.attendance for c in meeting.called} == {
        "bup-farsta": "narvarande",
        "grundskola-skarpnack": "franvarande",
    }
    assert audit_actions("sip.attendance_recorded")[0].detail == {
        "absent": ["grundskola-skarpnack"]
    }

    text = page(client.get(f"/sip/{meeting.id}"))
    link = f"/avvikelser/ny?sip={meeting.id}&amp;enhet=grundskola-skarpnack"
    assert f'<a href="{link}">Skriv avvikelse till Skarpnäcks grundskola</a>' in text
    assert "Skriv avvikelse till BUP Farsta" not in text

    deviation = page(client.get(link.replace("&amp;", "&")))
    assert re.search(r'<input checked[^>]*value="kallad-part-deltog-inte-i-sip-mote"', deviation)
    assert re.search(r'<option selected value="grundskola-skarpnack">', deviation)
    assert f'value="{held_on}"' in deviation
    assert f'name="sip_id" type="hidden" value="{meeting.id}"' in deviation
    assert CHILD not in deviation and "Alva" not in deviation

    # Saving again corrects the attendance but keeps the day it was first recorded.
    first = meeting.held_at
    client.post(f"/sip/{meeting.id}/narvaro", data=attendance(unit_1="ersattare"))
    meeting = only_meeting()
    assert meeting.held_at == first
    assert "Skriv avvikelse till" not in page(client.get(f"/sip/{meeting.id}"))


def test_follow_up_is_prefilled_and_linked(client, directory):
    meeting = send(client)
    text = page(client.get(f"/sip/{meeting.id}"))
    assert f'href="/sip/ny?foljer={meeting.id}">Planera uppföljning</a>' in text
    form = page(client.get(f"/sip/ny?foljer={meeting.id}"))
    assert re.search(r'<input checked[^>]*value="uppfoljning"', form)
    assert re.search(rf'<option selected value="{meeting.id}">', form)
    assert f'value="{CHILD}"' in form
    assert 'name="meeting_date" required type="date" value=""' in form

    response = client.post(
        "/sip/ny", data=sip_form(days=60, meeting_type="uppfoljning", follows=str(meeting.id))
    )
    assert response.status_code == 302
    follow_up = db.session.scalar(select(SipMeeting).where(SipMeeting.id != meeting.id))
    assert (follow_up.meeting_type, follow_up.follows_id) == ("uppfoljning", meeting.id)
    assert "Följer SIP-möte" in page(client.get(f"/sip/{follow_up.id}"))


def test_nav_has_the_sip_link(client, directory):
    login(client, CHEF_B)
    text = page(client.get("/sip/"))
    assert '<a href="/sip/">SIP</a>' in text
    assert "<h1>SIP-möten</h1>" in text
