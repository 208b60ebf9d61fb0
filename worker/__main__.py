"""`python -m worker`: an RQ worker with the periodic jobs, for this app."""

from __future__ import annotations

import logging
import multiprocessing
import sys

from flask import Flask
from rq import Queue, SimpleWorker
from rq.cron import CronScheduler

from formservice import create_app
from formservice.queue import QUEUE_NAME, redis_connection


class AppWorker(SimpleWorker):
    """Runs each job in this process inside a fresh app context (fresh database session).

    SimpleWorker rather than the forking Worker: no fork per job, and no database
    connections shared across a fork.
    """

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
    app = create_app()
    with app.app_context():
        cron = CronScheduler(connection=redis_connection())
        register_periodic(cron, app.config["FORMSERVICE_SWEEP_INTERVAL_SECONDS"])
        cron.start()


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
