"""GET of the deviation form page, logged in, under `formservice web --workers 2`, against a
bare Flask + WTForms app with a form of the same field count under the same server settings.

    .venv/bin/python -m bench.bench_form_get [--clients 4 --requests 4000 --seconds 10 --rounds 5]

Target: formservice >= 0.5 x baseline requests/s. Exit status 1 if missed.
"""

from __future__ import annotations

import sys

from . import _web, common

TARGET = 0.5


def main() -> int:
    args = _web.arguments(__doc__, requests=4000, seconds=10)
    common.print_machine()
    with _web.both_stacks(args.workers) as (db_url, fs, base):
        fs_cpu = common.CpuProbe(fs.process.pid, db_url)
        sessions = common.Sessions(fs.url)
        base_cpu = common.CpuProbe(base.process.pid)

        def baseline(count, seconds):
            return common.run_load(
                "baseline GET /form",
                base.url,
                lambda c, i: None,
                lambda c, _: c.get("/form").status,
                clients=args.clients,
                count=count,
                seconds=seconds,
                cpu=base_cpu,
            )

        def formservice(count, seconds):
            return common.run_load(
                "formservice GET /avvikelser/ny",
                fs.url,
                sessions,
                lambda c, _: c.get("/avvikelser/ny").status,
                clients=args.clients,
                count=count,
                seconds=seconds,
                cpu=fs_cpu,
            )

        base_runs, fs_runs = _web.rounds(args, baseline, formservice)
    print(f"\nGET of the form page: {args.clients} clients, {args.workers} gunicorn workers")
    _web.table([r for pair in zip(base_runs, fs_runs, strict=True) for r in pair])
    figures = _web.ratios(base_runs, fs_runs)
    _web.print_ratios(figures)
    errors = sum(r.errors for r in base_runs + fs_runs)
    ratio = figures["ratio"]
    verdicts = [
        common.Verdict(
            "form GET req/s vs baseline", f"{ratio:.2f} x", f">= {TARGET} x", ratio >= TARGET
        ),
        common.Verdict("form GET errors", str(errors), "0", errors == 0),
    ]
    return common.report(verdicts, "form_get", figures)


if __name__ == "__main__":
    sys.exit(main())
