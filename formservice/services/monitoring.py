"""What the database says about the service's health, for the metrics scraped from it.

Read at scrape time, so every web and worker process on every host is counted; the build
timings are written here too, inside the transaction that stores the documents.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC

from sqlalchemy import func, select

from .. import clock
from ..extensions import db
from ..models import BuildTiming, Deviation, OutboxMessage
from ..models.outbox import FAILED, PENDING, SENDING

#: Outbox states worth watching: waiting to go, on their way, given up.
WATCHED_STATES = (PENDING, SENDING, FAILED)


@dataclass(frozen=True)
class Histogram:
    """Cumulative counts at each upper bound, with the count and sum of every observation."""

    buckets: list[tuple[float, int]]
    count: int
    total: float


@dataclass(frozen=True)
class Figures:
    outbox: dict[tuple[str, str], int]  # (kind, state) -> rows, for WATCHED_STATES
    oldest_pending_seconds: float  # age of the oldest pending row; 0 when none waits
    reminders: dict[str, int]  # before, due, escalation -> reports that got it
    builds: dict[str, Histogram] = field(default_factory=dict)  # digest, sip, bus_individ


def record_build(kind: str, seconds: float) -> None:
    """Add one build timing to the current transaction (the caller commits)."""
    db.session.add(BuildTiming(kind=kind, seconds=seconds, finished_at=clock.now()))


def figures(bounds: Sequence[float]) -> Figures:
    """Outbox rows by kind and state, the oldest pending row's age, reminders written and
    build durations as histograms over `bounds` (seconds): one query each."""
    outbox = {
        (kind, state): rows
        for kind, state, rows in db.session.execute(
            select(OutboxMessage.kind, OutboxMessage.state, func.count())
            .where(OutboxMessage.state.in_(WATCHED_STATES))
            .group_by(OutboxMessage.kind, OutboxMessage.state)
        )
    }
    oldest = db.session.scalar(
        select(func.min(OutboxMessage.created_at)).where(OutboxMessage.state == PENDING)
    )
    if oldest is not None and oldest.tzinfo is None:  # SQLite: an aggregate skips the type
        oldest = oldest.replace(tzinfo=UTC)
    age = max(0.0, (clock.now() - oldest).total_seconds()) if oldest else 0.0
    before, due, escalated = db.session.execute(
        select(
            func.count(Deviation.reminded_before_at),
            func.count(Deviation.reminded_due_at),
            func.count(Deviation.escalated_at),
        )
    ).one()
    reminders = {"before": before, "due": due, "escalation": escalated}
    return Figures(outbox, age, reminders, _builds(bounds))


def _builds(bounds: Sequence[float]) -> dict[str, Histogram]:
    within = [func.count().filter(BuildTiming.seconds <= bound) for bound in bounds]
    query = select(
        BuildTiming.kind, func.count(), func.coalesce(func.sum(BuildTiming.seconds), 0), *within
    ).group_by(BuildTiming.kind)
    found = {}
    for kind, count, total, *cumulative in db.session.execute(query):
        found[kind] = Histogram(list(zip(bounds, cumulative, strict=True)), count, float(total))
    return found
