"""Deviation use cases on a real database (SQLite and PostgreSQL) with real Redis."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from formservice.domain.deviation import TransitionError
from formservice.extensions import db
from formservice.models import AuditEvent, CaseCounter, Deviation, OutboxMessage, Unit
from formservice.queue import get_queue
from formservice.services import deviations as deviations_service

from .helpers import (
    CHEF_A,
    CHEF_B,
    CONVENER,
    DEPUTY_A,
    DEPUTY_B,
    SECRETARIAT,
    SECRETARY,
    answer_input,
    report_input,
    send_report,
    user,
)


def recipients(deviation, kind=None):
    query = select(OutboxMessage).where(OutboxMessage.deviation_id == deviation.id)
    if kind:
        query = query.where(OutboxMessage.kind == kind)
    return sorted(m.to_email for m in db.session.scalars(query))


def test_draft_is_stored_without_case_number_or_messages(directory):
    outcome = deviations_service.save(user(CHEF_A), report_input(), send=False)
    deviation = outcome.deviation
    assert deviation.state == "utkast"
    assert deviation.case_number is None
    assert recipients(deviation) == []
    assert deviation.group_id == "skarpnack"


def test_sending_numbers_dates_and_addresses_in_one_go(directory):
    deviation = send_report()
    year = datetime.now(UTC).year
    assert deviation.state == "skickad"
    assert deviation.case_number == f"BUS-{year}-0001"
    assert deviation.deadline == deviation.sent_at.date() + timedelta(days=30) or (
        deviation.deadline - deviation.sent_at.date()
    ).days in (30, 31)
    assert recipients(deviation, "new_report") == sorted([CHEF_B, DEPUTY_B])
    assert recipients(deviation, "copy_secretariat") == sorted(SECRETARIAT)
    assert recipients(deviation, "copy_secretary") == [SECRETARY]
    assert [len(job.args) for job in get_queue().jobs] == [5]  # one delivery job per report
    actions = db.session.scalars(select(AuditEvent.action)).all()
    assert "deviation.created" in actions and "deviation.sent" in actions


def test_case_numbers_count_up_per_year_without_gaps(directory):
    numbers = [send_report().case_number for _ in range(3)]
    assert [n[-4:] for n in numbers] == ["0001", "0002", "0003"]


def test_rolled_back_send_does_not_use_up_a_number(directory, monkeypatch):
    send_report()

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(deviations_service.outbox, "rows", broken)
    with pytest.raises(RuntimeError):
        send_report()
    db.session.rollback()
    monkeypatch.undo()
    assert send_report().case_number.endswith("-0002")
    assert db.session.scalar(select(func.count()).select_from(Deviation)) == 2
    assert db.session.scalar(select(CaseCounter.last)) == 2


def test_group_answer_days_override_the_default(directory):
    from formservice.models import BusGroup

    db.session.get(BusGroup, "skarpnack").answer_days = 60
    db.session.commit()
    deviation = send_report()
    assert (deviation.deadline - deviation.sent_at.date()).days in (60, 61)


def test_answer_moves_to_besvarad_and_tells_a_convener_and_secretariat(directory):
    deviation = send_report()
    deviations_service.answer(deviation, user(CHEF_B), answer_input())
    assert deviation.state == "besvarad"
    assert deviation.answer.agrees == "ja"
    assert deviation.answer.planned_measures[0]["action"] == "Ny rutin"
    assert recipients(deviation, "answered") == sorted([CHEF_A, DEPUTY_A])
    assert recipients(deviation, "answered_copy") == sorted([CONVENER, *SECRETARIAT])


def test_answer_twice_is_refused(directory):
    deviation = send_report()
    deviations_service.answer(deviation, CHEF_B, answer_input())
    with pytest.raises(TransitionError):
        deviations_service.answer(deviation, CHEF_B, answer_input())
    db.session.rollback()
    assert db.session.get(Deviation, deviation.id).answer.responder_email == CHEF_B


def test_forward_changes_receiver_restarts_deadline_and_invalidates_links(directory):
    deviation = send_report()
    old_version = deviation.link_version
    deviation.deadline = deviation.deadline - timedelta(days=20)
    db.session.commit()
    hab = db.session.get(Unit, "hc-soderstaden")
    deviations_service.forward(deviation, CHEF_B, hab, "Barnet har insatser från habiliteringen.")
    assert deviation.receiving_unit_id == "hc-soderstaden"
    assert deviation.state == "skickad"
    assert deviation.link_version == old_version + 1
    assert (deviation.deadline - datetime.now(UTC).date()).days in (29, 30, 31)
    assert "hanna.hab@region.example" in recipients(deviation, "new_report")
    assert recipients(deviation, "forwarded") == sorted([CHEF_A, DEPUTY_A])
    assert deviation.forwardings[0].from_unit_id == "bup-farsta"


def test_withdraw_before_answer_tells_b_and_after_answer_is_refused(directory):
    deviation = send_report()
    deviations_service.withdraw(deviation, user(CHEF_A))
    assert deviation.state == "återkallad"
    assert recipients(deviation, "withdrawn") == sorted([CHEF_B, DEPUTY_B])
    other = send_report()
    deviations_service.answer(other, CHEF_B, answer_input())
    with pytest.raises(TransitionError):
        deviations_service.withdraw(other, user(CHEF_A))


def test_sending_while_redis_is_down_keeps_everything(directory, app):
    app.config["FORMSERVICE_REDIS_URL"] = "redis://127.0.0.1:1/0"
    app.extensions.pop("formservice.redis", None)
    outcome = deviations_service.save(user(CHEF_A), report_input(), send=True)
    assert outcome.queued is False
    db.session.expire_all()
    stored = db.session.get(Deviation, outcome.deviation.id)
    assert stored.state == "skickad"
    assert len(recipients(stored)) == 5
    states = set(db.session.scalars(select(OutboxMessage.state)))
    assert states == {"pending"}
