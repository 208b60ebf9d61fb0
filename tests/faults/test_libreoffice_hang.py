"""LibreOffice hangs: the digest fails within FORMSERVICE_SOFFICE_TIMEOUT, with a reason."""

from __future__ import annotations

import json
import time

import pytest

from tests.support.waiting import wait_for

from .stack import fake_soffice, kill_recorded
from .test_worker_killed import _meeting_with_cases, digest_row, request_digest, wait_digest

pytestmark = pytest.mark.faults


def test_hanging_libreoffice_fails_the_digest_with_a_reason_and_a_retry_succeeds(fresh):
    stack = fresh
    marker = stack.log_dir / "hanging-soffice.pid"
    marker.unlink(missing_ok=True)
    hanging = fake_soffice(stack.log_dir / "hanging-soffice", marker, seconds=600)
    meeting_id = _meeting_with_cases(stack)
    try:
        stuck = stack.start_worker(
            FORMSERVICE_SOFFICE=str(hanging), FORMSERVICE_SOFFICE_TIMEOUT="3"
        )
        first = request_digest(stack, meeting_id)
        wait_for(marker.exists, 30, "the worker to start LibreOffice", on_fail=stack.logs)
        started = time.monotonic()
        row = wait_digest(stack, first, "failed", 20)
        assert time.monotonic() - started < 10  # the 3 s limit, not a built-in one
        # "LibreOffice svarade inte inom 3 sekunder." as the page renders it
        args = row.error_args if isinstance(row.error_args, dict) else json.loads(row.error_args)
        assert (row.error, args) == ("conversion_timeout", {"seconds": 3}), row
        assert (row.docx_file_id, row.pdf_file_id) == (None, None)
        pid = int(marker.read_text())
        wait_for(lambda: not _alive(pid), 5, "the hanging LibreOffice to be killed")
        assert stuck.alive()  # the worker survives a failed job
    finally:
        kill_recorded(marker)
    stack.stop_workers()

    stack.start_worker()  # the real LibreOffice
    second = request_digest(stack, meeting_id)  # "Försök igen": asking again
    row = wait_digest(stack, second, "done", 90)
    assert row.docx_file_id is not None and row.pdf_file_id is not None and row.error is None
    assert digest_row(stack, first).state == "failed"


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split()[2] != "Z"
    except OSError:
        return False
