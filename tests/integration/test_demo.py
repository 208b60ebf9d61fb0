"""`formservice demo`: a living year at once (issue 16) — signed in from the login page, the
secretary sees lists, overdue reports, failed deliveries, statistics and a compiled digest — and
a service manager or a closed terminal stops it: nothing is left behind."""

from __future__ import annotations

import http.cookiejar
import json
import os
import re
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from tests.support.ports import free_port
from tests.support.stack import formservice_command
from tests.support.waiting import answers, wait_for

pytestmark = pytest.mark.slow


def _stat(pid: int) -> tuple[int, str] | None:
    """(parent pid, start time) of a live process; None when it is gone or a zombie."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = raw[raw.rindex(")") + 2 :].split()  # after "pid (name) "
    state, ppid, started = fields[0], int(fields[1]), fields[19]
    return None if state in ("Z", "X") else (ppid, started)


def _processes() -> dict[int, tuple[int, str]]:
    found = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit() and (stat := _stat(int(entry))) is not None:
            found[int(entry)] = stat
    return found


def family(root: int, instance: Path) -> dict[int, str]:
    """Every descendant of `root`, and every process working in the instance folder (the
    embedded Redis daemonizes): pid -> start time, so a reused pid is not taken for it."""
    processes = _processes()
    members, frontier = {}, [root]
    while frontier:
        parent = frontier.pop()
        for pid, (ppid, started) in processes.items():
            if ppid == parent and pid not in members:
                members[pid] = started
                frontier.append(pid)
    for pid, (_, started) in processes.items():
        try:
            if Path(os.readlink(f"/proc/{pid}/cwd")) == instance:
                members[pid] = started
        except OSError:
            continue
    members.pop(os.getpid(), None)
    return members


def alive(members: dict[int, str]) -> dict[int, str]:
    return {
        pid: started
        for pid, started in members.items()
        if (stat := _stat(pid)) is not None and stat[1] == started
    }


def port_free(port: int) -> bool:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def wait_until_answering(url: str, demo: subprocess.Popen, seconds: float = 300) -> None:
    def up() -> bool:
        assert demo.poll() is None, "the demo stopped before it answered"
        return answers(url, timeout=2)

    wait_for(up, seconds, f"{url} to answer", interval=0.5)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP], ids=["SIGTERM", "SIGHUP"])
def test_a_stopped_demo_leaves_no_process_and_frees_its_ports(tmp_path, signum):
    instance = (tmp_path / "instance").resolve()
    port, mail_port = free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("FORMSERVICE_")}
    env["FORMSERVICE_INSTANCE_PATH"] = str(instance)
    command = [*formservice_command(), "demo", "--port", str(port), "--mail-port", str(mail_port)]
    with open(tmp_path / "demo.log", "wb") as log:
        demo = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    members: dict[int, str] = {}
    try:
        wait_until_answering(f"http://127.0.0.1:{port}/logga-in", demo)
        members = family(demo.pid, instance)
        assert len(members) >= 3  # the worker, gunicorn's master and its worker at least
        demo.send_signal(signum)
        demo.wait(timeout=60)
        deadline = time.monotonic() + 10  # the last ones may still be on their way out
        while alive(members) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert alive(members) == {}, (tmp_path / "demo.log").read_text(errors="replace")
        assert port_free(port) and port_free(mail_port)
    finally:
        if demo.poll() is None:
            demo.kill()
            demo.wait()
        for pid in alive(members):  # only the processes this test started
            os.kill(pid, signal.SIGKILL)


class Browser:
    """Requests with one cookie jar and the Referer a browser sends, as a person would."""

    def __init__(self, base: str) -> None:
        self.base = base
        jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))

    def get(self, path: str) -> str:
        with self.opener.open(self.base + path, timeout=30) as response:
            return response.read().decode()

    def get_bytes(self, path: str) -> bytes:
        with self.opener.open(self.base + path, timeout=60) as response:
            return response.read()

    def post(self, path: str, data: dict[str, str]) -> str:
        request = urllib.request.Request(
            self.base + path,
            data=urllib.parse.urlencode(data).encode(),
            headers={"Referer": self.base + "/logga-in"},
        )
        with self.opener.open(request, timeout=30) as response:
            return response.geturl()


def sign_in_as(browser: Browser, name: str) -> str:
    """Press "Logga in som NAME" on the login page; where the browser lands."""
    page = browser.get("/logga-in")
    form = re.search(
        r'<form method="post" action="([^"]+)">\s*<input type="hidden" name="csrf_token" '
        rf'value="([^"]+)">\s*<button type="submit" class="button">Logga in som {name}</button>',
        page,
    )
    assert form, "no demo button for " + name
    return browser.post(form.group(1), {"csrf_token": form.group(2)})


def compiled_digest(browser: Browser, seconds: float = 300) -> str:
    """The address of the digest the demo's worker compiles for the latest meeting, once done."""
    meetings = set(re.findall(r"/styrgrupp/moten/(\d+)", browser.get("/styrgrupp")))
    found = [
        digest
        for meeting in meetings
        for digest in re.findall(
            r"/styrgrupp/sammanstallningar/(\d+)", browser.get(f"/styrgrupp/moten/{meeting}")
        )
    ]
    assert found, "no digest was requested"
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        status = json.loads(browser.get(f"/styrgrupp/sammanstallningar/{found[0]}/status"))
        assert status["state"] != "failed", status
        if status["state"] == "done":
            return f"/styrgrupp/sammanstallningar/{found[0]}"
        time.sleep(2)
    raise AssertionError(f"the digest was not compiled within {seconds} s: {status}")


def test_the_demo_shows_a_living_year(tmp_path):
    instance = (tmp_path / "instance").resolve()
    port, mail_port = free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("FORMSERVICE_")}
    env["FORMSERVICE_INSTANCE_PATH"] = str(instance)
    command = [*formservice_command(), "demo", "--port", str(port), "--mail-port", str(mail_port)]
    started = time.monotonic()
    with open(tmp_path / "demo.log", "wb") as log:
        demo = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    members: dict[int, str] = {}
    try:
        base = f"http://127.0.0.1:{port}"
        wait_until_answering(base + "/logga-in", demo)
        members = family(demo.pid, instance)
        output = (tmp_path / "demo.log").read_text(errors="replace")
        assert "Ett års ärenden lästes in" in output, output
        print(f"the demo answered after {time.monotonic() - started:.0f} s")

        secretary = Browser(base)
        assert sign_in_as(secretary, "Sam Prevent").endswith("/avvikelser")
        reports = secretary.get("/avvikelser")
        assert len(set(re.findall(r"BUS-\d{4}-\d{4}", reports))) >= 20
        assert "Obesvarad" in reports  # overdue reports
        assert "Försök igen" in reports  # failed deliveries
        statistics = secretary.get("/statistik?grupp=skarpnack")
        assert "<svg" in statistics
        assert re.search(r"<td[^>]*>\s*[1-9]\d*\s*</td>", statistics), "only zeros"
        digest = compiled_digest(secretary)
        assert secretary.get_bytes(digest + "/sammanstallning.pdf").startswith(b"%PDF")

        chef = Browser(base)
        assert "/avvikelser" in sign_in_as(chef, "Ines Sved")
        assert re.search(r"BUS-\d{4}-\d{4}", chef.get("/avvikelser"))
    finally:
        if demo.poll() is None:
            demo.send_signal(signal.SIGTERM)
            try:
                demo.wait(timeout=60)
            except subprocess.TimeoutExpired:
                demo.kill()
                demo.wait()
        deadline = time.monotonic() + 10
        while alive(members) and time.monotonic() < deadline:
            time.sleep(0.2)
        for pid in alive(members):  # only the processes this test started
            os.kill(pid, signal.SIGKILL)
