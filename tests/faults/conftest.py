"""Fault injection against the real stack: gunicorn, two RQ workers, a private Redis,
PostgreSQL (a fresh database, the web behind a TCP proxy) and an aiosmtpd sink."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

from tests.integration.helpers import CHEF_A, SECRETARY
from tests.support.accounts import PASSWORD
from tests.support.http import Client, deviation_fields
from tests.support.processes import stop_reaper

from .stack import Stack

PEOPLE = [CHEF_A, SECRETARY]


@pytest.fixture(scope="session")
def stack():
    # Not under pytest's basetemp: concurrent pytest runs prune old basetemp folders.
    log_dir = Path(tempfile.mkdtemp(prefix="formservice-faults-"))
    live = Stack(log_dir)
    try:
        live.start(PEOPLE)
        yield live
    finally:
        live.close()
        stop_reaper()
        if os.environ.get("FORMSERVICE_FAULTS_KEEP_LOGS"):
            print(f"fault stack logs kept in {log_dir}")
        else:
            shutil.rmtree(log_dir, ignore_errors=True)


@pytest.fixture
def fresh(stack):
    """Per test: Redis up and empty, sink accepting and empty, proxy up, no workers running;
    afterwards every worker this test started is stopped (process group killed)."""
    stack.begin_test()
    try:
        yield stack
    finally:
        stack.stop_workers()
        if stack.proxy._listener is None:
            stack.proxy.up()


class Reporter:
    """Chef A in a browser-like client: log in once, post deviation reports."""

    def __init__(self, stack: Stack) -> None:
        self.browser = Client(stack.base_url)
        self.browser.login(CHEF_A, PASSWORD)
        self.token = self.csrf()

    def csrf(self) -> str:
        page = self.browser.get("/avvikelser/ny")
        assert page.status == 200, page.status
        return Client.csrf(page.text)

    def post(self, description: str = "Remissen besvarades inte inom överenskommen tid."):
        return self.browser.post("/avvikelser/ny", deviation_fields(self.token, description))


@pytest.fixture
def reporter(fresh):
    return Reporter(fresh)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """A failed fault test shows the tail of every process log and what the sink saw."""
    report = yield
    live = item.funcargs.get("stack") if hasattr(item, "funcargs") else None
    if report.failed and isinstance(live, Stack):
        report.sections.append(("fault stack logs", live.logs()))
    return report
