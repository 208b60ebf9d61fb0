"""Digest DOCX for 10, 100, 1,000 and 10,000 cases: the DOCX part of the worker's
`build_digest` (gather the cases and figures from PostgreSQL, write digest.docx while the
cases are read, `documents.docx.stream`), against docxtpl rendering the same rows from plain
dicts with no database. Writes docs/performance-digest.svg (time against cases, both, log-log).

    .venv/bin/python -m bench.bench_digest_docx [--sizes 10,100,1000,10000 --repeat 3]

Targets: formservice <= 2 x baseline at 1,000 cases; time grows linearly
(10,000 cases <= 12 x 1,000 cases). Exit status 1 if one is missed.
"""

from __future__ import annotations

import argparse
import sys

from . import _digest, common, svgplot

TARGET_RATIO = 2.0
TARGET_GROWTH = 12.0


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="10,100,1000,10000")
    parser.add_argument("--repeat", type=int, default=3, help="runs per size (10,000: 2)")
    parser.add_argument("--plot", default=str(common.DOCS / "performance-digest.svg"))
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    common.print_machine()
    groups = {f"bench-{n}": n for n in sizes}
    rows = []
    with _digest.digest_database(groups) as (app, _, meetings):
        for group_id, count in groups.items():
            digest_id = _digest.new_digest(app, meetings[group_id])
            repeat = min(args.repeat, 2) if count >= 10_000 else args.repeat
            fs_times, base_times = [], []
            _digest.formservice_docx(app, digest_id)  # warm: imports, template cache
            for n in range(repeat):
                common.log(f"{count} cases: run {n + 1}/{repeat}")
                seconds, (docx, _, found) = common.timed(
                    lambda: _digest.formservice_docx(app, digest_id)  # noqa: B023
                )
                fs_times.append(seconds)
                plain = _digest.plain(app, digest_id)
                seconds, baseline = common.timed(lambda: _digest.baseline_docx(plain))  # noqa: B023
                base_times.append(seconds)
            if found != count:
                raise RuntimeError(f"{group_id}: {found} cases in the digest, {count} seeded")
            rows.append(
                (
                    count,
                    common.median(fs_times),
                    common.median(base_times),
                    len(docx),
                    len(baseline),
                )
            )
    print("\nDigest DOCX (median of runs)")
    print(
        f"{'cases':>7} {'formservice s':>14} {'baseline s':>11} {'ratio':>6} "
        f"{'s per 1,000':>12} {'DOCX bytes':>11}"
    )
    for count, fs, base, size, _ in rows:
        print(
            f"{count:>7,} {fs:>14.3f} {base:>11.3f} {fs / base:>6.2f} "
            f"{fs / count * 1000:>12.3f} {size:>11,}"
        )
    svg = svgplot.loglog(
        {
            "formservice": [(c, fs) for c, fs, _, _, _ in rows],
            "baseline (docxtpl, plain dicts)": [(c, b) for c, _, b, _, _ in rows],
        },
        "Digest DOCX: time against number of cases",
        "cases",
        "seconds",
    )
    with open(args.plot, "w", encoding="utf-8") as out:
        out.write(svg)
    print(f"\nplot written to {args.plot}")
    by_size = {c: (fs, b) for c, fs, b, _, _ in rows}
    verdicts = []
    if 1000 in by_size:
        fs, base = by_size[1000]
        verdicts.append(
            common.Verdict(
                "DOCX at 1,000 cases vs baseline",
                f"{fs / base:.2f} x",
                f"<= {TARGET_RATIO} x",
                fs / base <= TARGET_RATIO,
            )
        )
    if 1000 in by_size and 10_000 in by_size:
        growth = by_size[10_000][0] / by_size[1000][0]
        verdicts.append(
            common.Verdict(
                "DOCX 10,000 cases / 1,000 cases",
                f"{growth:.1f} x",
                f"<= {TARGET_GROWTH:.0f} x",
                growth <= TARGET_GROWTH,
            )
        )
    extra = {
        "rows": [
            dict(
                zip(
                    ("cases", "formservice_s", "baseline_s", "docx_bytes", "baseline_bytes"),
                    r,
                    strict=True,
                )
            )
            for r in rows
        ]
    }
    return common.report(verdicts, "digest_docx", extra)


if __name__ == "__main__":
    sys.exit(main())
