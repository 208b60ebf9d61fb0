"""A full journey seeded with synthetic personal data: none of it reaches logs, e-mails or
job payloads."""

from __future__ import annotations

import json
import logging
import zlib
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select

from formservice.extensions import db
from formservice.logs import formatter
from formservice.models import AuditEvent, Deviation, Digest, GroupMeeting, SipMeeting
from formservice.queue import redis_connection
from formservice.tokens import make_token
from tests.support.app import login, run_worker

from .helpers import CHEF_A, CHEF_B, SECRETARY, form_data, send_report, user
from .meeting_helpers import bus_individ, sip_meeting, stored
from .test_digest import pdf_bytes, upload
from .test_sip import child_pnr, sip_form

CHILD = "Ebba Integritetsson"
GUARDIAN = "Göran Integritetsson"
SECRET_TEXT = "Skolan och BUP har olika bild av INTEGRITET-77"
VIDEO_LINK = "https://video.example/mote/INTEGRITET-88"


def decoded_parts(message) -> str:
    """Every part of an e-mail as text after its transfer encoding: the body and each
    attachment (a calendar file is base64 in the raw message)."""
    return "\n".join(
        part.get_payload(decode=True).decode("utf-8", "replace")
        for part in message.walk()
        if not part.is_multipart()
    )


def job_payloads() -> list[bytes]:
    """Every RQ job's stored call (function and arguments) in the test Redis."""
    conn = redis_connection()
    payloads = []
    for key in conn.scan_iter("rq:job:*"):
        if conn.type(key) == b"hash":
            data = conn.hget(key, "data")
            if data:
                try:
                    payloads.append(zlib.decompress(data))
                except zlib.error:
                    payloads.append(data)
    return payloads


def test_personal_data_stays_out_of_logs_mail_and_jobs(client, directory, smtp_sink, caplog):
    caplog.set_level(logging.DEBUG)
    pnr = child_pnr(age=16)
    secrets = [CHILD, GUARDIAN, pnr, pnr.replace("-", ""), SECRET_TEXT, VIDEO_LINK]

    login(client, CHEF_A)
    data = sip_form(
        child_name=CHILD,
        child_personnummer=pnr,
        child_over_15="ja",
        consent_from=["vardnadshavare_1", "barnet"],
        question=SECRET_TEXT,
        place=VIDEO_LINK,
        **{"guardians-0-name": GUARDIAN},
    )
    assert client.post("/sip/ny", data=data).status_code == 302
    meeting = db.session.scalar(select(SipMeeting))
    assert client.get(f"/sip/{meeting.id}").status_code == 200
    refused = client.post("/avvikelser/ny", data=form_data(description=f"Barnet {pnr} väntar."))
    assert refused.status_code == 422
    assert client.post("/avvikelser/ny", data=form_data(description=SECRET_TEXT)).status_code == 302
    deviation = db.session.scalar(select(Deviation))
    token = make_token(deviation.id, CHEF_B, deviation.link_version)
    answer = {"responder_name": "Ines Sved", "assessment": SECRET_TEXT, "agrees": "ja"}
    assert client.post(f"/svara/{token}", data=answer | {"attest": "y"}).status_code == 200
    login(client, CHEF_A)
    assert client.post(f"/sip/{meeting.id}/stall-in").status_code == 302  # a CANCEL .ics
    payloads = job_payloads()
    run_worker(directory)

    assert smtp_sink.messages, "the journey sends mail"
    assert payloads, "the journey queues jobs"
    mail = "\n".join(m.as_string() + decoded_parts(m) for m in smtp_sink.messages)
    calendars = [
        p for m in smtp_sink.messages for p in m.walk() if p.get_content_type() == "text/calendar"
    ]
    assert len(calendars) >= 4, "kallelse and withdrawal carry calendar files"
    # every record as the text and the JSON formats write it (FORMSERVICE_LOG_FORMAT)
    lines = [formatter(kind).format(r) for r in caplog.records for kind in ("text", "json")]
    json_lines = [json.loads(line) for line in lines[1::2]]  # each one JSON object
    assert any(line.get("request_id", "-") != "-" for line in json_lines)
    logs = caplog.text + "\n".join(lines)
    audit = "\n".join(
        f"{e.actor} {e.action} {e.detail}" for e in db.session.scalars(select(AuditEvent))
    )
    for secret in secrets:
        assert secret not in mail, secret
        assert secret not in logs, secret
        assert secret not in audit, secret
        assert all(secret.encode() not in p for p in payloads), secret
    viewed = [e.action for e in db.session.scalars(select(AuditEvent))]
    assert "sip.viewed" in viewed


def test_nothing_but_static_assets_may_be_cached(app, directory):
    """Every download with personal data, every page, CSV and JSON answer: Cache-Control:
    no-store (HTTP/1.1; no Pragma). The style sheet may be cached."""
    sip = sip_meeting(datetime.now(UTC) + timedelta(days=30), state="skickad", with_files=True)
    record = bus_individ(date.today() - timedelta(days=2), with_files=True)
    report = send_report(uploads=[upload("utredning.pdf", pdf_bytes(1))])
    attachment = report.attachments[0].id
    meeting = GroupMeeting(
        group_id="skarpnack", meeting_date=date.today(), created_by_id=user(SECRETARY).id
    )
    db.session.add(meeting)
    db.session.flush()
    digest = Digest(
        meeting_id=meeting.id,
        state="done",
        docx_file_id=stored("sammanstallning.docx").id,
        pdf_file_id=stored("sammanstallning.pdf").id,
        requested_by_id=user(SECRETARY).id,
    )
    db.session.add(digest)
    db.session.commit()
    token = make_token(report.id, CHEF_B, report.link_version)
    digests = f"/styrgrupp/sammanstallningar/{digest.id}"
    routes = {
        CHEF_A: [
            f"/sip/{sip.id}/kallelse.docx",
            f"/sip/{sip.id}/kallelse.pdf",
            f"/bus-individ/{record.id}/protokoll.docx",
            f"/bus-individ/{record.id}/protokoll.pdf",
            f"/avvikelser/{report.id}/avvikelse.docx",
            f"/avvikelser/{report.id}/bilagor/{attachment}",
            f"/sip/{sip.id}",
            f"/bus-individ/{record.id}",
        ],
        SECRETARY: [
            f"{digests}/sammanstallning.docx",
            f"{digests}/sammanstallning.pdf",
            f"{digests}/status",
            "/statistik.csv?grupp=skarpnack",
        ],
        None: [f"/svara/{token}/bilagor/{attachment}", f"/svara/{token}", "/logga-in"],
    }
    for email, paths in routes.items():
        client = app.test_client()
        if email:
            login(client, email)
        for path in paths:
            response = client.get(path)
            response.get_data()  # a download streams: read it through
            assert response.status_code == 200, path
            assert response.headers.get("Cache-Control") == "no-store", path
            assert "Pragma" not in response.headers
    with app.test_client().get("/static/style.css") as style:  # closes the file it sends
        assert style.status_code == 200
        assert "no-store" not in style.headers.get("Cache-Control", "")
