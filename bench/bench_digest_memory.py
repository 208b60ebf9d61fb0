"""Peak memory of the worker compiling the 10,000-case digest: `formservice worker --burst`
as a child process runs the queued `build_digest` job (DOCX, LibreOffice, attachments, store).
The worker's own peak RSS is read from /proc/<pid>/status (VmHWM) while it runs; LibreOffice,
a separate process, is reported beside it, and so is ru_maxrss from wait4() (the largest of
the worker and the children it waited for).

    .venv/bin/python -m bench.bench_digest_memory [--cases 10000 --attachments 100]

Target: the worker's peak RSS <= 400 MB. Exit status 1 if missed (or if the digest fails).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

from tests.support.stack import formservice_command

from . import _digest, common

TARGET_MB = 400


def status_kb(pid: int, field: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def descendants(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                ppid = int(Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


class Watcher(threading.Thread):
    """Polls the worker's VmHWM and the largest RSS of its descendants (LibreOffice)."""

    def __init__(self, pid: int, kill_above_kb: int) -> None:
        super().__init__(daemon=True)
        self.pid, self.worker_kb, self.children_kb, self.done = pid, 0, 0, False
        self.kill_above_kb, self.killed = kill_above_kb, False
        self.timeline: list[tuple[float, int]] = []

    def run(self) -> None:
        t0 = time.monotonic()
        while not self.done:
            hwm = status_kb(self.pid, "VmHWM")
            if hwm:
                self.worker_kb = max(self.worker_kb, hwm)
                self.timeline.append((time.monotonic() - t0, status_kb(self.pid, "VmRSS")))
            if self.kill_above_kb and hwm > self.kill_above_kb and not self.killed:
                self.killed = True  # the machine is shared: stop before it runs out of memory
                os.kill(self.pid, 9)
            children = descendants(self.pid)
            for child in children:
                self.children_kb = max(self.children_kb, status_kb(child, "VmRSS"))
            time.sleep(0.25)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--cases", type=int, default=10_000)
    parser.add_argument("--attachments", type=int, default=100)
    parser.add_argument(
        "--kill-above-mb",
        type=int,
        default=4000,
        help="stop the worker (SIGKILL) past this RSS, to protect a shared machine; 0: never",
    )
    args = parser.parse_args()
    common.print_machine()
    common.flush_redis()
    group = "bench-memory"
    with (
        _digest.digest_database({group: args.cases}, {group: args.attachments}) as (
            app,
            db_url,
            meetings,
        ),
        common.log_directory("formservice-bench-") as logs,
    ):
        digest_id = _digest.new_digest(app, meetings[group])
        with app.app_context():
            from formservice import queue
            from formservice.services.digest import JOB_TIMEOUT

            assert queue.enqueue_job("worker.jobs.build_digest", digest_id, timeout=JOB_TIMEOUT)
        env = common.subprocess_env(db_url)
        log_path = logs / "worker.log"
        with log_path.open("w") as log:
            worker = subprocess.Popen(
                formservice_command() + ["worker", "--burst"],
                env=env,
                cwd=common.ROOT,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
            watcher = Watcher(worker.pid, args.kill_above_mb * 1024)
            watcher.start()
            common.log(f"worker {worker.pid} compiling the {args.cases}-case digest")
            t0 = time.perf_counter()
            _, status, usage = os.wait4(worker.pid, 0)
            seconds = time.perf_counter() - t0
            watcher.done = True
            watcher.join()
        from formservice.extensions import db
        from formservice.models import Digest

        with app.app_context():
            row = db.session.get(Digest, digest_id)
            assert row is not None
            state, error, step = row.state, row.error, row.step
            pdf_size = row.pdf_file.size if row.pdf_file else 0
            docx_size = row.docx_file.size if row.docx_file else 0
            db.session.rollback()
        if state != "done":
            print(log_path.read_text()[-3000:])
    common.flush_redis()
    worker_mb = watcher.worker_kb / 1024
    if state != "done":
        print(f"digest {state}, last step: {step!r}, error: {error!r}")
    print(
        f"\nDigest of {args.cases} cases with {args.attachments} PDF attachments: {state} "
        f"in {seconds:.0f} s (DOCX {docx_size:,} bytes, PDF {pdf_size:,} bytes)"
    )
    if watcher.killed:
        print(f"worker STOPPED at {args.kill_above_mb} MB (--kill-above-mb): the peak is higher")
    print(f"worker peak RSS (VmHWM):           {worker_mb:8.1f} MB")
    print(f"LibreOffice peak RSS (polled):     {watcher.children_kb / 1024:8.1f} MB")
    print(f"ru_maxrss from wait4 (max of both): {usage.ru_maxrss / 1024:8.1f} MB")
    stride = max(1, len(watcher.timeline) // 20)
    print(
        "worker RSS over time (s: MB): "
        + ", ".join(f"{t:.0f}: {kb / 1024:.0f}" for t, kb in watcher.timeline[::stride])
    )
    verdicts = [
        common.Verdict("digest completed", state, "done", state == "done" and status == 0),
        common.Verdict(
            f"worker peak RSS, {args.cases:,}-case digest",
            f"{worker_mb:.0f} MB",
            f"<= {TARGET_MB} MB",
            worker_mb <= TARGET_MB,
        ),
    ]
    return common.report(
        verdicts,
        "digest_memory",
        {
            "worker_peak_mb": worker_mb,
            "libreoffice_peak_mb": watcher.children_kb / 1024,
            "ru_maxrss_mb": usage.ru_maxrss / 1024,
            "seconds": seconds,
            "error": error,
        },
    )


if __name__ == "__main__":
    sys.exit(main())
