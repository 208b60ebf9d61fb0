"""The enqueue policy against the real Redis: one job per id while it waits or runs, and a new
one once it has failed or finished."""

from __future__ import annotations

import threading

import pytest
from rq import Queue, get_current_job
from rq.job import Job

from formservice import create_app, queue
from tests.support.app import base_config, run_worker

THREADS = 8
HERE = __name__


def succeeding() -> str:
    return "klar"


def failing() -> None:
    raise RuntimeError("the job fails")


def enqueue_itself() -> tuple[bool, int]:
    """While running, ask for the same job again: what the enqueue says and what is queued."""
    job_id = get_current_job().id
    return queue.enqueue_job(f"{HERE}.succeeding", job_id=job_id), queue.get_queue().count


@pytest.fixture
def queue_app(sqlite_url, smtp_sink, tmp_path):
    """The app with Redis flushed; no database work is done here, so SQLite alone."""
    app = create_app(base_config(sqlite_url, smtp_sink, tmp_path))
    with app.app_context():
        queue.redis_connection().flushdb()
        yield app


def rq_queue() -> Queue:
    return queue.get_queue()


def at_once(app, call, count: int = THREADS) -> list:
    """Run `call` in `count` threads released together; their results."""
    barrier = threading.Barrier(count)
    results: list = []

    def run() -> None:
        with app.app_context():
            barrier.wait()
            results.append(call())

    threads = [threading.Thread(target=run) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert len(results) == count
    return results


def test_concurrent_enqueues_of_one_id_queue_one_job(queue_app):
    ids = [f"race-{n}" for n in range(20)]
    for job_id in ids:
        results = at_once(
            queue_app, lambda job_id=job_id: queue.enqueue_job(f"{HERE}.succeeding", job_id=job_id)
        )
        assert results == [True] * THREADS
    assert sorted(rq_queue().get_job_ids()) == sorted(ids)


def test_a_waiting_or_running_job_is_not_queued_again(queue_app):
    assert queue.enqueue_job(f"{HERE}.enqueue_itself", job_id="same")
    assert queue.enqueue_job(f"{HERE}.enqueue_itself", job_id="same")
    assert rq_queue().get_job_ids() == ["same"]
    run_worker(queue_app)
    job = Job.fetch("same", connection=queue.redis_connection())
    assert job.get_status() == "finished"
    assert tuple(job.return_value()) == (True, 0)  # asked again while running: not queued
    assert rq_queue().count == 0


def test_a_failed_job_is_queued_again_and_runs(queue_app):
    connection = queue.redis_connection()
    failed = rq_queue().failed_job_registry
    assert queue.enqueue_job(f"{HERE}.failing", job_id="retry")
    run_worker(queue_app)
    assert failed.get_job_ids() == ["retry"]  # kept for a week (failure_ttl)

    assert queue.enqueue_job(f"{HERE}.succeeding", job_id="retry")
    assert rq_queue().get_job_ids() == ["retry"]
    assert failed.get_job_ids() == []
    run_worker(queue_app)
    job = Job.fetch("retry", connection=connection)
    assert (job.get_status(), job.return_value()) == ("finished", "klar")

    # and once more after it finished
    assert queue.enqueue_job(f"{HERE}.failing", job_id="retry")
    assert rq_queue().get_job_ids() == ["retry"]
    run_worker(queue_app)
    assert failed.get_job_ids() == ["retry"]


def test_concurrent_retries_of_a_failed_job_queue_one_job(queue_app):
    failed = rq_queue().failed_job_registry
    for round_ in range(5):
        job_id = f"retry-race-{round_}"
        assert queue.enqueue_job(f"{HERE}.failing", job_id=job_id)
        run_worker(queue_app)
        assert job_id in failed.get_job_ids()
        results = at_once(
            queue_app, lambda job_id=job_id: queue.enqueue_job(f"{HERE}.succeeding", job_id=job_id)
        )
        assert results == [True] * THREADS
        assert rq_queue().get_job_ids() == [job_id]
        assert job_id not in failed.get_job_ids()
        run_worker(queue_app)
        assert Job.fetch(job_id, connection=queue.redis_connection()).return_value() == "klar"


def test_jobs_without_an_id_are_all_queued(queue_app):
    assert queue.enqueue_job(f"{HERE}.succeeding") and queue.enqueue_job(f"{HERE}.succeeding")
    assert rq_queue().count == 2
