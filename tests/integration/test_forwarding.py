"""Forwarding and answering: never to the reporting unit, and a forward that commits between a
request's check of the link and its change makes that request stale (both databases)."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from forms.answer import AnswerForm
from formservice.extensions import db
from formservice.models import Deviation, DeviationAnswer, Forwarding, OutboxMessage, Unit
from formservice.services import deviations as deviations_service
from formservice.tokens import make_token
from tests.support.app import login

from .helpers import CHEF_A, CHEF_B, answer_input, send_report, user

FIELD = "Rätt mottagande verksamhet"
ANSWER = {"responder_name": "Ines Sved", "assessment": "Bedömning.", "agrees": "ja", "attest": "y"}


def count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def text_of(response) -> str:
    return response.get_data(as_text=True)


def refused_to_reporting_unit(response) -> None:
    page = text_of(response)
    assert response.status_code == 422
    assert f"{FIELD}: avvikelsen kan inte skickas vidare till den rapporterande" in page
    assert count(Forwarding) == 0


def test_the_link_flow_refuses_to_forward_to_the_reporting_unit(client, directory):
    deviation = send_report()
    token = make_token(deviation.id, CHEF_B, deviation.link_version)
    page = text_of(client.get(f"/svara/{token}"))
    assert 'value="familjeenheten-skarpnack"' not in page  # not offered
    response = client.post(
        f"/svara/{token}/vidare",
        data={"to_unit": "familjeenheten-skarpnack", "reason": "Fel mottagare."},
    )
    refused_to_reporting_unit(response)
    assert client.get(f"/svara/{token}").status_code == 200  # the link still works


def test_the_logged_in_flow_refuses_to_forward_to_the_reporting_unit(client, directory):
    deviation = send_report()
    login(client, CHEF_B)
    response = client.post(
        f"/avvikelser/{deviation.id}/vidarebefordra",
        data={"to_unit": "familjeenheten-skarpnack", "reason": "Fel mottagare."},
    )
    refused_to_reporting_unit(response)


def test_the_service_refuses_to_forward_to_the_reporting_or_the_same_unit(directory):
    deviation = send_report()
    for unit_id in ("familjeenheten-skarpnack", "bup-farsta"):
        with pytest.raises(deviations_service.ForwardRefused):
            deviations_service.forward(
                deviation, CHEF_B, db.session.get(Unit, unit_id), "Fel mottagare."
            )
    db.session.expire_all()
    stored = db.session.get(Deviation, deviation.id)
    assert stored.receiving_unit_id == "bup-farsta" and count(Forwarding) == 0


def test_answer_with_a_version_a_forward_made_stale_changes_nothing(directory):
    deviation = send_report()
    checked = deviation.link_version
    hab = db.session.get(Unit, "hc-soderstaden")
    deviations_service.forward(deviation, CHEF_B, hab, "Habiliteringen har insatserna.")
    with pytest.raises(deviations_service.StaleVersion):
        deviations_service.answer(deviation, CHEF_B, answer_input(), expected_version=checked)
    with pytest.raises(deviations_service.StaleVersion):
        deviations_service.forward(
            deviation,
            CHEF_B,
            db.session.get(Unit, "grundskola-skarpnack"),
            "Skolan.",
            expected_version=checked,
        )
    db.session.expire_all()
    stored = db.session.get(Deviation, deviation.id)
    assert stored.state == "skickad" and stored.receiving_unit_id == "hc-soderstaden"
    assert count(DeviationAnswer) == 0 and count(Forwarding) == 1
    assert count(OutboxMessage, OutboxMessage.kind == "answered") == 0


def forward_meanwhile(app, monkeypatch, deviation_id: int) -> None:
    """Make a forward commit, in its own session and transaction, after the request checked
    the link and validated the form and before the service takes the row lock."""
    validated = AnswerForm.to_input

    def forward_then_continue(form):
        def forward():
            with app.app_context():
                report = db.session.get(Deviation, deviation_id)
                hab = db.session.get(Unit, "hc-soderstaden")
                deviations_service.forward(report, CHEF_B, hab, "Habiliteringen har insatserna.")
                db.session.remove()

        other = threading.Thread(target=forward)
        other.start()
        other.join()
        return validated(form)

    monkeypatch.setattr(AnswerForm, "to_input", forward_then_continue)


def test_an_answer_by_link_raced_by_a_forward_gets_the_stale_page(
    app, client, directory, monkeypatch
):
    deviation = send_report()
    token = make_token(deviation.id, CHEF_B, deviation.link_version)
    forward_meanwhile(app, monkeypatch, deviation.id)
    response = client.post(f"/svara/{token}", data=ANSWER)
    assert response.status_code == 410
    assert "skickats vidare eller ändrats" in text_of(response)
    db.session.expire_all()
    assert count(DeviationAnswer) == 0
    assert db.session.get(Deviation, deviation.id).receiving_unit_id == "hc-soderstaden"


def test_a_logged_in_answer_raced_by_a_forward_is_not_saved(app, client, directory, monkeypatch):
    deviation = send_report()
    login(client, CHEF_B)
    forward_meanwhile(app, monkeypatch, deviation.id)
    response = client.post(f"/avvikelser/{deviation.id}/svara", data=ANSWER)
    assert response.status_code == 302 and response.location.endswith("/avvikelser")
    assert "hann ändras" in text_of(client.get("/avvikelser"))
    db.session.expire_all()
    assert count(DeviationAnswer) == 0
    assert db.session.get(Deviation, deviation.id).state == "skickad"


def test_an_answer_checked_before_a_withdrawal_is_refused_and_tells_no_one(directory):
    deviation = send_report()
    checked = deviation.link_version
    deviations_service.withdraw(deviation, user(CHEF_A))
    with pytest.raises(deviations_service.StaleVersion):
        deviations_service.answer(deviation, CHEF_B, answer_input(), expected_version=checked)
    answered = OutboxMessage.kind == "answered"
    assert count(OutboxMessage, answered, OutboxMessage.to_email == CHEF_A) == 0
