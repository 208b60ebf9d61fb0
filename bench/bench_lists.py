"""The long lists (issue 16): every list page, first page and a filtered page, as the
BUS-sekretariat, the secretary of every group and (for SIP and BUS-individ, which follow the
units) chef A, at a county's size and again at 10 x the data in the same database.

Seeding goes through tests/support/seed.py (groups through the services; cases, SIP and
BUS-individ meetings, group meetings with digests as model objects a chunk per flush): GROUPS
groups, each with CASES deviations sent over the years, SIP SIP meetings and BUS BUS-individ
records, and four steering-group meetings a year. Then the same number again nine times over
(older cases, more meetings), VACUUM ANALYZE (as autovacuum leaves the tables), and the same
pages once more. Server time is measured in this process with Flask's test client on a warm
app (as bench_statistics), PostgreSQL; the CPU each request cost (this process and our
PostgreSQL backends) is shown beside it.

    .venv/bin/python -m bench.bench_lists [--groups 100 --cases 100 --sip 50 --bus-individ 20
                                           --years 1 --requests 15]

Targets: median <= 50 ms and HTML <= 150 KiB per page at the larger size; the larger size's
median <= 1.5 x the smaller's for every page. Exit status 1 if one is missed.
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import UTC, date, datetime, timedelta

from flask import Flask
from sqlalchemy import select

from tests.support import seed
from tests.support.http import csrf_token

from . import common

TARGET_MS, TARGET_KIB, GROWTH = 50.0, 150.0, 1.5
SECRETARIAT = "bus-avvikelser@storsthlm.example"
ROLES = {"secretariat": SECRETARIAT, "secretary": common.SECRETARY, "chef": common.CHEF_A}


def seed_group_meetings(group_id: str, years: int, *, before: date) -> None:
    """Four steering-group meetings a year for `years` years before `before`, the older half
    with a finished digest: model objects through the session, a commit for the lot (as
    tests/support/seed.py writes what is past; services.meetings.plan would send each a
    notice with its calendar event)."""
    from formservice.extensions import db
    from formservice.models import Digest, GroupMeeting

    secretary = seed.person(seed.SECRETARY).id
    now = datetime.now(UTC)
    days = [before - timedelta(days=91 * k + 7) for k in range(4 * years)]
    taken = set(
        db.session.scalars(
            select(GroupMeeting.meeting_date).where(
                GroupMeeting.group_id == group_id, GroupMeeting.meeting_date.in_(days)
            )
        )
    )
    rows = [
        GroupMeeting(
            group_id=group_id,
            meeting_date=day,
            place="Stadsdelshuset",
            created_by_id=secretary,
            created_at=now,
        )
        for day in days
        if day not in taken
    ]
    for meeting in rows[len(rows) // 2 :]:
        meeting.digests = [
            Digest(
                state="done",
                progress=100,
                step="",
                case_ids=[],
                requested_by_id=secretary,
                requested_at=now,
                finished_at=now,
            )
        ]
    db.session.add_all(rows)
    db.session.commit()
    db.session.expunge_all()


def seed_data(app: Flask, args: argparse.Namespace, phase: int, groups: list[str]) -> None:
    """One phase of data: phase 0 makes the groups; each phase adds a block of older data
    (tests/support/seed.py, in the app context)."""
    from formservice.extensions import db

    span = timedelta(days=365 * args.years)
    now = datetime.now(UTC)
    newest = now - span * phase
    with app.app_context():
        for n, group in enumerate(groups):
            if phase == 0:
                seed.add_group(group, f"Lokal BUS bänk {n:03d}")
                db.session.commit()
            seed.seed_cases(
                group,
                args.cases,
                prefix=f"{group[-3:]}{phase:02d}",
                seed=phase * 1000 + n,
                sent_from=newest - span,
            )
            seed.seed_meetings(group, args.sip, args.bus_individ, seed=phase * 1000 + n)
            seed_group_meetings(group, args.years, before=newest.date())
        db.session.remove()
    with app.app_context():  # as autovacuum leaves a table: visibility map, statistics
        conn = db.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        conn.exec_driver_sql("VACUUM ANALYZE")
        conn.close()


def pages(group: str, category: str) -> list[tuple[str, str, str]]:
    """(label, role, path): every list page, first and filtered."""
    this_year = date.today().year
    period = f"fran={this_year - 1}-01-01&till={this_year}-12-31"
    filtered = f"?grupp={group}&kategori={category}&obesvarade=j"
    return [
        ("deviations, first page", "secretariat", "/avvikelser"),
        ("deviations, group+category+unanswered", "secretariat", "/avvikelser" + filtered),
        ("deviations, page 20", "secretariat", "/avvikelser?sida=20"),
        ("deviations, first page", "secretary", "/avvikelser"),
        ("deviations, group+category+unanswered", "secretary", "/avvikelser" + filtered),
        ("deviations, case number search", "secretary", "/avvikelser?arende=00012"),
        ("deviations, first page", "chef", "/avvikelser"),
        ("SIP meetings, first page", "chef", "/sip/"),
        ("SIP meetings, held + period", "chef", f"/sip/?status=genomford&{period}"),
        ("BUS-individ, first page", "chef", "/bus-individ/"),
        (
            "BUS-individ, period, oldest first",
            "chef",
            f"/bus-individ/?{period}&sortera=datum-stigande",
        ),
        ("steering group, first page", "secretary", "/styrgrupp"),
        ("steering group, one group", "secretary", f"/styrgrupp?grupp={group}"),
        ("meetings and digests, first page", "secretary", f"/styrgrupp/{group}/moten"),
        ("meetings and digests, period", "secretary", f"/styrgrupp/{group}/moten?{period}"),
    ]


def measure(app, db_url: str, clients, plan, requests: int) -> dict[str, dict]:
    """Each page: wall time per request (median, p90), its HTML, its statements, and the CPU
    it cost (this process and our PostgreSQL backends: steadier than wall time on a shared
    machine)."""
    from sqlalchemy import event

    from formservice.extensions import db

    with app.app_context():
        engine = db.engine
    queries = [0]

    def tick(*_args) -> None:
        queries[0] += 1

    event.listen(engine, "before_cursor_execute", tick)
    results = {}
    try:
        for label, role, path in plan:
            client = clients[role]
            for _ in range(3):  # warm: templates, statement caches, PostgreSQL's buffers
                response = client.get(path)
                assert response.status_code == 200, (path, response.status_code)
            times = []
            queries[0] = 0
            backends = common.postgres_backend_pids(db_url)
            cpu0 = time.process_time() + common.cpu_seconds(backends)
            for _ in range(requests):
                t0 = time.perf_counter()
                response = client.get(path)
                times.append((time.perf_counter() - t0) * 1000)
            cpu = time.process_time() + common.cpu_seconds(backends) - cpu0
            results[f"{label} ({role})"] = {
                "cpu_ms": cpu / requests * 1000,
                "path": path,
                "median_ms": common.median(times),
                "p90_ms": common.percentile(times, 90),
                "kib": len(response.data) / 1024,
                "queries": queries[0] / requests,
            }
    finally:
        event.remove(engine, "before_cursor_execute", tick)
    return results


def login(app, email: str):
    client = app.test_client()
    page = client.get("/logga-in").data
    response = client.post(
        "/logga-in",
        data={"email": email, "password": common.PASSWORD, "csrf_token": csrf_token(page)},
    )
    assert response.status_code == 302, (email, response.status_code)
    return client


def counts(app) -> dict[str, int]:
    from sqlalchemy import text

    from formservice.extensions import db

    with app.app_context():
        return {
            t: db.session.execute(text(f"SELECT count(*) FROM {t}")).scalar_one()
            for t in ("deviations", "sip_meetings", "bus_individ", "group_meetings", "digests")
        }


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--groups", type=int, default=100)
    parser.add_argument("--cases", type=int, default=100, help="deviations per group and phase")
    parser.add_argument("--sip", type=int, default=50, help="SIP meetings per group and phase")
    parser.add_argument("--bus-individ", type=int, default=20)
    parser.add_argument("--years", type=int, default=1, help="years per phase")
    parser.add_argument("--growth", type=int, default=10, help="the larger size, x the smaller")
    parser.add_argument("--requests", type=int, default=15)
    args = parser.parse_args()
    common.print_machine()
    common.flush_redis()
    common.log(f"arguments: {vars(args)}")
    groups = [f"bench-{n:03d}" for n in range(args.groups)]
    runs: dict[str, dict] = {}
    sizes: dict[str, dict] = {}
    with common.database() as db_url:
        app = common.make_app(db_url)
        with app.app_context():
            from formservice.domain.deviation import DEFAULT_CATEGORIES
            from formservice.services.accounts import set_password

            set_password(seed.person(SECRETARIAT), common.PASSWORD)
        plan = pages(groups[len(groups) // 2], DEFAULT_CATEGORIES[0][0])
        clients = {role: login(app, email) for role, email in ROLES.items()}
        for step, phases in (("1x", range(1)), (f"{args.growth}x", range(1, args.growth))):
            t0 = time.perf_counter()
            for phase in phases:
                seed_data(app, args, phase, groups)
                common.log(f"phase {phase} seeded after {time.perf_counter() - t0:.0f} s")
            sizes[step] = counts(app) | {"seed_s": round(time.perf_counter() - t0, 1)}
            common.log(f"{step}: {sizes[step]}")
            runs[step] = measure(app, db_url, clients, plan, args.requests)
        from formservice.extensions import db

        with app.app_context():
            db.session.remove()
            db.engine.dispose()
    common.flush_redis()
    small, large = runs["1x"], runs[f"{args.growth}x"]
    for step, size in sizes.items():
        print(f"# {step}: " + ", ".join(f"{k} {v:,}" for k, v in size.items()))
    print(
        f"\n{'page':<58} {'1x ms':>7} {'big ms':>7} {'ratio':>6} {'1x cpu':>7} {'big cpu':>7} "
        f"{'KiB':>6} {'queries':>7}"
    )
    verdicts = []
    for name, big in large.items():
        ratio = big["median_ms"] / small[name]["median_ms"]
        print(
            f"{name:<58} {small[name]['median_ms']:7.1f} {big['median_ms']:7.1f} "
            f"{ratio:6.2f} {small[name]['cpu_ms']:7.1f} {big['cpu_ms']:7.1f} "
            f"{big['kib']:6.1f} {big['queries']:7.0f}"
        )
        verdicts += [
            common.Verdict(
                f"{name}: median",
                f"{big['median_ms']:.1f} ms",
                f"<= {TARGET_MS:.0f} ms",
                big["median_ms"] <= TARGET_MS,
            ),
            common.Verdict(
                f"{name}: HTML",
                f"{big['kib']:.1f} KiB",
                f"<= {TARGET_KIB:.0f} KiB",
                big["kib"] <= TARGET_KIB,
            ),
            common.Verdict(f"{name}: growth", f"{ratio:.2f} x", f"<= {GROWTH} x", ratio <= GROWTH),
        ]
    return common.report(verdicts, "lists", {"sizes": sizes, "runs": runs})


if __name__ == "__main__":
    sys.exit(main())
