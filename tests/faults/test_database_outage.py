"""The database goes away under the web (a proxy cuts and refuses connections) and returns."""

from __future__ import annotations

import time

import pytest

pytestmark = pytest.mark.faults

UNAVAILABLE = "Tjänsten är tillfälligt otillgänglig"
OUTAGE_SECONDS = 4


def test_database_outage_gives_a_calm_503_and_never_half_a_report(fresh, reporter):
    stack = fresh
    stack.start_workers(2)
    before_reports, before_outbox = stack.max_id("deviations"), stack.max_id("outbox")
    outcomes: list[tuple[str, int]] = []  # (phase, HTTP status)

    def post(phase: str, n: int):
        response = reporter.post(f"Remissen besvarades inte i tid, {phase} {n}.")
        outcomes.append((phase, response.status))
        return response

    for n in range(2):
        assert post("före", n).status in (302, 303)

    stack.proxy.down()  # open connections cut, new ones refused
    end = time.monotonic() + OUTAGE_SECONDS
    n = 0
    while time.monotonic() < end or n < 3:
        response = post("under", n)
        n += 1
        assert response.status == 503, (response.status, response.text[-2000:])
        assert UNAVAILABLE in response.text
        assert "Inget har sparats" in response.text
        assert "Traceback" not in response.text
        time.sleep(0.3)
    during = n
    stack.proxy.up()

    for n in range(3):
        response = post("efter", n)
        assert response.status in (302, 303), (response.status, response.text[-2000:])
    page = reporter.browser.get(response.location.removeprefix(stack.base_url))
    assert page.status == 200 and UNAVAILABLE not in page.text

    successes = sum(1 for _, status in outcomes if status in (302, 303))
    assert during >= 3 and successes == 5, outcomes
    reports = stack.query(
        "SELECT d.id, d.state, count(o.id) AS messages FROM deviations d"
        " LEFT JOIN outbox o ON o.deviation_id = d.id WHERE d.id > :a GROUP BY d.id, d.state",
        a=before_reports,
    )
    assert len(reports) == successes, reports  # nothing stored for a 503
    assert {r.state for r in reports} == {"skickad"}
    assert len({r.messages for r in reports}) == 1 and reports[0].messages > 0, reports
    rows = stack.wait_all_sent(before_outbox, 60)
    assert {r.deviation_id for r in rows} == {r.id for r in reports}
    assert sorted(stack.sink.ids()) == sorted(r.message_id for r in rows)
