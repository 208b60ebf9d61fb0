"""The mail server misbehaves: temporary refusals, a permanent refusal, no server at all."""

from __future__ import annotations

import time

import pytest

from tests.integration.helpers import SECRETARIAT, SECRETARY
from tests.support.accounts import PASSWORD
from tests.support.http import Client
from tests.support.waiting import wait_for

pytestmark = pytest.mark.faults


def _report(stack, reporter) -> int:
    """Post one report over HTTP; returns the outbox id just before its rows."""
    before = stack.max_id("outbox")
    response = reporter.post()
    assert response.status in (302, 303), (response.status, response.text[-1500:])
    return before


def _assert_once_each(stack, rows) -> None:
    sent = stack.sink.ids()
    assert sorted(sent) == sorted(r.message_id for r in rows), stack.sink.summary()
    assert all(count == 1 for count in sent.values()), f"duplicates: {sent}"


def test_temporary_refusals_then_acceptance(fresh, reporter):
    stack = fresh
    stack.sink.tempfail_times = 2  # each message: "451 Try again later" twice, then 250
    stack.start_workers(2)
    before = _report(stack, reporter)
    rows = stack.wait_all_sent(before, 60)
    assert [r.attempts for r in rows] == [3] * len(rows), [(r.id, r.attempts) for r in rows]
    assert all(stack.sink.offered[r.message_id] == 3 for r in rows)
    _assert_once_each(stack, rows)


def test_permanent_refusal_fails_and_shows_on_the_secretarys_list(fresh, reporter):
    stack = fresh
    refused = SECRETARIAT[0]
    stack.sink.reject_rcpt = {refused}  # 550 for this address, 250 for everyone else
    stack.start_workers(2)
    before = _report(stack, reporter)

    def settled():
        rows = stack.outbox(before)
        return rows if rows and all(r.state in ("sent", "failed") for r in rows) else None

    rows = wait_for(settled, 60, "every row sent or failed", on_fail=stack.logs)
    failed = [r for r in rows if r.state == "failed"]
    assert [(r.to_email, r.attempts) for r in failed] == [(refused, 1)]  # no retry of a 5xx
    assert "550" in failed[0].last_error
    delivered = [r for r in rows if r.state == "sent"]
    _assert_once_each(stack, delivered)

    secretary = Client(stack.base_url)
    secretary.login(SECRETARY, PASSWORD)
    page = secretary.get("/avvikelser")
    assert page.status == 200
    assert "Utskick som inte gått fram" in page.text
    assert refused in page.text
    assert "Försök igen" in page.text


def test_mail_server_down_for_a_while_then_up(fresh, reporter):
    stack = fresh
    stack.sink.stop()  # nothing listens on the SMTP port: connection refused
    stack.start_workers(2)
    before = _report(stack, reporter)

    def all_tried():
        rows = stack.outbox(before)
        return rows if rows and all(r.attempts >= 1 for r in rows) else None

    rows = wait_for(all_tried, 30, "a first attempt at every row", on_fail=stack.logs)
    time.sleep(3)  # down for a while: retries keep failing
    rows = stack.outbox(before)
    assert all(r.state == "pending" for r in rows), rows
    assert all("ConnectionRefusedError" in (r.last_error or "") for r in rows), rows
    stack.sink.start()
    rows = stack.wait_all_sent(before, 60, expect_rows=len(rows))
    assert all(r.attempts > 1 for r in rows)
    _assert_once_each(stack, rows)
