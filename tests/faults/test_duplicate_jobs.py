"""Two workers, every delivery queued several times: each message reaches the sink once."""

from __future__ import annotations

from collections import Counter

import pytest
from rq import Queue
from rq.job import Job

from formservice.queue import QUEUE_NAME
from tests.support.waiting import wait_for

pytestmark = pytest.mark.faults

REPORTS = 4
EXTRA = 3


def test_each_outbox_row_is_delivered_once_however_often_it_is_queued(fresh, reporter):
    stack = fresh
    before = stack.max_id("outbox")
    for n in range(REPORTS):  # no worker yet: the web queues each row once
        response = reporter.post(f"Remissen besvarades inte i tid, rapport {n + 1}.")
        assert response.status in (302, 303), response.status
    rows = stack.outbox(before)
    assert len(rows) >= REPORTS and {r.state for r in rows} == {"pending"}

    queue = Queue(QUEUE_NAME, connection=stack.redis.connection())
    for _ in range(EXTRA):  # round-robin, so both workers hold jobs for the same rows
        for row in rows:
            queue.enqueue("worker.jobs.deliver", row.id)
    assert queue.count == REPORTS + len(rows) * EXTRA  # the web queues one job per report

    jobs = queue.get_job_ids()
    stack.sink.delay = 0.3  # each delivery takes a moment: both workers get to work
    stack.start_workers(2)
    rows = stack.wait_all_sent(before, 60, expect_rows=len(rows))
    wait_for(
        lambda: all(_status(queue, job) == "finished" for job in jobs),
        30,
        "every queued copy to run",
        on_fail=stack.logs,
    )
    results: Counter = Counter()  # the web's job per report, and the single-row copies
    for job in jobs:
        results.update(Job.fetch(job, connection=queue.connection).return_value())
    assert results == {"sent": len(rows), "skipped": len(rows) * EXTRA}, results
    workers = {Job.fetch(job, connection=queue.connection).worker_name for job in jobs}
    assert len(workers) == 2, workers  # both workers took copies of the same rows

    sent = stack.sink.ids()
    assert sorted(sent) == sorted(r.message_id for r in rows), stack.sink.summary()
    duplicates = {m: n for m, n in sent.items() if n > 1}
    assert not duplicates, f"delivered more than once: {duplicates}"
    assert all(r.attempts == 1 for r in rows), [(r.id, r.attempts) for r in rows]


def _status(queue: Queue, job_id: str) -> str:
    status = Job.fetch(job_id, connection=queue.connection).get_status()
    return str(getattr(status, "value", status))
