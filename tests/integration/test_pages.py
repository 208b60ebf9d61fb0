"""The pages through the Flask test client, on both databases."""

from __future__ import annotations

import io

from sqlalchemy import func, select

from formservice.extensions import db
from formservice.models import AuditEvent, Deviation
from formservice.tokens import make_token
from tests.support.app import login

from .helpers import (
    ADMIN,
    CHEF_A,
    CHEF_B,
    SECRETARIAT,
    SECRETARY,
    UNRELATED_CHEF,
    answer_input,
    form_data,
    send_report,
)

VALID_PNR = "811218-9876"  # valid check digit, synthetic


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def text_of(response) -> str:
    return response.get_data(as_text=True)


def test_login_page_has_the_contract_labels(client, directory):
    page = text_of(client.get("/logga-in"))
    for label in ("E-postadress", "Lösenord", "Logga in"):
        assert label in page


def test_wrong_password_is_refused_and_audited(client, directory):
    response = login(client, CHEF_A, "fel-lösenord")
    assert response.status_code == 401
    assert "Fel e-postadress eller lösenord." in text_of(response)
    assert db.session.scalar(select(AuditEvent.action).where(AuditEvent.action == "login.failed"))


def test_pages_require_login(client, directory):
    response = client.get("/avvikelser/ny")
    assert response.status_code == 302 and "/logga-in" in response.headers["Location"]


def test_form_shows_every_label_of_the_spec(client, directory):
    login(client, CHEF_A)
    page = text_of(client.get("/avvikelser/ny"))
    for label in (
        "Rapporterande verksamhet",
        "Mottagande verksamhet",
        "Datum för händelsen",
        "Avvikelsen avser",
        "Beskrivning av avvikelsen",
        "Vad har gjorts för att lösa problemet?",
        "Har ärendet behandlats i BUS-individ?",
        "Datum för BUS-individ",
        "Förslag till åtgärd",
        "Barnets kön",
        "Åldersgrupp",
        "Bilagor",
        "Jag intygar att rapporten är avidentifierad",
        "Kallad part deltog inte i SIP-möte",
        "Annat eller uppgift saknas",
    ):
        assert label in page, label


def test_send_through_the_form(client, directory):
    login(client, CHEF_A)
    response = client.post("/avvikelser/ny", data=form_data())
    assert response.status_code == 302
    deviation = db.session.scalar(select(Deviation))
    assert deviation.state == "skickad"
    page = text_of(client.get(response.headers["Location"]))
    assert deviation.case_number in page
    assert "Avvikelsen är skickad" in page


def test_personnummer_is_refused_naming_the_field_and_nothing_is_stored(client, directory, caplog):
    login(client, CHEF_A)
    response = client.post(
        "/avvikelser/ny", data=form_data(description=f"Barnet med nr {VALID_PNR} fick ingen tid.")
    )
    assert response.status_code == 422
    page = text_of(response)
    assert "Beskrivning av avvikelsen:" in page
    assert "personnummer" in page
    assert VALID_PNR not in page.split("<textarea")[0]  # not echoed in any message
    assert count(Deviation) == 0
    assert VALID_PNR not in caplog.text


def test_other_bad_input_gets_field_named_errors(client, directory):
    login(client, CHEF_A)
    response = client.post(
        "/avvikelser/ny",
        data=form_data(
            receiving_unit="familjeenheten-skarpnack",
            event_date="2999-01-01",
            categories=[],
            bus_individ="ja",
            attest=None,
            actions_taken="Ring 070-123 45 67",
        ),
    )
    page = text_of(response)
    assert response.status_code == 422
    assert "Mottagande verksamhet: välj en annan verksamhet" in page
    assert "Datum för händelsen: datumet får inte ligga i framtiden." in page
    assert "Avvikelsen avser: fyll i uppgiften." in page
    assert "Datum för BUS-individ: fyll i uppgiften." in page
    assert "Jag intygar att rapporten är avidentifierad: kryssa i rutan" in page
    assert "Vad har gjorts för att lösa problemet?:" in page and "telefonnummer" in page
    assert count(Deviation) == 0


def test_garbage_values_never_give_500(client, directory):
    login(client, CHEF_A)
    response = client.post(
        "/avvikelser/ny",
        data=form_data(
            reporting_unit="bup-farsta",  # not chef A's unit
            receiving_unit="finns-inte",
            event_date="igår",
            categories=["Påhittad kategori"],
            child_gender="x",
            age_group="99",
        ),
    )
    page = text_of(response)
    assert response.status_code == 422
    assert "Rapporterande verksamhet: välj ett av alternativen." in page
    assert "Datum för händelsen: ange ett datum som ÅÅÅÅ-MM-DD." in page
    assert "Avvikelsen avser: ogiltigt val." in page
    assert count(Deviation) == 0


def test_draft_then_edit_then_send(client, directory):
    login(client, CHEF_A)
    response = client.post("/avvikelser/ny", data=form_data(attest=None, send=None, save_draft="1"))
    deviation = db.session.scalar(select(Deviation))
    assert deviation.state == "utkast" and response.status_code == 302
    page = text_of(client.get(f"/avvikelser/{deviation.id}/redigera"))
    assert "Remissen besvarades inte" in page
    client.post(f"/avvikelser/{deviation.id}/redigera", data=form_data(description="Ändrad text."))
    db.session.expire_all()
    deviation = db.session.get(Deviation, deviation.id)
    assert deviation.state == "skickad" and deviation.description == "Ändrad text."


def test_drafts_are_invisible_to_others(client, directory):
    login(client, CHEF_A)
    client.post("/avvikelser/ny", data=form_data(attest=None, send=None, save_draft="1"))
    deviation = db.session.scalar(select(Deviation))
    client.post("/logga-ut")
    login(client, CHEF_B)
    assert client.get(f"/avvikelser/{deviation.id}").status_code == 403


def test_attachments_are_checked_stored_and_downloadable(client, directory):
    login(client, CHEF_A)
    png = (
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00"
        b"\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N"
        b"\x00\x00\x00\x00IEND\xaeB`\x82"
    )
    data = form_data()
    data["attachments"] = [(io.BytesIO(png), "../../bild.png")]
    response = client.post("/avvikelser/ny", data=data, content_type="multipart/form-data")
    assert response.status_code == 302
    deviation = db.session.scalar(select(Deviation))
    attachment = deviation.attachments[0]
    assert attachment.file.name == "bild.png"
    download = client.get(f"/avvikelser/{deviation.id}/bilagor/{attachment.id}")
    assert download.data == png
    assert download.headers["Content-Disposition"].startswith("attachment")


def test_forged_attachment_is_refused(client, directory):
    login(client, CHEF_A)
    data = form_data()
    data["attachments"] = [(io.BytesIO(b"MZ\x90\x00 not a pdf"), "rapport.pdf")]
    response = client.post("/avvikelser/ny", data=data, content_type="multipart/form-data")
    assert response.status_code == 422
    assert "Bilagor:" in text_of(response)
    assert count(Deviation) == 0


def test_link_get_changes_nothing_and_post_answers(client, directory):
    deviation = send_report()
    token = make_token(deviation.id, CHEF_B, deviation.link_version)
    page = client.get(f"/svara/{token}")
    assert page.status_code == 200
    assert "Svar från mottagande verksamhet" in text_of(page)
    assert "Ines Sved" in text_of(page)  # pre-filled from the directory
    db.session.expire_all()
    assert db.session.get(Deviation, deviation.id).state == "skickad"
    response = client.post(
        f"/svara/{token}",
        data={
            "responder_name": "Ines Sved",
            "assessment": "Remissen hade hamnat fel.",
            "agrees": "delvis",
            "attest": "y",
            "planned_measures-0-action": "Ny rutin",
            "planned_measures-0-responsible": "BUP Farsta",
            "planned_measures-0-due": "2026-12-31",
        },
    )
    assert response.status_code == 200 and "Tack för ditt svar" in text_of(response)
    db.session.expire_all()
    stored = db.session.get(Deviation, deviation.id)
    assert stored.state == "besvarad" and stored.answer.agrees == "delvis"
    again = client.get(f"/svara/{token}")
    assert again.status_code == 410 and "redan besvarad" in text_of(again)
    assert "logga in" in text_of(again)


def test_tampered_expired_and_foreign_links(client, directory, app):
    deviation = send_report()
    token = make_token(deviation.id, CHEF_B, deviation.link_version)
    assert client.get(f"/svara/{token[:-3]}xyz").status_code == 400
    assert client.get("/svara/inte-en-token").status_code == 400
    foreign = make_token(deviation.id, UNRELATED_CHEF, deviation.link_version)
    assert client.get(f"/svara/{foreign}").status_code == 410
    app.config["FORMSERVICE_LINK_MAX_AGE_DAYS"] = -1
    expired = client.get(f"/svara/{token}")
    assert expired.status_code == 410 and "gått ut" in text_of(expired)


def test_forward_by_link_makes_old_link_stale(client, directory):
    deviation = send_report()
    token = make_token(deviation.id, CHEF_B, deviation.link_version)
    response = client.post(
        f"/svara/{token}/vidare",
        data={"to_unit": "hc-soderstaden", "reason": "Habiliteringen har insatserna."},
    )
    assert response.status_code == 200 and "HC Söderstaden" in text_of(response)
    assert client.get(f"/svara/{token}").status_code == 410


def test_logged_in_b_sees_att_besvara_and_answers(client, directory):
    deviation = send_report()
    login(client, CHEF_B)
    listing = text_of(client.get("/avvikelser"))
    assert "Att besvara" in listing and deviation.case_number in listing
    response = client.post(
        f"/avvikelser/{deviation.id}/svara",
        data={
            "responder_name": "Ines Sved",
            "assessment": "Bedömning.",
            "agrees": "ja",
            "attest": "y",
        },
    )
    assert response.status_code == 302
    client.post("/logga-ut")
    login(client, CHEF_A)
    page = text_of(client.get(f"/avvikelser/{deviation.id}"))
    assert "Svar från mottagande verksamhet" in page and "Bedömning." in page


def test_who_sees_what(client, directory):
    from formservice.services import deviations as deviations_service

    deviation = send_report()
    url = f"/avvikelser/{deviation.id}"
    expected = {
        CHEF_A: 200,
        CHEF_B: 200,
        SECRETARY: 200,
        SECRETARIAT[0]: 200,
        UNRELATED_CHEF: 403,
        ADMIN: 403,
    }
    for email, status in expected.items():
        login(client, email)
        assert client.get(url).status_code == status, email
        client.post("/logga-ut")
    login(client, ADMIN)
    assert client.get("/avvikelser").status_code == 403
    assert client.get("/avvikelser/999999").status_code == 404
    client.post("/logga-ut")
    login(client, UNRELATED_CHEF)
    assert client.post(f"/avvikelser/{deviation.id}/aterkalla").status_code == 403
    assert client.post(f"/avvikelser/{deviation.id}/svara", data={}).status_code == 403
    deviations_service.answer(deviation, CHEF_B, answer_input())


def test_secretary_list_flags_overdue(client, directory):
    from datetime import date

    deviation = send_report()
    deviation.deadline = date(2020, 1, 1)
    db.session.commit()
    login(client, SECRETARY)
    page = text_of(client.get("/avvikelser"))
    assert deviation.case_number in page and "Obesvarad" in page


def test_withdraw_through_the_page(client, directory):
    deviation = send_report()
    login(client, CHEF_A)
    client.post(f"/avvikelser/{deviation.id}/aterkalla")
    db.session.expire_all()
    assert db.session.get(Deviation, deviation.id).state == "återkallad"


def test_docx_download_is_audited(client, directory):
    deviation = send_report()
    login(client, CHEF_A)
    response = client.get(f"/avvikelser/{deviation.id}/avvikelse.docx")
    assert response.status_code == 200 and response.data[:2] == b"PK"
    actions = db.session.scalars(select(AuditEvent.action)).all()
    assert "deviation.downloaded" in actions


def test_security_headers(client, directory):
    response = client.get("/logga-in")
    csp = response.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp and "script-src 'self'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"


def test_failed_delivery_is_shown_to_the_secretary_and_can_be_retried(client, directory):
    from formservice.models import OutboxMessage
    from formservice.queue import get_queue

    deviation = send_report()
    row = db.session.scalar(select(OutboxMessage).where(OutboxMessage.to_email == CHEF_B))
    row.state, row.last_error = "failed", "SMTP 550"
    db.session.commit()
    get_queue().empty()
    login(client, SECRETARY)
    page = text_of(client.get("/avvikelser"))
    assert "Utskick som inte gått fram" in page and CHEF_B in page and deviation.case_number in page
    client.post(f"/utskick/{row.id}/forsok-igen")
    db.session.expire_all()
    assert db.session.get(OutboxMessage, row.id).state == "pending"
    assert get_queue().count == 1
    client.post("/logga-ut")
    login(client, CHEF_A)
    assert "Utskick som inte gått fram" not in text_of(client.get("/avvikelser"))
    assert client.post(f"/utskick/{row.id}/forsok-igen").status_code == 403
