"""Operations against real processes: gunicorn with two workers, RQ workers, a private Redis
that dies and comes back, an SMTP sink that goes away, PostgreSQL; JSON logs throughout.

- /readyz goes 503 and back to 200 when Redis is stopped and restarted and when no worker
  runs (stopped, or killed so that its heartbeat grows old); `formservice check` agrees.
- /metrics shows the pending rows rise while the mail server is down and fall after, and
  sums a counter over both gunicorn workers (prometheus-client's multiprocess mode).
- Every log line of web and worker is one JSON object; a request's id reaches the log lines
  of the jobs it queued.
- The backup drill of docs/operations.md: pg_dump, pg_restore into a new database, the
  service started on it shows the same cases and serves the same stored file.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import subprocess
import tempfile
import threading
import uuid
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import create_engine, text

from tests.integration.helpers import CHEF_A, SECRETARY
from tests.support import postgres
from tests.support.accounts import PASSWORD
from tests.support.http import Client, Response, deviation_fields
from tests.support.ports import free_port
from tests.support.processes import REAPER_EXTRA, Proc
from tests.support.stack import cli, formservice_command, web
from tests.support.waiting import wait_for, wait_for_http

from .conftest import Reporter
from .stack import Stack

pytestmark = [pytest.mark.faults, pytest.mark.slow]

TOKEN = "ops-metrics-" + uuid.uuid4().hex
WAITING = ("pending", "sending")


@pytest.fixture(scope="module")
def ops():
    """A stack of its own: JSON logs and a metrics token for web and workers."""
    saved = dict(REAPER_EXTRA)  # the session's fault stack keeps its own safety net
    log_dir = Path(tempfile.mkdtemp(prefix="formservice-ops-"))
    live = Stack(log_dir)
    live.env.update(FORMSERVICE_LOG_FORMAT="json", FORMSERVICE_METRICS_TOKEN=TOKEN)
    try:
        live.start([CHEF_A, SECRETARY])
        yield live
    finally:
        live.close()
        REAPER_EXTRA.clear()
        REAPER_EXTRA.update(saved)
        import shutil

        shutil.rmtree(log_dir, ignore_errors=True)


@pytest.fixture
def stack(ops):
    """Per test: Redis up and empty, sink accepting and empty, no workers; workers stopped
    afterwards."""
    ops.begin_test()
    try:
        yield ops
    finally:
        ops.stop_workers()


def get(stack: Stack, path: str, headers: dict | None = None, timeout: float = 10) -> Response:
    return Client(stack.base_url).get(path, headers=headers, timeout=timeout)


def readiness(stack: Stack) -> tuple[int, dict]:
    response = get(stack, "/readyz")
    return response.status, json.loads(response.text)


def scrape(stack: Stack) -> dict[tuple[str, tuple], float]:
    response = get(stack, "/metrics", {"Authorization": f"Bearer {TOKEN}"})
    assert response.status == 200, response.status
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def total(samples: dict, name: str, **labels: str) -> float:
    wanted = set(labels.items())
    return sum(v for (n, ls), v in samples.items() if n == name and wanted <= set(ls))


def check_command(stack: Stack) -> subprocess.CompletedProcess:
    return subprocess.run(
        formservice_command() + ["check"],
        env={**stack.env, "FORMSERVICE_DATABASE_URL": stack.database_url},
        capture_output=True,
        text=True,
        timeout=60,
    )


def json_lines(proc: Proc) -> list[dict]:
    """Every line the process wrote, each parsed as JSON (the harness's own header lines
    excepted): a line that is not JSON fails the test."""
    lines = []
    for line in proc.log_path.read_text(errors="replace").splitlines():
        if line.startswith("===== start") or not line.strip():
            continue
        try:
            lines.append(json.loads(line))
        except ValueError as exc:
            raise AssertionError(f"{proc.name}: not a JSON line: {line[:300]!r}") from exc
    return lines


# --- readiness ------------------------------------------------------------------------------


def test_readyz_follows_redis_and_the_workers(stack):
    status, body = readiness(stack)
    assert status == 503 and body["checks"]["worker"]["status"] == "fail", body
    assert check_command(stack).returncode == 1

    worker = stack.start_worker()
    wait_for(lambda: readiness(stack)[0] == 200, 30, "ready with a worker", on_fail=stack.logs)
    result = check_command(stack)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "worker       ok" in result.stdout

    stack.redis.crash()
    status, body = readiness(stack)
    assert status == 503
    assert body["checks"]["redis"] == {"status": "fail", "reason": "unreachable"}
    assert body["checks"]["database"] == {"status": "ok"}
    result = check_command(stack)
    assert result.returncode == 1 and "redis        fail" in result.stdout

    stack.redis.start()  # empty: the heartbeats went with it, the worker writes a new one
    wait_for(lambda: readiness(stack)[0] == 200, 40, "ready after Redis", on_fail=stack.logs)

    worker.kill()  # SIGKILL: no goodbye; the heartbeat grows old (2 × 2 s sweep interval)
    wait_for(lambda: readiness(stack)[0] == 503, 15, "not ready without a worker")
    status, body = readiness(stack)
    assert body["checks"]["worker"] == {"status": "fail", "reason": "no heartbeat within 4 s"}

    worker = stack.start_worker()
    wait_for(lambda: readiness(stack)[0] == 200, 30, "ready again", on_fail=stack.logs)
    wait_for(  # working its queue: past start-up, where RQ installs its signal handlers
        lambda: any("worker.jobs.sweep_outbox" in line["message"] for line in json_lines(worker)),
        30,
        "the worker to run a sweep",
    )
    stack.stop_workers()  # a warm shutdown takes the heartbeat along at once
    status, body = readiness(stack)
    assert status == 503, body


# --- metrics --------------------------------------------------------------------------------


def test_pending_rows_rise_while_the_mail_server_is_down_and_fall_after(stack):
    reporter = Reporter(stack)
    stack.start_worker()
    assert total(scrape(stack), "formservice_outbox_rows", state="pending") == 0
    first = stack.max_id("outbox")
    stack.sink.stop()
    for n in range(3):
        response = reporter.post(f"Remissen besvarades inte i tid, rapport {n + 1}.")
        assert response.status in (302, 303), response.status
    created = len(stack.outbox(first))
    assert created >= 3

    def pending_all() -> bool:
        return total(scrape(stack), "formservice_outbox_rows", state="pending") == created

    wait_for(pending_all, 30, f"{created} pending rows in /metrics", on_fail=stack.logs)
    tried = stack.query("SELECT max(attempts) AS n FROM outbox WHERE id > :a", a=first)
    assert tried[0].n >= 1  # the worker tried and the server was down
    samples = scrape(stack)
    assert samples[("formservice_outbox_oldest_pending_age_seconds", ())] > 0

    stack.sink.start()

    def none_left() -> bool:
        samples = scrape(stack)
        return sum(total(samples, "formservice_outbox_rows", state=s) for s in WAITING) == 0

    wait_for(none_left, 90, "no rows waiting in /metrics after the mail server returned")
    assert {r.state for r in stack.outbox(first)} == {"sent"}
    assert scrape(stack)[("formservice_outbox_oldest_pending_age_seconds", ())] == 0


def test_a_counter_is_summed_over_both_gunicorn_workers(stack):
    key = (
        "formservice_http_requests_total",
        (("endpoint", "ops.healthz"), ("method", "GET"), ("status", "200")),
    )
    before = scrape(stack).get(key, 0)
    sent = 0
    marker = f"pids-{uuid.uuid4().hex[:8]}"

    def burst() -> None:
        threads = [
            threading.Thread(target=lambda: get(stack, "/healthz", {"X-Request-ID": marker}))
            for _ in range(24)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    def pids() -> set[int]:
        return {
            line["pid"]
            for line in json_lines(stack.web)
            if line.get("logger") == "gunicorn.access" and line.get("request_id") == marker
        }

    for _ in range(5):  # the kernel hands connections to either worker: until both had some
        burst()
        sent += 24
        wait_for(pids, 10, "access log lines")
        if len(pids()) >= 2:
            break
    assert len(pids()) == 2, "both gunicorn workers answered /healthz"
    for _ in range(6):  # whichever worker answers the scrape, it sums both
        assert scrape(stack)[key] - before == sent


# --- logs -----------------------------------------------------------------------------------


def test_json_logs_carry_the_request_id_into_the_job(stack):
    worker = stack.start_worker()
    reporter = Reporter(stack)
    request_id = f"ops-journey-{uuid.uuid4().hex[:12]}"
    description = f"Remissen besvarades inte, hemlig text {uuid.uuid4().hex[:6]}."
    fields = deviation_fields(reporter.token, description)
    response = reporter.browser.post(
        "/avvikelser/ny", fields, headers={"X-Request-ID": request_id}, timeout=30
    )
    assert response.status in (302, 303), response.status
    assert response.headers["X-Request-ID"] == request_id
    first = stack.scalar("SELECT min(id) FROM outbox WHERE id > 0")
    stack.wait_all_sent(first - 1, 60)

    def job_lines() -> list[dict]:
        return [
            line
            for line in json_lines(worker)
            if line.get("request_id") == request_id and "worker.jobs.deliver" in line["message"]
        ]

    wait_for(job_lines, 20, "the delivery job's log line", on_fail=stack.logs)
    access = [
        line
        for line in json_lines(stack.web)
        if line.get("logger") == "gunicorn.access" and line.get("request_id") == request_id
    ]
    assert [(a["method"], a["path"], a["status"]) for a in access] == [
        ("POST", "/avvikelser/ny", 302)
    ]
    case_numbers = [r.case_number for r in stack.query("SELECT case_number FROM deviations")]
    everything = stack.web.log_path.read_text() + worker.log_path.read_text()
    for secret in [description, CHEF_A, PASSWORD, *case_numbers]:
        assert secret not in everything, secret
    for line in json_lines(worker) + json_lines(stack.web):
        assert {"time", "level", "logger", "message", "request_id"} <= set(line), line


# --- backup and restore ---------------------------------------------------------------------


def _major(version_text: str) -> int:
    return int(re.search(r"(\d+)(?:\.\d+)*", version_text).group(1))


def test_backup_and_restore_drill(stack, tmp_path):
    """docs/operations.md, "Backup and restore": everything is in PostgreSQL, one pg_dump."""
    pdf = _one_page_pdf()
    with stack.app.app_context():
        from formservice.services import deviations as deviations_service
        from tests.integration.helpers import send_report

        upload = deviations_service.Upload("underlag.pdf", "application/pdf", _sha(pdf), pdf, 1)
        report = send_report(uploads=[upload])
        attachment_id = report.attachments[0].id
        report_id = report.id
    cases = sorted(r.case_number for r in stack.query("SELECT case_number FROM deviations"))
    assert cases

    # the client tools must be as new as the server (pg_dump refuses a newer server)
    server = _major(stack.scalar("SHOW server_version"))
    for tool in ("pg_dump", "pg_restore"):
        client = _major(subprocess.run([tool, "--version"], capture_output=True, text=True).stdout)
        assert client >= server, f"{tool} {client} is older than the server {server}"

    dump = tmp_path / "formservice.dump"
    subprocess.run(
        [
            "pg_dump",
            "--format=custom",
            "--no-owner",
            f"--file={dump}",
            postgres.libpq_url(stack.database_url),
        ],
        check=True,
        timeout=120,
    )
    name, restored_url = postgres.create_database("formservice_restored")
    restored_web = None
    try:
        subprocess.run(
            [
                "pg_restore",
                "--no-owner",
                "--exit-on-error",
                f"--dbname={postgres.libpq_url(restored_url)}",
                str(dump),
            ],
            check=True,
            timeout=120,
        )
        env = {**stack.env, "FORMSERVICE_DATABASE_URL": restored_url}
        cli(["db", "upgrade"], env)
        port = free_port()
        restored_web = web(
            {**env, "FORMSERVICE_BASE_URL": f"http://127.0.0.1:{port}"},
            stack.log_dir,
            port,
            "restored-web",
        )
        restored = Client(f"http://127.0.0.1:{port}")
        wait_for_http(
            restored.base_url + "/logga-in", [restored_web], 40, on_fail=restored_web.tail
        )
        original = Client(stack.base_url)
        for browser in (original, restored):
            browser.login(CHEF_A, PASSWORD)
        listed = [browser.get("/avvikelser").text for browser in (original, restored)]
        for case in cases:
            assert case in listed[0] and case in listed[1], case
        path = f"/avvikelser/{report_id}/bilagor/{attachment_id}"
        downloaded = _download(restored, path)
        assert _sha(downloaded) == _sha(pdf) == _sha(_download(original, path))
        engine = create_engine(restored_url)
        try:
            with engine.connect() as conn:
                counts = conn.execute(text("SELECT count(*) FROM deviations")).scalar()
        finally:
            engine.dispose()
        assert counts == len(cases)
    finally:
        if restored_web is not None:
            restored_web.stop()
        postgres.drop_database(name)


def _download(browser: Client, path: str) -> bytes:
    response = browser.get(path)
    assert response.status == 200
    return response.body


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _one_page_pdf() -> bytes:
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    writer.add_metadata({"/Title": f"Underlag {uuid.uuid4().hex[:6]}"})
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
