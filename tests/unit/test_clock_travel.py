"""The service's clock can be set for the code inside `clock.travel` (how `formservice
demo-data` writes history through the services), and the queue held (`queue.held`)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from formservice import clock, queue
from formservice.models._types import utcnow

PAST = datetime(2021, 3, 4, 9, 30, tzinfo=UTC)


def test_travel_sets_now_and_the_models_defaults_and_restores_them():
    before = clock.now()
    with clock.travel(PAST):
        assert clock.now() == PAST
        assert utcnow() == PAST  # created_at, audit and outbox timestamps follow the clock
        with clock.travel(PAST + timedelta(days=1)):
            assert clock.now() == PAST + timedelta(days=1)
        assert clock.now() == PAST
    assert abs(clock.now() - before) < timedelta(minutes=1)


def test_travel_keeps_utc_and_refuses_a_naive_moment():
    local = datetime(2021, 3, 4, 10, 30, tzinfo=timezone(timedelta(hours=1)))
    with clock.travel(local):
        assert clock.now() == PAST and clock.now().tzinfo == UTC
    with pytest.raises(ValueError), clock.travel(datetime(2021, 3, 4)):
        pass


def test_a_held_queue_queues_nothing_and_says_so():
    with queue.held():  # no app, no Redis: nothing is asked of either
        assert queue.enqueue_deliveries([1, 2]) is False
        assert queue.enqueue_job("worker.jobs.build_digest", 1) is False
    assert queue.enqueue_deliveries([]) is True
