"""`python -m worker`: an RQ worker with the periodic jobs, for this app."""

from __future__ import annotations

import logging
import multiprocessing
import os
import sys
import threading
import time
from typing import Any

from flask import Flask
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError
from rq import Queue, SimpleWorker
from rq.cron import CronScheduler
from rq.exceptions import StopRequested
from rq.executions import Execution
from rq.job import Job

from formservice import create_app, health, logs, mail
from formservice.queue import QUEUE_NAME, redis_connection

log = logging.getLogger(__name__)

CRON_RETRY_SECONDS = 2


class AppWorker(SimpleWorker):
    """Runs each job in this process inside a fresh app context (fresh database session).

    SimpleWorker rather than the forking Worker: no fork per job, and no database
    connections shared across a fork.
    """

    #: After a Redis outage, look again at least every 10 s (RQ's default backs off to 60 s),
    #: so deliveries resume soon after Redis is back.
    max_connection_wait_time = 10.0

    def __init__(self, *args: Any, app: Flask, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.app = app

    def perform_job(self, job: Job, queue: Queue, execution: Execution) -> bool:
        """Run the job with the request id of the request (or job) that queued it, or its
        own id, on every log line, and in the jobs it queues in turn."""
        request_id = job.meta.get("request_id") or job.id
        with self.app.app_context(), logs.bound(request_id):
            log.info("job %s %s started", job.func_name, job.id)
            return super().perform_job(job, queue, execution)

    def teardown(self) -> None:
        """Also close the SMTP connection kept open between deliveries (`mail.send`)."""
        try:
            super().teardown()
        finally:
            mail.close_connection()


class Heartbeat(threading.Thread):
    """Tells readiness (`health.beat`) every half sweep interval that this worker lives and
    whether it finds LibreOffice, busy with a job or not; its last act is to take it back."""

    def __init__(self, app: Flask, worker: str) -> None:
        super().__init__(name="heartbeat", daemon=True)
        self.app, self.worker = app, worker
        self.stopped = threading.Event()

    def run(self) -> None:
        config = self.app.config
        seconds = health.window(config)
        while True:
            try:
                with self.app.app_context():
                    health.beat(
                        redis_connection(), self.worker, health.libreoffice_found(config), seconds
                    )
            except (RedisError, OSError) as exc:  # Redis is down: readiness says so anyway
                log.debug("heartbeat not written: %s", exc)
            if self.stopped.wait(max(1.0, config["FORMSERVICE_SWEEP_INTERVAL_SECONDS"] / 2)):
                return

    def stop(self) -> None:
        self.stopped.set()
        self.join(timeout=5)
        try:
            with self.app.app_context():
                health.forget(redis_connection(), self.worker)
        except (RedisError, OSError):
            pass  # the heartbeat grows old by itself


def register_periodic(cron: CronScheduler, sweep_seconds: int) -> None:
    """The periodic jobs: outbox sweep, reminders, recurring deviations, retention."""
    from worker import jobs

    cron.register(jobs.sweep_outbox, QUEUE_NAME, interval=sweep_seconds, name="sweep_outbox")
    cron.register(jobs.send_reminders, QUEUE_NAME, cron="15 7 * * *", name="send_reminders")
    cron.register(jobs.detect_patterns, QUEUE_NAME, cron="20 7 * * *", name="detect_patterns")
    cron.register(
        jobs.remove_expired_identities,
        QUEUE_NAME,
        cron="30 2 * * *",
        name="remove_expired_identities",
    )


def _run_cron() -> None:
    """The periodic jobs; a Redis outage pauses them (the scheduler starts again), never ends
    them: without the sweep, rows written while Redis was down would never be queued."""
    app = create_app()
    _use_service_time_zone(app.config["FORMSERVICE_TIMEZONE"])
    with app.app_context():
        while True:
            cron = CronScheduler(connection=redis_connection())
            register_periodic(cron, app.config["FORMSERVICE_SWEEP_INTERVAL_SECONDS"])
            try:
                cron.start()
                return  # stopped by a signal
            except (RedisConnectionError, RedisTimeoutError) as exc:
                logging.getLogger(__name__).warning("cron: Redis unavailable (%s); retrying", exc)
            try:
                time.sleep(CRON_RETRY_SECONDS)
            except (StopRequested, KeyboardInterrupt):  # cron's signal handlers stay installed
                return


def _use_service_time_zone(zone: str) -> None:
    """RQ 3 reads cron strings in the process's local time: make that the service's zone, so
    "15 7 * * *" is 07:15 in Stockholm whatever the host's clock zone (this child only)."""
    os.environ["TZ"] = zone
    time.tzset()


def run(burst: bool = False, with_cron: bool = True) -> bool:
    """Work the queue in this process; the cron scheduler runs beside it unless bursting.
    Logging is set up by `create_app` (FORMSERVICE_LOG_FORMAT), here as in the web."""
    app = create_app()
    cron = None
    if with_cron and not burst:
        cron = multiprocessing.get_context("spawn").Process(target=_run_cron, daemon=True)
        cron.start()
    try:
        with app.app_context():
            connection = redis_connection()
            queues = [Queue(QUEUE_NAME, connection=connection)]
            worker = AppWorker(queues, connection=connection, app=app)
            heartbeat = None if burst else Heartbeat(app, worker.name)
            if heartbeat is not None:
                heartbeat.start()
            try:
                return worker.work(burst=burst, with_scheduler=not burst)
            finally:
                if heartbeat is not None:
                    heartbeat.stop()
    finally:
        if cron is not None:
            cron.terminate()


if __name__ == "__main__":
    run(burst="--burst" in sys.argv)  # Worker.work() is False when no job ran: not a failure
