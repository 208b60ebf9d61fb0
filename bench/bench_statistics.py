"""The statistics page /statistik for a group with 10,000 cases and 5,000 meetings (3,000 held
SIP meetings, 2,000 BUS-individ meetings), all in the current half-year: the median server
time over repeated requests, measured in this process with Flask's test client on a warm app
(logged in as the group's secretary, exact figures).

    .venv/bin/python -m bench.bench_statistics [--cases 10000 --sip 3000 --bus-individ 2000
                                                --requests 40]

Target: median <= 200 ms. Exit status 1 if missed.
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
    args = parser.parse_args()
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


if __name__ == "__main__":
    sys.exit(main())
