"""Subprocesses that never outlive the run.

Every subprocess runs in its own process group, with its output in a log file. Groups are
killed on `stop()`, at interpreter exit, on SIGTERM/SIGHUP to this process, and — should this
process be killed with SIGKILL — by a small reaper process that watches its pid (and then
also drops the database and removes the folder named in `REAPER_EXTRA`).
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import FrameType

from .paths import ROOT

_LIVE: dict[int, Proc] = {}  # pgid -> process
_REAPER: subprocess.Popen | None = None
_REAPER_FILE: Path | None = None
_HANDLERS_INSTALLED = False

#: What the reaper removes besides the process groups: {"database", "admin_url", "directory"}.
REAPER_EXTRA: dict[str, str] = {}

_REAPER_CODE = r"""
import json, os, shutil, signal, sys, time
parent, path = int(sys.argv[1]), sys.argv[2]
while True:
    try:
        os.kill(parent, 0)
    except ProcessLookupError:
        break
    time.sleep(1)
try:
    state = json.load(open(path))
    os.remove(path)
except (OSError, ValueError):
    state = {}
for pgid in state.get("pgids", []):
    try:
        os.killpg(pgid, signal.SIGKILL)
    except OSError:
        pass
if state.get("database"):
    from sqlalchemy import create_engine, text

    admin = create_engine(state["admin_url"], isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text('DROP DATABASE IF EXISTS "%s" WITH (FORCE)' % state["database"]))
if state.get("directory"):
    shutil.rmtree(state["directory"], ignore_errors=True)
"""


def _die_with_parent() -> None:
    """In the child: SIGKILL when the thread that started it goes away (Linux prctl)."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


def _write_reaper_file() -> None:
    if _REAPER_FILE is not None:
        _REAPER_FILE.write_text(json.dumps({"pgids": list(_LIVE), **REAPER_EXTRA}))


def _ensure_safety_nets() -> None:
    """atexit, SIGTERM/SIGHUP handlers and the reaper: no process group outlives the run."""
    global _REAPER, _REAPER_FILE, _HANDLERS_INSTALLED
    if not _HANDLERS_INSTALLED:
        atexit.register(kill_all)
        for signum in (signal.SIGTERM, signal.SIGHUP):
            previous = signal.getsignal(signum)

            def handler(number: int, frame: FrameType | None, previous: object = previous) -> None:
                kill_all()
                if callable(previous):
                    previous(number, frame)
                else:
                    raise KeyboardInterrupt

            signal.signal(signum, handler)
        _HANDLERS_INSTALLED = True
    if _REAPER is None or _REAPER.poll() is not None:
        if _REAPER_FILE is None:  # not in a log folder: those go before the run ends
            handle, name = tempfile.mkstemp(prefix="formservice-process-groups-")
            os.close(handle)
            _REAPER_FILE = Path(name)
        _write_reaper_file()
        _REAPER = subprocess.Popen(
            [sys.executable, "-c", _REAPER_CODE, str(os.getpid()), str(_REAPER_FILE)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )


def stop_reaper() -> None:
    """End the reaper (the run cleaned up after itself) and forget what it would remove."""
    global _REAPER, _REAPER_FILE
    REAPER_EXTRA.clear()
    _write_reaper_file()
    if _REAPER is not None and _REAPER.poll() is None:
        _REAPER.kill()
        _REAPER.wait(timeout=5)
    _REAPER = None
    if _REAPER_FILE is not None:
        _REAPER_FILE.unlink(missing_ok=True)
        _REAPER_FILE = None


def stop_all(procs: list[Proc], timeout: float = 15) -> None:
    """Stop several at once: SIGTERM to every group first (they shut down side by side),
    then SIGKILL whatever is left of each after `timeout`."""
    running = [p for p in procs if p.popen is not None and p.popen.poll() is None]
    for proc in running:
        proc.signal_group(signal.SIGTERM)
    deadline = time.monotonic() + timeout
    for proc in running:
        assert proc.popen is not None
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.popen.wait(timeout=max(0.0, deadline - time.monotonic()))
    for proc in procs:
        proc.kill()  # a group may hold children even after its leader exited


def kill_all() -> None:
    """SIGKILL every process group still registered (used by the safety nets)."""
    for proc in list(_LIVE.values()):
        proc.kill()


class Proc:
    """One subprocess in its own process group, with its output in `log_dir/NAME.log`."""

    def __init__(self, name: str, args: list[str], env: dict[str, str], log_dir: Path) -> None:
        self.name, self.args, self.env, self.log_dir = name, args, env, log_dir
        self.log_path = log_dir / f"{name}.log"
        self.popen: subprocess.Popen | None = None

    def start(self) -> Proc:
        """Start it (appending to its log); registered with the safety nets."""
        _ensure_safety_nets()
        log = self.log_path.open("a")
        log.write(f"===== start {time.strftime('%H:%M:%S')}: {' '.join(self.args)}\n")
        log.flush()
        self.popen = subprocess.Popen(
            self.args,
            env=self.env,
            cwd=ROOT,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=_die_with_parent,
        )
        log.close()
        _LIVE[self.popen.pid] = self
        _write_reaper_file()
        return self

    @property
    def pid(self) -> int:
        assert self.popen is not None
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def wait(self, timeout: float | None = None) -> int:
        """Wait for it to exit; its exit status."""
        assert self.popen is not None
        return self.popen.wait(timeout=timeout)

    def signal_group(self, signum: int) -> None:
        """Send `signum` to every process of the group."""
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.pid, signum)

    def _forget(self) -> None:
        if self.popen is not None:
            _LIVE.pop(self.popen.pid, None)
            _write_reaper_file()

    def kill(self) -> None:
        """SIGKILL the whole process group (a crash, or the last resort)."""
        if self.popen is None:
            return
        self.signal_group(signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.popen.wait(timeout=10)
        self._forget()

    def stop(self, timeout: float = 15) -> None:
        """SIGTERM the group, then SIGKILL whatever is left after `timeout`."""
        stop_all([self], timeout)

    def group_pids(self) -> list[int]:
        """Every live process in this process group."""
        pids = []
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                if os.getpgid(int(entry)) == self.pid:
                    pids.append(int(entry))
            except (ProcessLookupError, PermissionError):
                continue
        return pids

    def tail(self, chars: int = 4000) -> str:
        """The end of its log."""
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return ""


def logs(log_dir: Path, chars: int = 4000) -> str:
    """The tail of every log in `log_dir`, for a failure's report."""
    parts = []
    for log in sorted(log_dir.glob("*.log")):
        with contextlib.suppress(OSError):
            parts.append(f"----- {log.name} -----\n{log.read_text(errors='replace')[-chars:]}")
    return "\n".join(parts)
