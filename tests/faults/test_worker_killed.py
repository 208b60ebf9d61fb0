"""A worker is killed with SIGKILL: mid-delivery, and mid-compilation of a digest."""

from __future__ import annotations

import time
from datetime import date, timedelta

import pytest

from tests.support.waiting import wait_for

from .stack import fake_soffice, kill_recorded, pid_with_local_port

pytestmark = pytest.mark.faults


def test_worker_killed_inside_an_smtp_conversation(fresh, reporter):
    """The sink stalls the first message before its verdict; the worker in that conversation
    is killed; the other worker sends the row once the claim lapses. Nothing twice."""
    stack = fresh
    stack.sink.stall_first = 4.0
    workers = stack.start_workers(2)
    before = stack.max_id("outbox")
    response = reporter.post()
    assert response.status in (302, 303), response.status

    assert stack.sink.stalled.wait(30), f"no delivery reached the sink\n{stack.logs()}"
    peer_port = stack.sink.stalled_peer[1]
    owner = pid_with_local_port(peer_port, [w.pid for w in workers])
    assert owner is not None, f"no worker owns the SMTP connection from port {peer_port}"
    victim = next(w for w in workers if w.pid == owner)
    survivor = next(w for w in workers if w is not victim)
    time.sleep(0.5)  # well inside the stall: the sink has not answered DATA yet
    victim.kill()
    killed_at = time.monotonic()

    row = stack.query(
        "SELECT id, state, attempts FROM outbox WHERE message_id = :m",
        m=stack.sink.stalled_message_id,
    )[0]
    assert (row.state, row.attempts) == ("sending", 1)  # claimed by the dead worker

    rows = stack.wait_all_sent(before, 60)
    assert survivor.alive()
    assert stack.sink.aborted == [stack.sink.stalled_message_id], stack.sink.summary()
    again = next(r for r in rows if r.id == row.id)
    assert again.attempts == 2  # the survivor claimed it once the claim had lapsed
    assert time.monotonic() - killed_at >= 4  # not before the 5 s claim ran out

    sent = stack.sink.ids()
    assert sorted(sent) == sorted(r.message_id for r in rows), stack.sink.summary()
    duplicates = {m: n for m, n in sent.items() if n > 1}
    assert not duplicates, f"delivered more than once: {duplicates}"


def _meeting_with_cases(stack) -> int:
    """A steering-group meeting of Skarpnäck with two sent reports, made in-process."""
    from formservice.extensions import db
    from formservice.models import GroupMeeting
    from formservice.services import deviations as deviations_service
    from tests.integration.helpers import CHEF_A, SECRETARY, report_input, user

    with stack.app.app_context():
        for _ in range(2):
            deviations_service.save(user(CHEF_A), report_input(event_date=date.today()), send=True)
        meeting = GroupMeeting(
            group_id="skarpnack",
            meeting_date=date.today() + timedelta(days=7),
            place="Stadsdelshuset",
            created_by_id=user(SECRETARY).id,
        )
        db.session.add(meeting)
        db.session.commit()
        meeting_id = meeting.id
        db.session.remove()
    return meeting_id


def request_digest(stack, meeting_id: int) -> int:
    """What the secretary's button does: a new Digest row and its job on the queue."""
    from formservice.extensions import db
    from formservice.models import GroupMeeting
    from formservice.services import digest as digest_service
    from tests.integration.helpers import SECRETARY, user

    with stack.app.app_context():
        digest = digest_service.request(db.session.get(GroupMeeting, meeting_id), user(SECRETARY))
        digest_id = digest.id
        db.session.remove()
    return digest_id


def digest_row(stack, digest_id: int):
    return stack.query(
        "SELECT id, state, progress, step, step_args, error, error_args, docx_file_id, pdf_file_id"
        " FROM digests WHERE id = :i",
        i=digest_id,
    )[0]


def wait_digest(stack, digest_id: int, state: str, seconds: float):
    def reached():
        row = digest_row(stack, digest_id)
        return row if row.state in (state, "failed", "done") else None

    row = wait_for(reached, seconds, f"digest {digest_id} to be {state}", 0.3, stack.logs)
    assert row.state == state, row
    return row


def test_worker_killed_while_compiling_a_digest(fresh):
    stack = fresh
    marker = stack.log_dir / "slow-soffice.pid"
    marker.unlink(missing_ok=True)
    slow = fake_soffice(stack.log_dir / "slow-soffice", marker, seconds=60)
    meeting_id = _meeting_with_cases(stack)
    files_before = stack.max_id("stored_files")
    try:
        victim = stack.start_worker(FORMSERVICE_SOFFICE=str(slow))
        first = request_digest(stack, meeting_id)
        wait_for(marker.exists, 30, "the worker to start LibreOffice", on_fail=stack.logs)
        victim.kill()
        row = digest_row(stack, first)
        assert row.state == "running" and row.step == "converting", row  # "Gör PDF med LibreOffice"
        assert (row.docx_file_id, row.pdf_file_id) == (None, None), row  # not half stored
        assert stack.max_id("stored_files") == files_before  # no file stored on the way
    finally:
        kill_recorded(marker)  # LibreOffice runs in a session of its own: not in the group

    stack.start_worker()  # the real LibreOffice
    second = request_digest(stack, meeting_id)
    row = wait_digest(stack, second, "done", 90)
    assert row.docx_file_id is not None and row.pdf_file_id is not None
    for digest_id in (first, second):
        row = digest_row(stack, digest_id)
        assert (row.docx_file_id is None) == (row.pdf_file_id is None), row
