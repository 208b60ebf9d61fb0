"""Redis dies while reports are sent, and comes back: nothing is lost, nothing is sent twice."""

from __future__ import annotations

import re
import time

import pytest

pytestmark = pytest.mark.faults

CALM = "E-postaviseringarna går iväg automatiskt"
N = 5


def test_reports_sent_while_redis_is_down_are_delivered_after_it_returns(fresh, reporter):
    stack = fresh
    stack.start_workers(2)
    before_outbox, before_reports = stack.max_id("outbox"), stack.max_id("deviations")

    stack.redis.crash()
    shown = []
    for n in range(N):
        response = reporter.post(f"Remissen besvarades inte i tid, rapport {n + 1}.")
        assert response.status in (302, 303), (response.status, response.text[-1500:])
        match = re.search(r"/avvikelser/(\d+)$", response.location)
        assert match, response.location
        page = reporter.browser.get(f"/avvikelser/{match.group(1)}")
        assert page.status == 200
        assert CALM in page.text, page.text[-3000:]
        shown.append(int(match.group(1)))

    reports = stack.query("SELECT id, state FROM deviations WHERE id > :a", a=before_reports)
    assert sorted(r.id for r in reports) == sorted(shown)
    assert {r.state for r in reports} == {"skickad"}
    rows = stack.outbox(before_outbox)
    assert rows and {r.state for r in rows} == {"pending"}
    assert {r.deviation_id for r in rows} == set(shown)  # every report has its messages

    time.sleep(3)  # the workers and their cron schedulers face the outage for a while
    stack.redis.start()  # same port, empty: every job queued before is gone

    rows = stack.wait_all_sent(before_outbox, 120, expect_rows=len(rows))
    sent = stack.sink.ids()
    assert sorted(sent) == sorted(r.message_id for r in rows), stack.sink.summary()
    assert all(count == 1 for count in sent.values()), f"duplicates: {sent}"
