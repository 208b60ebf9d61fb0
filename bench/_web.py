"""What the two web benchmarks share: arguments, rounds of baseline and formservice, the table.

Baseline and formservice run one after the other in short alternating rounds, so that both see
the same machine; the ratio is the median of the per-round ratios. The servers' CPU time per
request (gunicorn processes, and for formservice the PostgreSQL backends of its database) is
shown beside it: it does not depend on what else the machine is doing.
"""

from __future__ import annotations

import argparse
import contextlib

from . import common
from .common import LoadResult, median


def arguments(description: str, requests: int, seconds: float, rounds: int = 5):
    parser = argparse.ArgumentParser(
        description=description, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--clients", type=int, default=4, help="concurrent keep-alive clients")
    parser.add_argument(
        "--requests", type=int, default=requests, help="requests per round, at most"
    )
    parser.add_argument("--seconds", type=float, default=seconds, help="seconds per round, at most")
    parser.add_argument("--rounds", type=int, default=rounds, help="alternating rounds per app")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    return parser.parse_args()


@contextlib.contextmanager
def both_stacks(workers: int):
    """A fresh database prepared with the CLI, `formservice web` and the baseline app."""
    common.flush_redis()
    with common.database() as db_url, common.log_directory("formservice-bench-") as logs:
        env = common.subprocess_env(db_url)
        common.prepare_with_cli(env)
        with (
            common.formservice_web(env, logs, workers) as fs,
            common.baseline_web(logs, workers) as base,
        ):
            try:
                yield db_url, fs, base
            finally:
                common.flush_redis()


def rounds(args, *runs) -> list[list[LoadResult]]:
    """Warm each up, then alternate: baseline, formservice (, floor), baseline, …"""
    common.log("warming up")
    for run in runs:
        run(min(300, args.requests), 3)
    results: list[list[LoadResult]] = [[] for _ in runs]
    for n in range(args.rounds):
        common.log(f"round {n + 1}/{args.rounds}")
        for run, series in zip(runs, results, strict=True):
            series.append(run(args.requests, args.seconds))
    return results


def table(results: list[LoadResult]) -> None:
    print(
        f"{'run':<32} {'requests':>8} {'errors':>6} {'req/s':>8} "
        f"{'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'CPU ms/req':>10}"
    )
    for r in results:
        cpu = r.cpu_ms_per_request
        print(
            f"{r.label:<32} {r.requests:>8} {r.errors:>6} {r.rps:>8.1f} "
            f"{r.pct(50):>8.1f} {r.pct(95):>8.1f} {r.pct(99):>8.1f} "
            f"{'' if cpu is None else f'{cpu:.2f}':>10}"
        )


def ratios(base: list[LoadResult], fs: list[LoadResult]) -> dict[str, float]:
    """Median req/s of each, the median of per-round ratios, and the CPU-cost ratio."""
    per_round = [f.rps / b.rps for b, f in zip(base, fs, strict=True) if b.rps]
    cpu_b = median([r.cpu_ms_per_request for r in base if r.cpu_ms_per_request])
    cpu_f = median([r.cpu_ms_per_request for r in fs if r.cpu_ms_per_request])
    return {
        "baseline_rps": median([r.rps for r in base]),
        "formservice_rps": median([r.rps for r in fs]),
        "ratio": median(per_round),
        "baseline_cpu_ms": cpu_b,
        "formservice_cpu_ms": cpu_f,
        "cpu_ratio": cpu_b / cpu_f if cpu_f else float("nan"),
    }


def print_ratios(figures: dict[str, float]) -> None:
    print(
        f"\nmedian req/s: baseline {figures['baseline_rps']:.1f}, "
        f"formservice {figures['formservice_rps']:.1f}; "
        f"median of per-round ratios {figures['ratio']:.2f}"
    )
    print(
        f"server CPU per request: baseline {figures['baseline_cpu_ms']:.2f} ms, "
        f"formservice {figures['formservice_cpu_ms']:.2f} ms (with its PostgreSQL backends); "
        f"throughput this allows on an idle machine: {figures['cpu_ratio']:.2f} x baseline"
    )


def merged(label: str, results: list[LoadResult]) -> LoadResult:
    return LoadResult(
        label,
        sum(r.requests for r in results),
        sum(r.errors for r in results),
        sum(r.seconds for r in results),
        [x for r in results for x in r.latencies],
    )
