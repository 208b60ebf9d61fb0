"""Prometheus metrics: the one module that knows about prometheus-client.

Counted where it happens, in the web processes: requests and their latency by endpoint name
(never the path, which holds ids and tokens), method and status. Under `formservice web` every
gunicorn worker writes its counts to files in one private folder (the client's multiprocess
mode, `PROMETHEUS_MULTIPROC_DIR`), and a scrape sums them, whichever worker answers it.

Read at scrape time (`ScrapeCollector`), so they are right whichever host a worker runs on:
outbox rows by kind and state and the oldest pending row's age, reminders and escalations
written, build durations of digests and record documents (from the database), queue length
and failed jobs (from Redis). Nothing here holds personal data or case numbers.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from prometheus_client import CollectorRegistry
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.exposition import choose_encoder
from prometheus_client.metrics import Counter, Histogram

log = logging.getLogger(__name__)

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"

#: Upper bounds (seconds) of the request latency histogram.
REQUEST_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
#: Upper bounds (seconds) of the build duration histograms (LibreOffice takes seconds to minutes).
BUILD_BUCKETS = (1.0, 2.5, 5.0, 10.0, 20.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0, 3600.0)

# Not in the client's global registry: each scrape builds its own (see `exposition`).
REQUESTS = Counter(
    "formservice_http_requests",
    "HTTP requests answered, by endpoint name, method and status.",
    ["endpoint", "method", "status"],
    registry=None,
)
REQUEST_SECONDS = Histogram(
    "formservice_http_request_duration_seconds",
    "Time to answer an HTTP request (until the response starts), by endpoint, method, status.",
    ["endpoint", "method", "status"],
    buckets=REQUEST_BUCKETS,
    registry=None,
)


def init_app(app: Any) -> None:
    """Count every request by its endpoint name (`none` when no route matched)."""
    from flask import g, request

    def start() -> None:
        g.metrics_started = time.perf_counter()

    def count(response: Any) -> Any:
        started = g.pop("metrics_started", None)
        labels = (request.endpoint or "none", request.method, str(response.status_code))
        REQUESTS.labels(*labels).inc()
        if started is not None:
            REQUEST_SECONDS.labels(*labels).observe(time.perf_counter() - started)
        return response

    app.before_request(start)
    app.after_request(count)


class ScrapeCollector:
    """Figures read when scraped: `read()` returns the families, or raises for a part that is
    down (then only `formservice_up{part}` says so)."""

    def __init__(self, parts: dict[str, Callable[[], Iterable[Metric]]]) -> None:
        self.parts = parts

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily(
            "formservice_scrape_source_up",
            "1 when the source of the scraped figures answered this scrape.",
            labels=["source"],
        )
        for source, read in self.parts.items():
            try:
                families = list(read())
            except Exception as exc:  # a source that is down leaves out its figures only
                log.warning("metrics: %s unavailable: %s: %s", source, type(exc).__name__, exc)
                up.add_metric([source], 0)
                continue
            up.add_metric([source], 1)
            yield from families
        yield up


def scrape_collector() -> ScrapeCollector:
    """The figures read at scrape time: the database's (outbox, builds, reminders) and the
    queue's (waiting and failed jobs), each part failing alone."""
    from . import mail, queue
    from .services import monitoring

    return ScrapeCollector(
        {
            "database": lambda: database_families(monitoring.figures(BUILD_BUCKETS), mail.kinds()),
            "redis": lambda: queue_families(*queue.figures()),
        }
    )


def database_families(figures: Any, kinds: Iterable[str]) -> list[Metric]:
    """The database's figures (`services.monitoring.Figures`) as metric families; every
    message kind in `kinds` is shown, with 0 when it has no rows in that state."""
    from .services.monitoring import WATCHED_STATES

    rows = GaugeMetricFamily(
        "formservice_outbox_rows",
        "Outbox rows waiting (pending), on their way (sending) or given up (failed), by kind.",
        labels=["kind", "state"],
    )
    for kind in sorted(set(kinds) | {k for k, _ in figures.outbox}):
        for state in WATCHED_STATES:
            rows.add_metric([kind, state], figures.outbox.get((kind, state), 0))
    oldest = GaugeMetricFamily(
        "formservice_outbox_oldest_pending_age_seconds",
        "Age of the oldest pending outbox row; 0 when none waits.",
        value=figures.oldest_pending_seconds,
    )
    reminders = CounterMetricFamily(
        "formservice_reminders_sent",
        "Reports that got a reminder before the deadline (before), on it (due), and overdue "
        "notices to the steering group (escalation).",
        labels=["step"],
    )
    for step, count in figures.reminders.items():
        reminders.add_metric([step], count)
    families: list[Metric] = [rows, oldest, reminders]
    builds = {
        "digest": (
            "formservice_digest_build_duration_seconds",
            "Time the worker took to compile a digest (DOCX, PDF, attachments).",
        ),
        "document": (
            "formservice_document_build_duration_seconds",
            "Time the worker took to build a record's DOCX and PDF, by kind (sip, bus_individ).",
        ),
    }
    for family, (name, documentation) in builds.items():
        histogram = HistogramMetricFamily(
            name, documentation, labels=[] if family == "digest" else ["kind"]
        )
        for kind, timing in sorted(figures.builds.items()):
            if (kind == "digest") != (family == "digest"):
                continue
            buckets = [(_bound(b), n) for b, n in timing.buckets] + [("+Inf", timing.count)]
            labels = [] if family == "digest" else [kind]
            histogram.add_metric(labels, buckets, timing.total)
        families.append(histogram)
    return families


def _bound(value: float) -> str:
    return str(float(value))


def queue_families(waiting: int, failed: int) -> list[Metric]:
    return [
        GaugeMetricFamily(
            "formservice_queue_length", "Jobs waiting in the queue for a worker.", value=waiting
        ),
        GaugeMetricFamily(
            "formservice_jobs_failed",
            "Failed jobs kept by RQ for inspection (a week for document and digest jobs).",
            value=failed,
        ),
    ]


def exposition(collector: ScrapeCollector, accept: str = "") -> tuple[bytes, str]:
    """The counted metrics (summed over every web process in multiprocess mode) and the
    scraped figures, in the format the scraper's `Accept` header asks for (the client's own
    negotiation: Prometheus text 0.0.4 by default, or OpenMetrics)."""
    registry = CollectorRegistry()
    folder = os.environ.get(MULTIPROC_ENV)
    if folder:
        from prometheus_client import multiprocess

        multiprocess.MultiProcessCollector(registry, path=folder)
    else:
        registry.register(REQUESTS)
        registry.register(REQUEST_SECONDS)
    registry.register(collector)
    encoder, content_type = choose_encoder(accept)
    return encoder(registry), content_type
