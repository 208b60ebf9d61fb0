"""The statistics page /statistik for a group with 10,000 cases and 5,000 meetings (3,000 held
SIP meetings, 2,000 BUS-individ meetings), all in the current half-year: the median server
time over repeated requests, measured in this process with Flask's test client on a warm app
(logged in as the group's secretary, exact figures).

    .venv/bin/python -m bench.bench_statistics [--cases 10000 --sip 3000 --bus-individ 2000
                                                --requests 40]

With --county, instead: the county of the long lists (bench_lists' seeding: --groups groups,
each with --county-cases deviations, --county-sip SIP meetings and --county-bus-individ
BUS-individ records a year, for --years years; 100 x 10 by default, 100,000 deviations), read
by the BUS-sekretariat across all groups: the statistics page, the yearly follow-up, the
yearly compilation of every group and its CSV, this year (CPU per request beside the time).

    .venv/bin/python -m bench.bench_statistics --county [--groups 100 --years 10]

Target: median <= 200 ms (each page with --county). Exit status 1 if missed.
"""

from __future__ import annotations

import argparse
import sys
import time

from tests.support import seed
from tests.support.http import csrf_token

from . import common

TARGET_MS = 200.0


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--cases", type=int, default=10_000)
    parser.add_argument("--sip", type=int, default=3_000)
    parser.add_argument("--bus-individ", type=int, default=2_000)
    parser.add_argument("--requests", type=int, default=40)
    parser.add_argument("--county", action="store_true", help="all groups, as the secretariat")
    parser.add_argument("--groups", type=int, default=100, help="with --county")
    parser.add_argument("--years", type=int, default=10, help="with --county")
    parser.add_argument("--county-cases", type=int, default=100, help="a group's, a year")
    parser.add_argument("--county-sip", type=int, default=50, help="a group's, a year")
    parser.add_argument("--county-bus-individ", type=int, default=20, help="a group's, a year")
    args = parser.parse_args()
    if args.county:
        return county(args)
    common.print_machine()
    common.flush_redis()
    group = "bench-stat"
    with common.database() as db_url:
        app = common.make_app(db_url)
        from sqlalchemy import event

        from formservice.extensions import db

        with app.app_context():
            common.log(
                f"seeding {args.cases} cases, {args.sip} SIP and {args.bus_individ} "
                "BUS-individ meetings"
            )
            seed.add_group(group, "Lokal BUS statistik")
            seed.seed_cases(group, args.cases, prefix="S")
            seed.seed_meetings(group, args.sip, args.bus_individ)
        with app.app_context():
            conn = db.engine.connect()
            conn.exec_driver_sql("ANALYZE")
            conn.close()
            engine = db.engine
        queries = [0]
        event.listen(
            engine, "before_cursor_execute", lambda *a: queries.__setitem__(0, queries[0] + 1)
        )
        client = app.test_client()
        page = client.get("/logga-in").data
        response = client.post(
            "/logga-in",
            data={
                "email": common.SECRETARY,
                "password": common.PASSWORD,
                "csrf_token": csrf_token(page),
            },
        )
        assert response.status_code == 302, response.status_code
        path = f"/statistik?grupp={group}"
        for _ in range(5):  # warm: templates, statement caches, PostgreSQL's buffers
            response = client.get(path)
            assert response.status_code == 200, response.status_code
        body = response.get_data(as_text=True)
        if f"{args.cases:,}".replace(",", " ") not in body and str(args.cases) not in body:
            common.log("note: the case total was not found verbatim on the page")
        times = []
        queries[0] = 0
        for _ in range(args.requests):
            t0 = time.perf_counter()
            response = client.get(path)
            times.append((time.perf_counter() - t0) * 1000)
            assert response.status_code == 200
        per_request = queries[0] / args.requests
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
    common.flush_redis()
    med = common.median(times)
    print(
        f"\nGET {path}: {args.cases:,} cases, {args.sip:,} SIP + {args.bus_individ:,} "
        f"BUS-individ meetings, {args.requests} requests, {per_request:.0f} queries each"
    )
    print(
        f"median {med:.1f} ms, p90 {common.percentile(times, 90):.1f} ms, "
        f"min {min(times):.1f} ms, max {max(times):.1f} ms"
    )
    verdicts = [
        common.Verdict(
            "statistics page, median server time",
            f"{med:.1f} ms",
            f"<= {TARGET_MS:.0f} ms",
            med <= TARGET_MS,
        )
    ]
    return common.report(
        verdicts, "statistics", {"median_ms": med, "queries": per_request, "times_ms": times}
    )


def county(args: argparse.Namespace) -> int:
    """The secretariat's statistics across every group of a county decade (bench_lists'
    seeding, one phase a year)."""
    from datetime import date

    from . import bench_lists

    common.print_machine()
    common.flush_redis()
    groups = [f"bench-{n:03d}" for n in range(args.groups)]
    seeding = argparse.Namespace(
        cases=args.county_cases, sip=args.county_sip, bus_individ=args.county_bus_individ, years=1
    )
    year = date.today().year
    plan = [
        ("statistics page, all groups", "secretariat", "/statistik?grupp=alla"),
        ("yearly follow-up, all groups", "secretariat", f"/statistik/ar/{year}?grupp=alla"),
        ("yearly compilation, every group", "secretariat", f"/statistik/ar/{year}/alla"),
        ("yearly compilation CSV", "secretariat", f"/statistik/ar/{year}/alla.csv"),
    ]
    with common.database() as db_url:
        app = common.make_app(db_url)
        with app.app_context():
            from formservice.services.accounts import set_password

            set_password(seed.person(bench_lists.SECRETARIAT), common.PASSWORD)
        t0 = time.perf_counter()
        for phase in range(args.years):
            bench_lists.seed_data(app, seeding, phase, groups)
            common.log(
                f"year {phase + 1} of {args.years} seeded after {time.perf_counter() - t0:.0f} s"
            )
        sizes = bench_lists.counts(app) | {"seed_s": round(time.perf_counter() - t0, 1)}
        clients = {"secretariat": bench_lists.login(app, bench_lists.SECRETARIAT)}
        results = bench_lists.measure(app, db_url, clients, plan, args.requests)
        from formservice.extensions import db

        with app.app_context():
            db.session.remove()
            db.engine.dispose()
    common.flush_redis()
    print("# " + ", ".join(f"{k} {v:,}" for k, v in sizes.items()))
    print(f"\n{'page':<48} {'median ms':>9} {'p90 ms':>7} {'cpu ms':>7} {'KiB':>6} {'queries':>7}")
    verdicts = []
    for name, r in results.items():
        print(
            f"{name:<48} {r['median_ms']:9.1f} {r['p90_ms']:7.1f} {r['cpu_ms']:7.1f} "
            f"{r['kib']:6.1f} {r['queries']:7.0f}"
        )
        verdicts.append(
            common.Verdict(
                f"{name}: median",
                f"{r['median_ms']:.1f} ms",
                f"<= {TARGET_MS:.0f} ms",
                r["median_ms"] <= TARGET_MS,
            )
        )
    return common.report(verdicts, "statistics_county", {"sizes": sizes, "runs": results})


if __name__ == "__main__":
    sys.exit(main())
