"""Feedback on the answer and the one supplementary answer (issue 17), on SQLite and
PostgreSQL with real Redis, the worker and the SMTP sink."""

from __future__ import annotations

import hashlib
import io
import logging
import re
from datetime import date, timedelta

import pytest
from docx import Document
from docx.oxml.ns import qn
from docx.text.paragraph import Paragraph
from hypothesis import example, given
from hypothesis import strategies as st
from sqlalchemy import func, select

from formservice import clock
from formservice.domain.inputs import FeedbackInput, SupplementInput
from formservice.extensions import db
from formservice.models import (
    AnswerFeedback,
    AnswerSupplement,
    AuditEvent,
    Deviation,
    Digest,
    GroupMeeting,
    OutboxMessage,
)
from formservice.services import deviations as deviations_service
from formservice.services import digest as digest_service
from formservice.services import feedback as feedback_service
from formservice.services import files
from formservice.tokens import make_supplement_token, make_token
from tests.support.app import login, run_worker

from .helpers import (
    CHEF_A,
    CHEF_B,
    CONVENER,
    DEPUTY_A,
    DEPUTY_B,
    SECRETARY,
    UNRELATED_CHEF,
    answer_input,
    send_report,
    user,
)
from .test_hostile_input import SLOW, hostile_text

MOTIVATION = "Svaret saknar en plan för hur remisserna ska hanteras framöver."
SUPPLEMENT = "Vi inför en gemensam genomgång av remisser varje vecka från januari."
INSUFFICIENT = {"verdict": "insufficient", "motivation": MOTIVATION}


def answered() -> Deviation:
    deviation = send_report()
    deviations_service.answer(deviation, user(CHEF_B), answer_input())
    return deviation


def count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def page(response) -> str:
    return response.get_data(as_text=True)


def recipients(deviation_id: int, kind: str) -> list[str]:
    query = select(OutboxMessage.to_email).where(
        OutboxMessage.deviation_id == deviation_id, OutboxMessage.kind == kind
    )
    return sorted(db.session.scalars(query))


def link_in(message) -> str:
    return re.search(r"http://formservice\.test(\S+)", message.get_content()).group(1)


def test_the_whole_flow_by_mail_and_link(client, app, directory, smtp_sink):
    deviation = answered()
    answer_link = make_token(deviation.id, CHEF_B, deviation.link_version - 1)
    run_worker(app)
    smtp_sink.clear()

    login(client, CHEF_A)
    shown = page(client.get(f"/avvikelser/{deviation.id}"))
    for label in ("Återkoppling på svaret", "Svaret räcker", "Svaret räcker inte", "Motivering"):
        assert label in shown
    assert "Skicka återkoppling" in shown
    response = client.post(f"/avvikelser/{deviation.id}/aterkoppling", data=INSUFFICIENT)
    assert response.status_code == 302
    run_worker(app)

    # B and B's deputy get the supplement link, the secretary a link to the report; nothing
    # in any mail is the feedback's content
    to_b, to_deputy = smtp_sink.to(CHEF_B), smtp_sink.to(DEPUTY_B)
    assert len(to_b) == len(to_deputy) == 1
    link = link_in(to_b[0])
    assert link.startswith("/komplettera/")
    assert link_in(smtp_sink.to(SECRETARY)[0]) == f"/avvikelser/{deviation.id}"
    assert not smtp_sink.to(CONVENER)
    for message in smtp_sink.messages:
        assert MOTIVATION not in message.as_string()
        assert "Svaret saknar" not in message.get_content()

    # the old answer link does not take the supplement; the new one does, once
    assert client.get(f"/svara/{answer_link}").status_code == 410
    assert client.get(f"/komplettera/{answer_link}").status_code == 400  # another purpose
    client.post("/logga-ut")
    opened = client.get(link)
    assert opened.status_code == 200
    assert MOTIVATION in page(opened) and "Kompletterande svar" in page(opened)
    smtp_sink.clear()
    form = {"responder_name": "Ines Sved", "text": SUPPLEMENT, "attest": "y"}
    done = client.post(link, data=form)
    assert done.status_code == 200 and "Tack för ditt kompletterande svar" in page(done)
    assert client.post(link, data=form).status_code == 410
    assert client.get(link).status_code == 410
    assert count(AnswerSupplement) == 1
    run_worker(app)
    assert {m["To"] for m in smtp_sink.messages} == {CHEF_A, DEPUTY_A, SECRETARY, CONVENER}
    assert all(SUPPLEMENT not in m.as_string() for m in smtp_sink.messages)

    # the report's page: answer, feedback, supplement in this order; no second feedback
    login(client, CHEF_A)
    shown = page(client.get(f"/avvikelser/{deviation.id}"))
    order = [
        shown.index("Svar från mottagande verksamhet"),
        shown.index(MOTIVATION),
        shown.index(SUPPLEMENT),
    ]
    assert order == sorted(order)
    assert "Skicka återkoppling" not in shown
    again = client.post(f"/avvikelser/{deviation.id}/aterkoppling", data=INSUFFICIENT)
    assert again.status_code == 302 and count(AnswerFeedback) == 1
    assert "Återkoppling: räcker inte" in page(client.get("/avvikelser"))
    actions = set(db.session.scalars(select(AuditEvent.action)))
    assert {"deviation.feedback_given", "deviation.supplemented"} <= actions
    assert "deviation.viewed_by_supplement_link" in actions


def test_motivation_is_required_and_guarded(client, directory, caplog):
    caplog.set_level(logging.DEBUG)
    deviation = answered()
    login(client, CHEF_A)
    url = f"/avvikelser/{deviation.id}/aterkoppling"

    missing = client.post(url, data={"verdict": "insufficient", "motivation": "  "})
    assert missing.status_code == 422
    assert "Motivering: fyll i varför svaret inte räcker." in page(missing)
    personal = client.post(
        url, data={"verdict": "insufficient", "motivation": "Gäller barnet 19121212-1212."}
    )
    assert personal.status_code == 422
    assert "Motivering: " in page(personal) and "personnummer" in page(personal)
    assert "19121212-1212" not in page(personal).split("<textarea")[0]  # not echoed in errors
    assert "19121212-1212" not in caplog.text
    no_verdict = client.post(url, data={"motivation": MOTIVATION})
    assert no_verdict.status_code == 422
    assert "Återkoppling på svaret: fyll i uppgiften." in page(no_verdict)
    assert (
        count(AnswerFeedback) == 0 and count(OutboxMessage, OutboxMessage.kind.like("feed%")) == 0
    )

    sufficient = client.post(url, data={"verdict": "sufficient", "motivation": ""})
    assert sufficient.status_code == 302
    feedback = db.session.scalar(select(AnswerFeedback))
    assert feedback.verdict == "sufficient" and feedback.supplement_deadline is None
    assert count(OutboxMessage, OutboxMessage.kind.like("feedback%")) == 0  # no mail
    db.session.expire_all()
    refused = feedback_service.can_supplement(db.session.get(Deviation, deviation.id))
    assert refused is False


def test_only_the_reporting_side_gives_feedback_and_only_the_receiving_side_supplements(
    client, directory
):
    deviation = answered()
    url = f"/avvikelser/{deviation.id}/aterkoppling"
    for email in (CHEF_B, DEPUTY_B, SECRETARY, CONVENER, UNRELATED_CHEF):
        login(client, email)
        assert client.post(url, data=INSUFFICIENT).status_code == 403, email
        client.post("/logga-ut")
    login(client, DEPUTY_A)  # A's deputy may, as for the report itself
    assert client.post(url, data=INSUFFICIENT).status_code == 302
    client.post("/logga-ut")

    supplement = f"/avvikelser/{deviation.id}/komplettera"
    form = {"responder_name": "Per Ersatt", "text": SUPPLEMENT, "attest": "y"}
    for email in (CHEF_A, DEPUTY_A, SECRETARY, UNRELATED_CHEF):
        login(client, email)
        assert client.get(supplement).status_code == 403, email
        assert client.post(supplement, data=form).status_code == 403, email
        client.post("/logga-ut")
    login(client, DEPUTY_B)
    assert "Lämna kompletterande svar" in page(client.get(f"/avvikelser/{deviation.id}"))
    assert client.get(supplement).status_code == 200
    assert client.post(supplement, data=form).status_code == 302
    assert db.session.scalar(select(AnswerSupplement.responder_email)) == DEPUTY_B
    again = client.get(supplement)  # once only, logged in too
    assert again.status_code == 302 and count(AnswerSupplement) == 1


def test_the_supplement_form_refuses_personal_data(client, directory):
    deviation = answered()
    feedback_service.give(deviation, user(CHEF_A), FeedbackInput("insufficient", MOTIVATION))
    link = make_supplement_token(deviation.id, CHEF_B, deviation.link_version)
    form = {"responder_name": "Ines Sved", "text": "Ring mamman på 070-123 45 67.", "attest": "y"}
    refused = client.post(f"/komplettera/{link}", data=form)
    assert refused.status_code == 422
    assert "Kompletterande svar: " in page(refused)
    assert count(AnswerSupplement) == 0
    assert client.get(f"/komplettera/{link}").status_code == 200  # the link still works


def test_inactive_people_get_no_mail_and_dead_links(client, app, directory, smtp_sink):
    deviation = answered()
    user(DEPUTY_B).active = False
    db.session.commit()
    feedback_service.give(deviation, user(CHEF_A), FeedbackInput("insufficient", MOTIVATION))
    assert recipients(deviation.id, "feedback_insufficient") == [CHEF_B]
    link = make_supplement_token(deviation.id, DEPUTY_B, deviation.link_version)
    assert client.get(f"/komplettera/{link}").status_code == 410


def test_the_service_refuses_feedback_out_of_turn(directory):
    unanswered = send_report()
    with pytest.raises(feedback_service.FeedbackRefused) as refused:
        feedback_service.give(unanswered, user(CHEF_A), FeedbackInput("sufficient", ""))
    assert refused.value.reason == "not_answered"
    deviation = answered()
    with pytest.raises(feedback_service.FeedbackRefused) as refused:
        feedback_service.give(deviation, user(CHEF_A), FeedbackInput("insufficient", " "))
    assert refused.value.reason == "motivation_missing"
    with pytest.raises(feedback_service.FeedbackRefused) as refused:
        feedback_service.supplement(deviation, CHEF_B, SupplementInput("Ines Sved", SUPPLEMENT))
    assert refused.value.reason == "not_requested"
    feedback_service.give(deviation, user(CHEF_A), FeedbackInput("sufficient", ""))
    with pytest.raises(feedback_service.FeedbackRefused) as refused:
        feedback_service.give(deviation, user(CHEF_A), FeedbackInput("insufficient", MOTIVATION))
    assert refused.value.reason == "already_given"
    assert count(AnswerFeedback) == 1


def test_the_supplement_deadline_follows_the_setting(app, directory):
    app.config["FORMSERVICE_SUPPLEMENT_DAYS"] = 10
    deviation = answered()
    feedback_service.give(deviation, user(CHEF_A), FeedbackInput("insufficient", MOTIVATION))
    feedback = db.session.scalar(select(AnswerFeedback))
    assert feedback.supplement_deadline == clock.today() + timedelta(days=10)


def test_supplement_reminders_are_sent_once_each(app, directory):
    deviation = answered()
    feedback_service.give(deviation, user(CHEF_A), FeedbackInput("insufficient", MOTIVATION))
    deadline = db.session.scalar(select(AnswerFeedback.supplement_deadline))
    assert feedback_service.send_due_reminders(deadline - timedelta(days=8)) == 0
    assert feedback_service.send_due_reminders(deadline - timedelta(days=7)) == 1
    assert feedback_service.send_due_reminders(deadline - timedelta(days=6)) == 0  # once
    assert recipients(deviation.id, "supplement_reminder_before") == sorted([CHEF_B, DEPUTY_B])
    assert feedback_service.send_due_reminders(deadline) == 1
    assert feedback_service.send_due_reminders(deadline) == 0  # the job run twice
    assert feedback_service.send_due_reminders(deadline + timedelta(days=1)) == 0
    assert recipients(deviation.id, "supplement_reminder_due") == sorted([CHEF_B, DEPUTY_B])
    run_worker(app)
    sent = db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.kind.like("supplement_reminder%"))
    ).all()
    assert {m.state for m in sent} == {"sent"}

    feedback_service.supplement(deviation, CHEF_B, SupplementInput("Ines Sved", SUPPLEMENT))
    other = answered()
    feedback_service.give(other, user(CHEF_A), FeedbackInput("insufficient", MOTIVATION))
    assert feedback_service.send_due_reminders(deadline) == 1  # only the one still waiting
    reminded = select(AuditEvent.object_id).where(
        AuditEvent.action == "deviation.supplement_reminder_due"
    )
    assert {str(i) for i in db.session.scalars(reminded)} == {str(deviation.id), str(other.id)}


def test_no_supplement_once_the_case_is_closed(client, directory):
    deviation = answered()
    feedback_service.give(deviation, user(CHEF_A), FeedbackInput("insufficient", MOTIVATION))
    link = make_supplement_token(deviation.id, CHEF_B, deviation.link_version)
    db.session.get(Deviation, deviation.id).state = "avslutad"
    db.session.commit()
    closed = client.get(f"/komplettera/{link}")
    assert closed.status_code == 410 and "avslutat" in page(closed)
    assert feedback_service.send_due_reminders(clock.today() + timedelta(days=14)) == 0


def docx_lines(data: bytes) -> list[str]:
    document = Document(io.BytesIO(data))
    return [Paragraph(p, document._body).text for p in document.element.body.iter(qn("w:p"))]


def fed_back_and_supplemented() -> Deviation:
    deviation = answered()
    feedback_service.give(deviation, user(CHEF_A), FeedbackInput("insufficient", MOTIVATION))
    feedback_service.supplement(deviation, CHEF_B, SupplementInput("Ines Sved", SUPPLEMENT))
    return deviation


def test_the_report_docx_holds_answer_feedback_and_supplement_in_order(client, directory):
    deviation = fed_back_and_supplemented()
    login(client, SECRETARY)
    response = client.get(f"/avvikelser/{deviation.id}/avvikelse.docx")
    assert response.status_code == 200
    lines = docx_lines(response.data)
    order = [
        lines.index("Svar från mottagande verksamhet"),
        lines.index("Återkoppling på svaret"),
        lines.index("Svaret räcker inte"),
        lines.index(MOTIVATION),
        lines.index("Kompletterande svar"),
        lines.index(SUPPLEMENT),
    ]
    assert order == sorted(order)


def test_the_next_digest_flags_the_case_and_shows_both(app, directory):
    deviation = fed_back_and_supplemented()
    waiting = answered()
    feedback_service.give(waiting, user(CHEF_A), FeedbackInput("insufficient", MOTIVATION))
    meeting = GroupMeeting(
        group_id="skarpnack",
        meeting_date=date.today() + timedelta(days=7),
        created_by_id=user(SECRETARY).id,
    )
    db.session.add(meeting)
    db.session.commit()
    digest = digest_service.request(meeting, user(SECRETARY))
    run_worker(app)
    db.session.expire_all()
    digest = db.session.get(Digest, digest.id)
    assert digest.state == "done", digest.error
    lines = docx_lines(files.read(digest.docx_file))
    for case in (deviation, waiting):
        heading = next(line for line in lines if line.startswith(f"{case.case_number}:"))
        assert heading.endswith("– Återkoppling: räcker inte")
    start = next(n for n, line in enumerate(lines) if line.startswith(deviation.case_number))
    case = lines[start:]
    order = [
        case.index("Svar från mottagande verksamhet"),
        case.index(MOTIVATION),
        case.index("Kompletterande svar"),
        case.index(SUPPLEMENT),
        case.index("Avslutning av ärendet"),
    ]
    assert order == sorted(order)


@SLOW
@given(
    overrides=st.dictionaries(st.sampled_from(["verdict", "motivation"]), hostile_text, max_size=2)
)
@example(overrides={"verdict": "insufficient", "motivation": "\x00"})
@example(overrides={"verdict": "insufficient", "motivation": "x" * 200_000})
def test_hostile_feedback_never_fails_badly(directory, client, overrides):
    deviation = db.session.scalar(select(Deviation)) or answered()
    login(client, CHEF_A)
    response = client.post(
        f"/avvikelser/{deviation.id}/aterkoppling", data=INSUFFICIENT | overrides
    )
    assert response.status_code in (302, 422), response.status_code
    db.session.expire_all()
    stored = db.session.scalars(select(AnswerFeedback)).all()
    assert len(stored) <= 1
    asked = count(OutboxMessage, OutboxMessage.kind == "feedback_insufficient")
    if stored and stored[0].verdict == "insufficient":
        assert stored[0].motivation.strip() and asked == 2
    else:
        assert asked == 0


@SLOW
@given(
    overrides=st.dictionaries(
        st.sampled_from(["responder_name", "text", "attest"]), hostile_text, max_size=3
    )
)
@example(overrides={"responder_name": "Ines\x00", "text": "\x00"})
def test_hostile_supplement_by_link_never_fails_badly(directory, client, overrides):
    deviation = db.session.scalar(select(Deviation))
    if deviation is None:
        deviation = answered()
        feedback_service.give(deviation, user(CHEF_A), FeedbackInput("insufficient", MOTIVATION))
    token = make_supplement_token(deviation.id, CHEF_B, deviation.link_version)
    data = {"responder_name": "Ines Sved", "text": SUPPLEMENT, "attest": "y"} | overrides
    response = client.post(f"/komplettera/{token}", data=data)
    assert response.status_code in (200, 410, 422), response.status_code
    db.session.expire_all()
    supplements = count(AnswerSupplement)
    assert supplements <= 1
    assert count(OutboxMessage, OutboxMessage.kind == "supplemented") == 4 * supplements


def test_the_supplement_link_opens_the_reports_attachments_while_it_works(client, directory):
    data = b"%PDF-1.4 underlag"
    upload = deviations_service.Upload(
        "underlag.pdf", "application/pdf", hashlib.sha256(data).hexdigest(), data, 1
    )
    deviation = send_report(uploads=[upload])
    deviations_service.answer(deviation, user(CHEF_B), answer_input())
    feedback_service.give(deviation, user(CHEF_A), FeedbackInput("insufficient", MOTIVATION))
    link = f"/komplettera/{make_supplement_token(deviation.id, CHEF_B, deviation.link_version)}"
    attachment_id = deviation.attachments[0].id
    assert f"{link}/bilagor/{attachment_id}" in page(client.get(link))
    assert client.get(f"{link}/bilagor/{attachment_id}").data == data
    feedback_service.supplement(deviation, CHEF_B, SupplementInput("Ines Sved", SUPPLEMENT))
    assert client.get(f"{link}/bilagor/{attachment_id}").status_code == 410
