"""Reminders and escalation end to end: database, real Redis queue, real SMTP sink (SPEC §3)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from rq.cron import CronScheduler
from rq.job import Job
from sqlalchemy import func, select, update

from formservice.domain.deadlines import local_date
from formservice.extensions import db
from formservice.models import OutboxMessage
from formservice.queue import QUEUE_NAME, redis_connection
from formservice.services import deviations as deviations_service
from formservice.services.reminders import send_due
from formservice.tokens import read_token
from tests.support.app import run_worker
from worker import jobs
from worker.__main__ import register_periodic

from .helpers import (
    CHEF_A,
    CHEF_B,
    CONVENER,
    DEPUTY_B,
    SECRETARY,
    answer_input,
    send_report,
    user,
)

DEADLINE = date(2026, 12, 10)
MANAGERS_B = sorted([CHEF_B, DEPUTY_B])
GROUP_LEADS = sorted([CONVENER, SECRETARY])
SUBJECTS = {
    "before": "Påminnelse: avvikelse {case} ska besvaras senast 2026-12-10",
    "due": "Sista dagen: avvikelse {case} ska besvaras i dag",
    "overdue": "Obesvarad avvikelse {case}",
}


def sent_report(app, sink, deadline=DEADLINE, **overrides):
    """A sent report whose first messages are delivered and cleared; `deadline` crafted."""
    deviation = send_report(**overrides)
    deviation.deadline = deadline
    db.session.commit()
    run_worker(app)
    sink.clear()
    return deviation


def day(offset: int) -> date:
    return DEADLINE + timedelta(days=offset)


def delivered(app, sink) -> list[tuple[str, str]]:
    run_worker(app)
    return sorted((m["Subject"], m["To"]) for m in sink.messages)


def expected(kind: str, case: str, recipients: list[str]) -> list[tuple[str, str]]:
    return sorted((SUBJECTS[kind].format(case=case), to) for to in recipients)


def outbox_count() -> int:
    return db.session.scalar(select(func.count()).select_from(OutboxMessage))


@pytest.mark.parametrize(
    ("offset", "kind", "recipients"),
    [
        (-8, None, []),
        (-7, "before", MANAGERS_B),
        (-1, "before", MANAGERS_B),
        (0, "due", MANAGERS_B),
        (1, "overdue", GROUP_LEADS),
    ],
)
def test_the_step_due_on_each_edge_day_reaches_the_right_people(
    directory, smtp_sink, offset, kind, recipients
):
    deviation = sent_report(directory, smtp_sink)
    assert send_due(today=day(offset)) == (1 if kind else 0)
    want = expected(kind, deviation.case_number, recipients) if kind else []
    assert delivered(directory, smtp_sink) == want


def test_daily_runs_send_each_reminder_once_and_escalate_once(directory, smtp_sink):
    deviation = sent_report(directory, smtp_sink)
    touched = [send_due(today=day(offset)) for offset in range(-10, 6)]
    assert sum(touched) == 3
    case = deviation.case_number
    assert delivered(directory, smtp_sink) == sorted(
        expected("before", case, MANAGERS_B)
        + expected("due", case, MANAGERS_B)
        + expected("overdue", case, GROUP_LEADS)
    )
    db.session.refresh(deviation)
    assert deviation.reminded_before_at and deviation.reminded_due_at and deviation.escalated_at


@pytest.mark.parametrize("offset", [-7, 0, 1])
def test_running_again_the_same_day_sends_nothing_new(directory, smtp_sink, offset):
    sent_report(directory, smtp_sink)
    assert send_due(today=day(offset)) == 1
    rows = outbox_count()
    assert send_due(today=day(offset)) == 0
    assert outbox_count() == rows
    assert len(delivered(directory, smtp_sink)) == 2
    smtp_sink.clear()
    assert send_due(today=day(offset)) == 0
    assert delivered(directory, smtp_sink) == []


def _answer(deviation):
    deviations_service.answer(deviation, user(CHEF_B), answer_input())


def _withdraw(deviation):
    deviations_service.withdraw(deviation, user(CHEF_A))


@pytest.mark.parametrize("close", [_answer, _withdraw], ids=["answered", "withdrawn"])
def test_answered_or_withdrawn_reports_get_no_reminder(directory, smtp_sink, close):
    deviation = sent_report(directory, smtp_sink)
    close(deviation)
    run_worker(directory)
    smtp_sink.clear()
    rows = outbox_count()
    assert [send_due(today=day(offset)) for offset in (-7, 0, 1, 5)] == [0, 0, 0, 0]
    assert outbox_count() == rows
    assert delivered(directory, smtp_sink) == []


def test_only_open_reports_are_reminded(directory, smtp_sink):
    answered = sent_report(directory, smtp_sink)
    _answer(answered)
    open_report = sent_report(directory, smtp_sink)
    assert send_due(today=day(-7)) == 1
    assert delivered(directory, smtp_sink) == expected(
        "before", open_report.case_number, MANAGERS_B
    )


def test_reminders_carry_a_working_answer_link_and_no_case_content(directory, smtp_sink, client):
    deviation = sent_report(
        directory,
        smtp_sink,
        description="Unik beskrivning RMD-31 som aldrig får stå i e-post.",
        actions_taken="Unik åtgärd RMD-47.",
        proposal="Unikt förslag RMD-59.",
    )
    send_due(today=day(-7))
    send_due(today=day(0))
    run_worker(directory)
    assert len(smtp_sink.messages) == 4
    for message in smtp_sink.messages:
        raw = message.as_string()
        assert not message.is_multipart()
        assert not any(s in raw for s in ("RMD-31", "RMD-47", "RMD-59", "Flicka", "6–12"))
        link = next(line for line in message.get_content().splitlines() if "/svara/" in line)
        assert link.startswith("http://formservice.test/svara/")
        parsed = read_token(link.strip().rsplit("/", 1)[1])
        assert parsed.deviation_id == deviation.id
        assert parsed.email == message["To"]
        assert parsed.version == deviation.link_version
        assert client.get(link.strip().removeprefix("http://formservice.test")).status_code == 200


def test_escalation_links_to_the_report_not_to_the_answer_form(directory, smtp_sink):
    deviation = sent_report(directory, smtp_sink, description="Unik beskrivning ESC-73.")
    send_due(today=day(1))
    run_worker(directory)
    assert sorted(m["To"] for m in smtp_sink.messages) == GROUP_LEADS
    for message in smtp_sink.messages:
        body = message.get_content()
        assert f"http://formservice.test/avvikelser/{deviation.id}" in body
        assert "/svara/" not in body and "ESC-73" not in body


def test_register_periodic_jobs_run_through_the_real_queue(directory, smtp_sink):
    connection = redis_connection()
    cron = CronScheduler(connection=connection)
    register_periodic(cron, sweep_seconds=60)
    registered = {job.name: job for job in cron.get_jobs()}
    assert set(registered) == {
        "sweep_outbox",
        "send_reminders",
        "detect_patterns",
        "remove_expired_identities",
    }
    assert (registered["detect_patterns"].func, registered["detect_patterns"].cron) == (
        jobs.detect_patterns,
        "20 7 * * *",
    )
    retention = registered["remove_expired_identities"]
    assert (retention.func, retention.cron) == (jobs.remove_expired_identities, "30 2 * * *")
    sweep, reminders = registered["sweep_outbox"], registered["send_reminders"]
    assert (sweep.func, sweep.interval, sweep.queue_name) == (jobs.sweep_outbox, 60, QUEUE_NAME)
    assert (reminders.func, reminders.cron) == (jobs.send_reminders, "15 7 * * *")
    assert reminders.queue_name == QUEUE_NAME

    # A report whose five first messages never reached the queue (Redis was down), and whose
    # deadline is seven days from today, so the daily job owes chef B and the deputy a reminder.
    deviation = send_report()
    today = local_date(datetime.now(UTC), directory.config["FORMSERVICE_TIMEZONE"])
    deviation.deadline = today + timedelta(days=7)
    db.session.execute(
        update(OutboxMessage).values(created_at=datetime.now(UTC) - timedelta(minutes=2))
    )
    db.session.commit()
    connection.flushdb()

    assert [job.name for job in cron.enqueue_jobs()] == ["sweep_outbox"]  # the daily job waits
    reminders.enqueue(connection)
    run_worker(directory)

    sweep_job = Job.fetch(sweep.get_job_ids(connection)[0], connection=connection)
    reminder_job = Job.fetch(reminders.get_job_ids(connection)[0], connection=connection)
    assert (sweep_job.return_value(), reminder_job.return_value()) == (5, 1)
    assert len(smtp_sink.messages) == 7
    assert sorted(m["To"] for m in smtp_sink.messages if "Påminnelse" in m["Subject"]) == (
        MANAGERS_B
    )
    states = db.session.scalars(select(OutboxMessage.state)).all()
    assert states == ["sent"] * 7
