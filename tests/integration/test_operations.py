"""Operations in this process, on both databases and real Redis: /healthz, /readyz and
`formservice check`, /metrics (token, figures, no personal data) and request ids."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import func, select, update

from formservice import health
from formservice.cli import main
from formservice.extensions import db
from formservice.models import OutboxMessage
from formservice.queue import redis_connection
from formservice.services import reminders
from formservice.tokens import make_token
from tests.support.app import base_config, run_worker
from tests.support.ports import free_port

from .helpers import CHEF_A, CHEF_B, send_report
from .meeting_helpers import sip_meeting

TOKEN = "metrics-token-for-the-tests"
BEARER = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def ops_app(app):
    app.config["FORMSERVICE_METRICS_TOKEN"] = TOKEN
    return app


def beat(app, libreoffice: bool = True, worker: str = "w1") -> None:
    health.beat(redis_connection(), worker, libreoffice, health.window(app.config))


def scrape(client) -> dict[tuple[str, tuple], float]:
    """/metrics as {(sample name, sorted labels): value}."""
    response = client.get("/metrics", headers=BEARER)
    assert response.status_code == 200
    assert response.content_type.startswith("text/plain; version=0.0.4")
    samples = {}
    for family in text_string_to_metric_families(response.get_data(as_text=True)):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


# --- health and readiness -------------------------------------------------------------------


def test_healthz_answers_without_asking_anything(new_app, db_url, smtp_sink, tmp_path):
    """Nothing behind it answers (database and Redis on closed ports): still 200."""
    dead = f"redis://127.0.0.1:{free_port()}/0"
    config = base_config(db_url, smtp_sink, tmp_path) | {
        "FORMSERVICE_REDIS_URL": dead,
        "FORMSERVICE_DATABASE_URL": f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/x",
    }
    response = new_app(config).test_client().get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok"}


def test_readyz_names_every_part_and_needs_a_live_worker(ops_app, client):
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json == {
        "status": "fail",
        "checks": {
            "database": {"status": "ok"},
            "redis": {"status": "ok"},
            "worker": {"status": "fail", "reason": "no heartbeat within 120 s"},
            "libreoffice": {"status": "fail", "reason": "not found by any live worker"},
        },
    }
    beat(ops_app)
    response = client.get("/readyz")
    assert response.status_code == 200, response.json
    assert response.json["status"] == "ok"
    assert set(response.json["checks"]) == {"database", "redis", "worker", "libreoffice"}

    beat(ops_app, libreoffice=False)  # the only live worker no longer finds LibreOffice
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json["checks"]["libreoffice"]["status"] == "fail"
    assert response.json["checks"]["worker"] == {"status": "ok"}

    health.forget(redis_connection(), "w1")  # a worker that stops takes its heartbeat along
    assert client.get("/readyz").status_code == 503


def test_a_heartbeat_older_than_twice_the_sweep_interval_does_not_count(ops_app, client):
    ops_app.config["FORMSERVICE_SWEEP_INTERVAL_SECONDS"] = 1
    beat(ops_app)
    assert client.get("/readyz").status_code == 200
    time.sleep(2.2)
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json["checks"]["worker"]["reason"] == "no heartbeat within 2 s"


def test_readyz_is_quick_and_says_little_when_redis_and_database_are_down(
    new_app, db_url, smtp_sink, tmp_path
):
    redis_port, db_port = free_port(), free_port()
    config = base_config(db_url, smtp_sink, tmp_path) | {
        "FORMSERVICE_REDIS_URL": f"redis://127.0.0.1:{redis_port}/0",
        "FORMSERVICE_DATABASE_URL": f"postgresql+psycopg://postgres@127.0.0.1:{db_port}/x",
    }
    client = new_app(config).test_client()
    started = time.monotonic()
    response = client.get("/readyz")
    assert time.monotonic() - started < health.DEADLINE + 1
    assert response.status_code == 503
    assert response.json["checks"] == {
        "database": {"status": "fail", "reason": "unreachable"},
        "redis": {"status": "fail", "reason": "unreachable"},
        "worker": {"status": "fail", "reason": "redis unreachable"},
        "libreoffice": {"status": "fail", "reason": "redis unreachable"},
    }
    assert str(redis_port) not in response.get_data(as_text=True)
    assert str(db_port) not in response.get_data(as_text=True)


def test_check_command_prints_the_parts_and_fails_until_ready(ops_app):
    runner = ops_app.test_cli_runner()
    result = runner.invoke(main, ["check"])
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert lines[:4] == [
        "database     ok",
        "redis        ok",
        "worker       fail (no heartbeat within 120 s)",
        "libreoffice  fail (not found by any live worker)",
    ]
    assert "Tjänsten är inte redo." in result.output
    beat(ops_app)
    result = runner.invoke(main, ["check"])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[-1] == "Tjänsten är redo."


# --- metrics --------------------------------------------------------------------------------


def test_metrics_answer_only_the_right_bearer_token(app, client):
    app.config["FORMSERVICE_METRICS_TOKEN"] = ""
    assert client.get("/metrics").status_code == 404
    assert client.get("/metrics", headers={"Authorization": "Bearer "}).status_code == 404
    app.config["FORMSERVICE_METRICS_TOKEN"] = TOKEN
    for header in (None, "Bearer wrong", f"Basic {TOKEN}", TOKEN, f"Bearer {TOKEN}x"):
        headers = {"Authorization": header} if header else {}
        assert client.get("/metrics", headers=headers).status_code == 404, header
    assert client.get("/metrics", headers=BEARER).status_code == 200
    assert client.get("/metrics", headers={"Authorization": f"bearer  {TOKEN}"}).status_code == 200


def test_metrics_count_requests_by_endpoint_never_by_path(ops_app, directory, client):
    report = send_report()
    token = make_token(report.id, CHEF_B, report.link_version)
    before = scrape(client)
    client.get(f"/svara/{token}")
    client.get(f"/avvikelser/{report.id}")  # not logged in: a redirect
    client.get("/no/such/page/4711")
    after = scrape(client)
    key = "formservice_http_requests_total"

    def delta(endpoint: str, status: str) -> float:
        labels = (("endpoint", endpoint), ("method", "GET"), ("status", status))
        return after.get((key, labels), 0) - before.get((key, labels), 0)

    assert delta("respond.show", "200") == 1
    assert delta("deviations.show", "302") == 1
    assert delta("none", "404") == 1
    text = client.get("/metrics", headers=BEARER).get_data(as_text=True)
    for line in text.splitlines():
        if not line.startswith("#"):
            assert token not in line and report.case_number not in line and "@" not in line
            assert "/svara" not in line and "/avvikelser" not in line


def test_metrics_show_outbox_reminders_queue_and_builds(ops_app, directory, client):
    send_report()
    send_report()
    rows = db.session.execute(
        select(OutboxMessage.kind, func.count())
        .where(OutboxMessage.state == "pending")
        .group_by(OutboxMessage.kind)
    ).all()
    assert rows
    first = db.session.scalar(select(func.min(OutboxMessage.id)))
    db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == first)
        .values(state="failed", created_at=datetime.now(UTC) - timedelta(hours=1))
    )
    db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == first + 1)
        .values(created_at=datetime.now(UTC) - timedelta(minutes=10))
    )
    db.session.commit()
    failed_kind = db.session.get(OutboxMessage, first).kind
    samples = scrape(client)

    def value(name: str, **labels: str) -> float:
        return samples[(name, tuple(sorted(labels.items())))]

    for kind, count in rows:
        expected = count - (1 if kind == failed_kind else 0)
        assert value("formservice_outbox_rows", kind=kind, state="pending") == expected
    assert value("formservice_outbox_rows", kind=failed_kind, state="failed") == 1
    assert value("formservice_outbox_rows", kind="overdue", state="pending") == 0  # every kind
    assert 600 <= value("formservice_outbox_oldest_pending_age_seconds") < 700
    assert value("formservice_queue_length") >= 1  # queued by send_report, no worker yet
    assert value("formservice_jobs_failed") == 0
    assert value("formservice_scrape_source_up", source="database") == 1
    assert value("formservice_scrape_source_up", source="redis") == 1

    # reminders: the first one falls due 7 days before the 30-day deadline
    assert value("formservice_reminders_sent_total", step="before") == 0
    reminders.send_due(today=datetime.now(UTC).date() + timedelta(days=24))
    samples = scrape(client)
    assert value("formservice_reminders_sent_total", step="before") == 2
    assert value("formservice_reminders_sent_total", step="escalation") == 0

    # a SIP kallelse built by the worker (LibreOffice) is timed
    meeting = sip_meeting(datetime.now(UTC) + timedelta(days=30), state="skickad")
    from formservice.queue import enqueue_documents

    assert enqueue_documents("sip", meeting.id)
    run_worker(ops_app)
    samples = scrape(client)
    assert value("formservice_document_build_duration_seconds_count", kind="sip") == 1
    assert value("formservice_document_build_duration_seconds_sum", kind="sip") > 0
    assert value("formservice_document_build_duration_seconds_bucket", kind="sip", le="+Inf") == 1
    assert value("formservice_outbox_oldest_pending_age_seconds") == 0  # all sent now


def test_metrics_without_redis_still_show_the_database(new_app, db_url, smtp_sink, tmp_path):
    config = base_config(db_url, smtp_sink, tmp_path) | {
        "FORMSERVICE_REDIS_URL": f"redis://127.0.0.1:{free_port()}/0",
        "FORMSERVICE_METRICS_TOKEN": TOKEN,
    }
    app = new_app(config)
    with app.app_context():
        from tests.support.app import reset_database

        reset_database(app)
    samples = scrape(app.test_client())
    assert samples[("formservice_scrape_source_up", (("source", "redis"),))] == 0
    assert samples[("formservice_scrape_source_up", (("source", "database"),))] == 1
    assert ("formservice_queue_length", ()) not in samples
    assert ("formservice_outbox_oldest_pending_age_seconds", ()) in samples


# --- request ids ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "kept"),
    [("req-4711.a_b", True), ("x" * 64, True), ("x" * 65, False), ("a b", False), ("å", False)],
)
def test_a_sane_request_id_is_kept_and_answered(client, given, kept):
    answered = client.get("/healthz", headers={"X-Request-ID": given}).headers["X-Request-ID"]
    assert (answered == given) is kept
    assert len(answered) <= 64


def test_the_request_id_travels_into_the_queued_jobs(directory, client, caplog):
    """A request's id goes with the jobs it queues (RQ's job meta) and onto the worker's log
    lines for them."""
    import logging

    from rq import Queue

    from formservice.queue import QUEUE_NAME
    from tests.support.app import login

    caplog.set_level(logging.INFO)
    login(client, CHEF_A)
    from .helpers import form_data

    response = client.post(
        "/avvikelser/ny", data=form_data(), headers={"X-Request-ID": "journey-4711"}
    )
    assert response.status_code == 302
    assert response.headers["X-Request-ID"] == "journey-4711"
    jobs = Queue(QUEUE_NAME, connection=redis_connection()).get_jobs()
    assert jobs and all(job.meta.get("request_id") == "journey-4711" for job in jobs)
    caplog.clear()
    run_worker(directory)
    started = [r for r in caplog.records if r.getMessage().startswith("job worker.jobs.deliver")]
    assert started and all(r.request_id == "journey-4711" for r in started)
