"""Delivery through the RQ worker on real Redis to a real SMTP server (aiosmtpd)."""

from __future__ import annotations

import socket
import threading
from datetime import UTC, datetime, timedelta

from aiosmtpd.controller import Controller
from sqlalchemy import select, text, update

from formservice.extensions import db
from formservice.models import OutboxMessage
from formservice.queue import get_queue
from formservice.tokens import read_token
from tests.support.app import run_worker
from tests.support.ports import free_port
from tests.support.redis import redis_url
from worker import jobs

from .helpers import CHEF_B, SECRETARY, report_input, send_report, user


def outbox_states() -> dict[str, int]:
    rows = db.session.scalars(select(OutboxMessage)).all()
    states: dict[str, int] = {}
    for row in rows:
        states[row.state] = states.get(row.state, 0) + 1
    return states


def test_worker_delivers_every_message_once_with_a_working_link(directory, smtp_sink):
    deviation = send_report()
    run_worker(directory)
    assert outbox_states() == {"sent": 5}
    assert len(smtp_sink.messages) == 5
    mail_b = smtp_sink.to(CHEF_B)[0]
    assert mail_b["Subject"] == f"Avvikelse {deviation.case_number} att besvara"
    assert mail_b["Message-ID"] == db.session.scalar(
        select(OutboxMessage.message_id).where(OutboxMessage.to_email == CHEF_B)
    )
    body = mail_b.get_content()
    link = next(line for line in body.splitlines() if "/svara/" in line).strip()
    token = link.rsplit("/", 1)[1]
    parsed = read_token(token)
    assert (parsed.deviation_id, parsed.email) == (deviation.id, CHEF_B)
    secretary_body = smtp_sink.to(SECRETARY)[0].get_content()
    assert f"/avvikelser/{deviation.id}" in secretary_body and "/svara/" not in secretary_body


def test_emails_carry_no_case_content(directory, smtp_sink):
    send_report(
        description="Unik beskrivningstext XQZ-17 som aldrig får synas i e-post.",
        actions_taken="Unik åtgärdstext PLM-42.",
        proposal="Unikt förslag KJH-88.",
    )
    run_worker(directory)
    for message in smtp_sink.messages:
        raw = message.as_string()
        for secret in ("XQZ-17", "PLM-42", "KJH-88", "Flicka", "flicka", "6–12"):
            assert secret not in raw
        assert not message.is_multipart()  # no attachment, ever


def test_running_a_delivery_twice_sends_once(directory, smtp_sink):
    send_report()
    message_id = db.session.scalar(select(OutboxMessage.id).where(OutboxMessage.to_email == CHEF_B))
    assert jobs.deliver(message_id) == {"sent": 1}
    assert jobs.deliver(message_id) == {"skipped": 1}
    assert len(smtp_sink.to(CHEF_B)) == 1


def test_smtp_outage_retries_with_backoff_then_delivers(directory, app, smtp_sink):
    app.config["FORMSERVICE_SMTP_PORT"] = free_port()  # nobody listens there
    app.config["FORMSERVICE_DELIVERY_BACKOFF_SECONDS"] = 60
    send_report()
    run_worker(app)
    rows = db.session.scalars(select(OutboxMessage)).all()
    assert {r.state for r in rows} == {"pending"}
    assert all(r.attempts == 1 and r.last_error for r in rows)
    assert all(r.next_attempt_at > datetime.now(UTC) + timedelta(seconds=50) for r in rows)
    assert jobs.sweep_outbox() == 0  # not due yet: the backoff holds
    app.config["FORMSERVICE_SMTP_PORT"] = smtp_sink.port
    db.session.execute(update(OutboxMessage).values(next_attempt_at=datetime.now(UTC)))
    db.session.commit()
    assert jobs.sweep_outbox() == 5
    run_worker(app)
    assert outbox_states() == {"sent": 5}
    assert len(smtp_sink.messages) == 5


class Refusing:
    """An SMTP server that refuses every recipient with the given reply."""

    def __init__(self, reply: str) -> None:
        self.reply = reply

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        return self.reply


def test_permanent_refusal_ends_as_failed_delivery(directory, app):
    port = free_port()
    controller = Controller(
        Refusing("550 5.1.1 Mailbox unavailable"), hostname="127.0.0.1", port=port
    )
    controller.start()
    try:
        app.config["FORMSERVICE_SMTP_PORT"] = port
        send_report()
        run_worker(app)
    finally:
        controller.stop()
    rows = db.session.scalars(select(OutboxMessage)).all()
    assert {r.state for r in rows} == {"failed"}
    assert all("550" in r.last_error for r in rows)


def test_temporary_refusal_is_retried_until_the_last_attempt(directory, app):
    port = free_port()
    controller = Controller(Refusing("451 4.3.0 Try later"), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        app.config.update(FORMSERVICE_SMTP_PORT=port, FORMSERVICE_DELIVERY_ATTEMPTS=3)
        send_report()
        for _ in range(3):
            run_worker(app)
            jobs.sweep_outbox()
            db.session.execute(
                update(OutboxMessage).values(created_at=datetime(2000, 1, 1, tzinfo=UTC))
            )
            db.session.commit()
            jobs.sweep_outbox()
    finally:
        controller.stop()
    rows = db.session.scalars(select(OutboxMessage)).all()
    assert {(r.state, r.attempts) for r in rows} == {("failed", 3)}


def test_sweep_enqueues_rows_left_pending_while_redis_was_down(directory, app, smtp_sink):
    app.config["FORMSERVICE_REDIS_URL"] = "redis://127.0.0.1:1/0"
    app.extensions.pop("formservice.redis", None)
    from formservice.services import deviations as deviations_service

    assert (
        deviations_service.save(user("fia.familj@stad.example"), report_input(), send=True).queued
        is False
    )
    app.config["FORMSERVICE_REDIS_URL"] = redis_url()
    app.extensions.pop("formservice.redis", None)
    assert get_queue().count == 0
    assert jobs.sweep_outbox() == 0  # younger than a minute: may still be on its way
    db.session.execute(update(OutboxMessage).values(created_at=datetime(2000, 1, 1, tzinfo=UTC)))
    db.session.commit()
    assert jobs.sweep_outbox() == 5
    run_worker(app)
    assert outbox_states() == {"sent": 5}


def test_a_worker_that_died_mid_delivery_is_picked_up_again(directory, app, smtp_sink):
    send_report()
    row = db.session.scalar(select(OutboxMessage).where(OutboxMessage.to_email == CHEF_B))
    from formservice.services import outbox

    assert outbox.claim([row.id]) == [row]  # a worker took it, then vanished
    assert outbox.claim([row.id]) == []  # nobody else may take it meanwhile
    db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == row.id)
        .values(next_attempt_at=datetime.now(UTC) - timedelta(seconds=1))
    )
    db.session.commit()
    assert row.id in outbox.due_ids(min_age_seconds=60)
    assert jobs.deliver(row.id) == {"sent": 1}


def test_a_sent_reports_messages_travel_in_one_job(directory, smtp_sink):
    send_report()
    ids = list(db.session.scalars(select(OutboxMessage.id).order_by(OutboxMessage.id)))
    queue = get_queue()
    assert queue.count == 1
    assert list(queue.jobs[0].args) == ids and len(ids) == 5
    run_worker(directory)
    assert outbox_states() == {"sent": 5}


def test_the_sweep_queues_many_rows_in_bounded_jobs(directory, app, smtp_sink):
    from formservice.queue import DELIVERY_BATCH

    for _ in range(3):
        send_report()
    get_queue().empty()
    db.session.execute(update(OutboxMessage).values(created_at=datetime(2000, 1, 1, tzinfo=UTC)))
    db.session.commit()
    assert jobs.sweep_outbox() == 15
    sizes = [len(job.args) for job in get_queue().jobs]
    assert sum(sizes) == 15 and max(sizes) == DELIVERY_BATCH
    run_worker(app)
    assert outbox_states() == {"sent": 15}
    assert len(smtp_sink.messages) == 15


class HangingUp:
    """A TCP server that accepts and closes at once, counting the connections."""

    def __init__(self) -> None:
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.count = 0
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.server.accept()
            except OSError:
                return
            self.count += 1
            conn.close()

    def close(self) -> None:
        self.server.close()


def test_a_server_that_hangs_up_is_tried_once_per_job_and_every_row_retried(directory, app):
    server = HangingUp()
    try:
        app.config["FORMSERVICE_SMTP_PORT"] = server.port
        app.config["FORMSERVICE_DELIVERY_BACKOFF_SECONDS"] = 60
        send_report()
        run_worker(app)
    finally:
        server.close()
    assert server.count == 1  # not once per message: the other four were not tried
    rows = db.session.scalars(select(OutboxMessage)).all()
    assert {(r.state, r.attempts) for r in rows} == {("pending", 1)}
    assert all(r.last_error == "SMTPServerDisconnected" for r in rows)


def test_settling_without_waiting_for_the_disk_stays_within_the_delivery(directory, smtp_sink):
    send_report()
    ids = list(db.session.scalars(select(OutboxMessage.id)))
    assert jobs.deliver(*ids) == {"sent": 5}
    db.session.expire_all()
    assert outbox_states() == {"sent": 5}
    if db.engine.dialect.name == "postgresql":  # SET LOCAL: later transactions wait again
        assert db.session.scalar(text("SHOW synchronous_commit")) == "on"
