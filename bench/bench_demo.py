"""`make demo` from a fresh clone (issue 16): the seconds from a fresh virtual environment to
the demo's login page answering with its year loaded, and `formservice demo-data` for one
group-year on an empty database.

    .venv/bin/python -m bench.bench_demo [--source DIR] [--cold] [--keep]

A fresh clone of the committed HEAD of `--source` (this checkout) in a temporary folder. There,
`make demo` itself (`DEMO_ARGS` for free ports): `scripts/bootstrap.sh demo` (the Debian
packages' check, a virtual environment, uv, the project; each step timed), then `formservice
demo`, polled until /logga-in answers. Then, in the same environment, `formservice db upgrade`
and `formservice demo-data --groups 1 --years 1` on an empty SQLite database of their own.
`--cold` gives uv an empty cache of its own, so every package is downloaded as on a new
machine; without it uv's cache is the machine's (its state is printed).

Wall seconds depend on the machine's load (printed); CPU seconds (the processes' own, children
included) much less. Targets: fresh environment to answering <= 60 s; demo-data <= 30 s.
Exit status 1 if missed.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.support.paths import ROOT
from tests.support.ports import free_port
from tests.support.processes import Proc
from tests.support.waiting import answers, wait_for

from . import common

START_TARGET_S = 60.0
DATA_TARGET_S = 30.0


def children_cpu() -> float:
    """User and system CPU seconds of this process's waited-for children so far."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run(args: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, float, str]:
    """Run to the end; (wall seconds, CPU seconds, standard error). Fails on a non-zero exit."""
    cpu, started = children_cpu(), time.monotonic()
    done = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True)
    wall = time.monotonic() - started
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return wall, children_cpu() - cpu, done.stdout + done.stderr


def parents() -> dict[int, int]:
    """pid -> parent pid of every live process."""
    found: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            raw = Path(f"/proc/{entry}/stat").read_text()
            found[int(entry)] = int(raw[raw.rindex(")") + 2 :].split()[1])
    return found


def family_cpu(root: int) -> float:
    """CPU seconds of `root` and every live descendant (make, the demo, its worker and web
    server), with their children that have ended (the bootstrap's)."""
    tree = parents()
    members, frontier = {root}, [root]
    while frontier:
        parent = frontier.pop()
        for pid, ppid in tree.items():
            if ppid == parent and pid not in members:
                members.add(pid)
                frontier.append(pid)
    return common.cpu_seconds(sorted(members))


def stop(make: Proc) -> None:
    """SIGTERM to `formservice demo` (make's child), which stops its web server and worker;
    then make. Signalled together, make would be gone first and the demo killed with it."""
    for pid, ppid in parents().items():
        if ppid == make.pid:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
    with contextlib.suppress(subprocess.TimeoutExpired):
        make.wait(timeout=60)
    make.stop(timeout=10)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--source", type=Path, default=ROOT, help="the repository to clone")
    parser.add_argument("--cold", action="store_true", help="uv with an empty cache")
    parser.add_argument("--keep", action="store_true", help="keep the clone (printed)")
    parser.add_argument("--timeout", type=float, default=600, help="seconds to wait at most")
    args = parser.parse_args()
    common.print_machine()
    folder = Path(tempfile.mkdtemp(prefix="formservice-bench-demo-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FORMSERVICE_", "VIRTUAL_"))}
    env["FORMSERVICE_BOOTSTRAP_TIMES"] = "1"
    uv_cache = Path(env.get("UV_CACHE_DIR", Path.home() / ".cache" / "uv"))
    if args.cold:
        uv_cache = folder / "uv-cache"
        env["UV_CACHE_DIR"] = str(uv_cache)
    print(f"# uv cache: {uv_cache} ({'present' if uv_cache.exists() else 'empty'})")
    figures: dict[str, float] = {}
    try:
        clone = folder / "clone"
        wall, _, _ = run(["git", "clone", "-q", str(args.source), str(clone)], folder, env)
        figures["clone_s"] = wall
        common.log("make demo, until /logga-in answers")
        port, mail_port = free_port(), free_port()
        make = ["make", "-s", "-C", str(clone), "demo"]
        demo_args = f"DEMO_ARGS=--port {port} --mail-port {mail_port}"
        demo = Proc("demo", [*make, demo_args], env, folder)
        started = time.monotonic()
        demo.start()
        try:

            def up() -> bool:
                assert demo.alive(), demo.log_path.read_text(errors="replace")
                return answers(f"http://127.0.0.1:{port}/logga-in", timeout=2)

            wait_for(up, args.timeout, "the demo's login page", interval=0.2)
            figures["make_demo_s"] = time.monotonic() - started
            figures["make_demo_cpu_s"] = family_cpu(demo.pid)
        finally:
            stop(demo)
        said = demo.log_path.read_text(errors="replace")
        for label, ms in re.findall(r"^bootstrap-step (\w+) (\d+) ms$", said, re.M):
            figures[f"bootstrap_{label}_s"] = int(ms) / 1000
        bootstrap = sum(v for k, v in figures.items() if k.startswith("bootstrap_"))
        figures["demo_start_s"] = figures["make_demo_s"] - bootstrap
        loaded = re.search(r"lästes in på (\d+) s", said)
        if loaded:
            figures["demo_year_s"] = float(loaded.group(1))

        common.log("formservice demo-data --groups 1 --years 1 on an empty database")
        data_env = {
            **env,
            "FORMSERVICE_DEMO": "1",
            "FORMSERVICE_INSTANCE_PATH": str(folder / "data-instance"),
        }
        formservice = str(clone / ".venv/bin/formservice")
        run([formservice, "db", "upgrade"], clone, data_env)
        wall, cpu, output = run(
            [formservice, "demo-data", "--groups", "1", "--years", "1"], clone, data_env
        )
        figures["demo_data_s"], figures["demo_data_cpu_s"] = wall, cpu
        line = re.search(r"^Demodata är inläst.*$", output, re.M)
        print(line.group(0) if line else output)
    finally:
        if args.keep:
            print(f"# kept: {folder}")
        else:
            shutil.rmtree(folder, ignore_errors=True)

    fresh = figures["make_demo_s"]
    print()
    for key, value in figures.items():
        print(f"{key:<28} {value:7.1f}")
    verdicts = [
        common.Verdict(
            "make demo: fresh venv to the login page",
            f"{fresh:.1f} s ({figures['make_demo_cpu_s']:.1f} s CPU; "
            f"start after the bootstrap {figures['demo_start_s']:.1f} s)",
            f"<= {START_TARGET_S:.0f} s",
            fresh <= START_TARGET_S,
        ),
        common.Verdict(
            "formservice demo-data, one group-year",
            f"{figures['demo_data_s']:.1f} s ({figures['demo_data_cpu_s']:.1f} s CPU)",
            f"<= {DATA_TARGET_S:.0f} s",
            figures["demo_data_s"] <= DATA_TARGET_S,
        ),
    ]
    return common.report(verdicts, "demo", {"figures": figures, "cold": args.cold})


if __name__ == "__main__":
    sys.exit(main())
