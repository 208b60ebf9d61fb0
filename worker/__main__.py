"""`python -m worker`: an RQ worker with the periodic jobs, for this app."""

from __future__ import annotations

import logging
import multiprocessing
import os
import sys
import time

from flask import Flask
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from rq import Queue, SimpleWorker
from rq.cron import CronScheduler
from rq.exceptions import StopRequested

from formservice import create_app
from formservice.queue import QUEUE_NAME, redis_connection

CRON_RETRY_SECONDS = 2


class AppWorker(SimpleWorker):
    """Runs each job in this process inside a fresh app context (fresh database session).

    SimpleWorker rather than the forking Worker: no fork per job, and no database
    connections shared across a fork.
    """

    #: After a Redis outage, look again at least every 10 s (RQ's default backs off to 60 s),
    #: so deliveries resume soon after Redis is back.
    max_connection_wait_time = 10.0

    def __init__(self, *args, app: Flask, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.app = app

    def perform_job(self, *args, **kwargs) -> bool:
        with self.app.app_context():
            return super().perform_job(*args, **kwargs)


def register_periodic(cron: CronScheduler, sweep_seconds: int) -> None:
    """The periodic jobs: outbox sweep and reminders."""
    from worker import jobs

    cron.register(jobs.sweep_outbox, QUEUE_NAME, interval=sweep_seconds, name="sweep_outbox")
    cron.register(jobs.send_reminders, QUEUE_NAME, cron="15 7 * * *", name="send_reminders")
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
    """Work the queue in this process; the cron scheduler runs beside it unless bursting."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
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
            return worker.work(burst=burst, with_scheduler=not burst)
    finally:
        if cron is not None:
            cron.terminate()


if __name__ == "__main__":
    run(burst="--burst" in sys.argv)  # Worker.work() is False when no job ran: not a failure
