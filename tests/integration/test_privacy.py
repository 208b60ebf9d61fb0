"""A full journey seeded with synthetic personal data: none of it reaches logs, e-mails or
job payloads."""

from __future__ import annotations

import logging
import zlib

from sqlalchemy import select

from formservice.extensions import db
from formservice.models import AuditEvent, Deviation, SipMeeting
from formservice.queue import redis_connection
from formservice.tokens import make_token
from tests.conftest import login, run_worker

from .helpers import CHEF_A, CHEF_B, form_data
from .test_sip import child_pnr, sip_form

CHILD = "Ebba Integritetsson"
GUARDIAN = "Göran Integritetsson"
SECRET_TEXT = "Skolan och BUP har olika bild av INTEGRITET-77"


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
    secrets = [CHILD, GUARDIAN, pnr, pnr.replace("-", ""), SECRET_TEXT]

    login(client, CHEF_A)
    data = sip_form(
        child_name=CHILD,
        child_personnummer=pnr,
        child_over_15="ja",
        consent_from=["vardnadshavare_1", "barnet"],
        question=SECRET_TEXT,
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
    payloads = job_payloads()
    run_worker(directory)

    assert smtp_sink.messages, "the journey sends mail"
    assert payloads, "the journey queues jobs"
    mail = "\n".join(m.as_string() for m in smtp_sink.messages)
    logs = caplog.text
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
