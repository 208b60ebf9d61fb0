"""Decided measures followed up (issue 17): made at the closing, reminded 7 days before and on
their date through the worker's cron and the real SMTP sink, reported "Genomförd" logged in or
by link, once; in the digest and the evaluation. Both databases."""

from __future__ import annotations

import html
import re
from datetime import UTC, date, datetime, timedelta

import pytest
from rq.cron import CronScheduler
from sqlalchemy import func, select

from formservice import clock
from formservice.domain import measures as measure_rules
from formservice.domain.statistics import half_year
from formservice.extensions import db
from formservice.models import AuditEvent, Deviation, Measure, OutboxMessage, Unit
from formservice.queue import redis_connection
from formservice.services import closing as closing_service
from formservice.services import digest as digest_service
from formservice.services import evaluation, meetings
from formservice.services import measures as measures_service
from formservice.tokens import make_measure_token, read_measure_token
from tests.support.app import login, run_worker
from worker.__main__ import register_periodic

from .helpers import CHEF_A, CHEF_B, CONVENER, DEPUTY_B, SECRETARY, send_report, user
from .test_migrations import empty_app  # noqa: F401, F811 - the fixture: a new, empty database

HAB_CHEF = "hanna.hab@region.example"  # hc-soderstaden
MANAGERS_B = sorted([CHEF_B, DEPUTY_B])
DUE = date(2027, 3, 10)
LATER = 10  # days after DUE that HC Söderstaden's measure is dated
ACTION_B = "Gemensam remissrutin MEAS-41 mellan BUP och familjeenheten."
ACTION_HAB = "Utbildningsdag MEAS-57 om samverkan."
ACTION_UNDATED = "Uppföljande samtal MEAS-63."
SUBJECTS = {
    "before": "Påminnelse: en beslutad åtgärd ska vara genomförd senast 2027-03-10",
    "due": "Sista dagen: en beslutad åtgärd ska vara genomförd i dag",
}
LINK = re.compile(r"http://formservice\.test(/atgard/[^\s]+)")


def text_of(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def move_clock(monkeypatch, day: date) -> None:
    """Make it 07:15 in Stockholm on `day` for the measures_service, the worker and the outbox."""
    moment = datetime(day.year, day.month, day.day, 6, 15, tzinfo=UTC)
    monkeypatch.setattr(clock, "now", lambda: moment)


def closed_case(app, sink, due: date = DUE) -> tuple[Deviation, list[Measure]]:
    """A report closed with three measures (BUP Farsta dated `due`, HC Söderstaden `LATER`
    days later, BUP Farsta undated); the messages so far delivered and cleared."""
    deviation = send_report()
    meeting = meetings.plan(user(SECRETARY), "skarpnack", clock.today() - timedelta(days=1), "")
    data = closing_service.ClosingInput(
        meeting.id,
        "bekraftad",
        [
            closing_service.Measure(ACTION_B, "bup-farsta", due.isoformat()),
            closing_service.Measure(
                ACTION_HAB, "hc-soderstaden", (due + timedelta(LATER)).isoformat()
            ),
            closing_service.Measure(ACTION_UNDATED, "bup-farsta", ""),
        ],
        False,
        "",
    )
    closing_service.close(deviation, user(SECRETARY), data)
    run_worker(app)
    sink.clear()
    return deviation, measures_service.for_case(deviation.id)


def cron_reminders(app) -> None:
    """The worker's daily reminder job, queued as its cron schedule queues it, then worked."""
    connection = redis_connection()
    cron = CronScheduler(connection=connection)
    register_periodic(cron, sweep_seconds=60)
    (job,) = [j for j in cron.get_jobs() if j.name == "send_reminders"]
    job.enqueue(connection)
    run_worker(app)


def delivered(sink) -> list[tuple[str, str]]:
    return sorted((m["Subject"], m["To"]) for m in sink.messages)


def outbox_count() -> int:
    return db.session.scalar(select(func.count()).select_from(OutboxMessage))


def events(action: str) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


# --- made at the closing ---------------------------------------------------------------------


def test_each_row_of_the_closing_becomes_an_open_measure(directory, smtp_sink):
    deviation, found = closed_case(directory, smtp_sink)
    assert [(m.position, m.action, m.unit_id, m.due, m.state) for m in found] == [
        (1, ACTION_B, "bup-farsta", DUE, measure_rules.OPEN),
        (2, ACTION_HAB, "hc-soderstaden", DUE + timedelta(LATER), measure_rules.OPEN),
        (3, ACTION_UNDATED, "bup-farsta", None, measure_rules.OPEN),
    ]
    assert {m.deviation_id for m in found} == {deviation.id}
    assert {m.closing_id for m in found} == {deviation.closing.id}


# --- reminders -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("offset", "kind"), [(-8, None), (-7, "before"), (-1, "before"), (0, "due"), (1, None)]
)
def test_the_reminder_due_on_each_day_reaches_the_units_chef_and_deputy(
    directory, smtp_sink, monkeypatch, offset, kind
):
    closed_case(directory, smtp_sink)
    move_clock(monkeypatch, DUE + timedelta(days=offset))
    cron_reminders(directory)
    want = sorted((SUBJECTS[kind], to) for to in MANAGERS_B) if kind else []
    assert [m for m in delivered(smtp_sink) if m[1] != HAB_CHEF] == want


def test_daily_runs_send_each_reminder_once(directory, smtp_sink, monkeypatch):
    _, found = closed_case(directory, smtp_sink)
    for offset in range(-10, LATER + 2):
        move_clock(monkeypatch, DUE + timedelta(days=offset))
        cron_reminders(directory)
    by_subject = sorted(
        (m["Subject"].split(":")[0], m["To"]) for m in smtp_sink.messages if m["To"] != HAB_CHEF
    )
    assert by_subject == sorted(
        [("Påminnelse", to) for to in MANAGERS_B] + [("Sista dagen", to) for to in MANAGERS_B]
    )
    # HC Söderstaden's measure (dated later) got its two as well; the undated one none.
    assert len([m for m in smtp_sink.messages if m["To"] == HAB_CHEF]) == 2
    assert len(events("measure.reminder_before")) == 2
    assert len(events("measure.reminder_due")) == 2
    for measure in found[:2]:
        db.session.refresh(measure)
        assert measure.reminded_before_at and measure.reminded_due_at
    assert found[2].reminded_before_at is None


@pytest.mark.parametrize("offset", [-7, 0])
def test_the_job_run_twice_or_a_duplicate_sweep_sends_nothing_twice(
    directory, smtp_sink, monkeypatch, offset
):
    closed_case(directory, smtp_sink)
    move_clock(monkeypatch, DUE + timedelta(days=offset))
    cron_reminders(directory)
    rows = outbox_count()
    cron_reminders(directory)  # the cron job queued again the same day
    from formservice.services.reminders import send_due

    assert send_due() == 0  # and a sweep run by hand
    assert outbox_count() == rows
    run_worker(directory)
    assert len(smtp_sink.messages) == 2


def test_two_runs_at_once_send_each_reminder_once(directory, smtp_sink, monkeypatch):
    """Two workers' reminder runs in the same moment, each in its own session: the
    conditional UPDATE of the step's flag lets one of them write the messages."""
    import threading

    from formservice.services.reminders import send_due

    closed_case(directory, smtp_sink)
    move_clock(monkeypatch, DUE)
    barrier, results, errors = threading.Barrier(2), [], []

    def run() -> None:
        with directory.app_context():
            try:
                barrier.wait()
                results.append(send_due())
            except Exception as exc:  # noqa: BLE001 - reported below
                errors.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == [] and sorted(results) == [0, 1]
    kinds = db.session.scalars(
        select(OutboxMessage.kind).where(OutboxMessage.kind.like("measure%"))
    )
    assert sorted(kinds) == ["measure_reminder_due"] * 2
    assert len(events("measure.reminder_due")) == 1


def test_the_reminder_holds_no_content_only_a_link_that_works(
    directory, smtp_sink, monkeypatch, client
):
    deviation, found = closed_case(directory, smtp_sink)
    move_clock(monkeypatch, DUE - timedelta(days=7))
    cron_reminders(directory)
    assert len(smtp_sink.messages) == 2
    for message in smtp_sink.messages:
        raw = message.as_string()
        assert not message.is_multipart()
        for secret in ("MEAS-41", "MEAS-57", "MEAS-63", deviation.case_number, "BUP Farsta"):
            assert secret not in raw
        assert deviation.description not in raw
        (path,) = LINK.findall(message.get_content())
        link = read_measure_token(path.rsplit("/", 1)[1])
        assert (link.measure_id, link.email) == (found[0].id, message["To"])
        page = client.get(path)
        assert page.status_code == 200
        assert ACTION_B in text_of(page)
    rows = db.session.scalars(select(OutboxMessage).where(OutboxMessage.kind.like("measure%")))
    for row in rows:
        assert set(row.context) == {"measure_id", "due"}


def test_inactive_people_and_units_get_no_reminder(directory, smtp_sink, monkeypatch):
    _, found = closed_case(directory, smtp_sink)
    user(DEPUTY_B).active = False
    db.session.get(Unit, "hc-soderstaden").active = False
    db.session.commit()
    move_clock(monkeypatch, DUE)
    cron_reminders(directory)
    move_clock(monkeypatch, DUE + timedelta(days=LATER))
    cron_reminders(directory)
    assert delivered(smtp_sink) == [(SUBJECTS["due"], CHEF_B)]
    db.session.refresh(found[1])
    assert found[1].reminded_due_at is not None  # taken: nobody to tell, never sent later


def test_a_measure_done_gets_no_more_reminders(directory, smtp_sink, monkeypatch):
    _, found = closed_case(directory, smtp_sink)
    measures_service.report_done(found[0], user(CHEF_B), "Rutinen är beslutad i ledningsgruppen.")
    move_clock(monkeypatch, DUE)
    cron_reminders(directory)
    assert [m["To"] for m in smtp_sink.messages] == []


# --- "Genomförd" logged in -------------------------------------------------------------------


def test_the_responsible_chef_reports_it_done_from_the_list_once(directory, smtp_sink, client):
    _, found = closed_case(directory, smtp_sink)
    measure = found[0]
    login(client, DEPUTY_B)
    page = text_of(client.get("/atgarder"))
    assert ACTION_B in page and ACTION_UNDATED in page and ACTION_HAB not in page
    form = {f"m{measure.id}-comment": "Rutinen är beslutad.", "tillbaka": "lista"}
    response = client.post(f"/atgarder/{measure.id}", data=form)
    assert response.status_code == 302 and response.headers["Location"].endswith("/atgarder")
    db.session.refresh(measure)
    assert (measure.state, measure.comment, measure.done_by) == (
        measure_rules.DONE,
        "Rutinen är beslutad.",
        DEPUTY_B,
    )
    (event,) = events("measure.done")
    assert (event.actor, event.object_type, event.object_id) == (
        DEPUTY_B,
        "measure",
        str(measure.id),
    )
    again = client.post(f"/atgarder/{measure.id}", data=form)
    assert again.status_code == 409
    assert "redan rapporterad" in text_of(again)
    db.session.refresh(measure)
    assert measure.comment == "Rutinen är beslutad."
    assert len(events("measure.done")) == 1


def test_the_case_page_shows_the_measures_and_the_form_to_the_responsible(
    directory, smtp_sink, client
):
    deviation, found = closed_case(directory, smtp_sink)
    login(client, CHEF_B)
    page = text_of(client.get(f"/avvikelser/{deviation.id}"))
    assert f'name="m{found[0].id}-comment"' in page
    assert f'name="m{found[1].id}-comment"' not in page  # HC Söderstaden's
    form = {f"m{found[0].id}-comment": "Klart.", "tillbaka": "arende"}
    response = client.post(f"/atgarder/{found[0].id}", data=form)
    assert response.headers["Location"].endswith(f"/avvikelser/{deviation.id}#atgarder")
    page = text_of(client.get(f"/avvikelser/{deviation.id}"))
    assert "Genomförd" in page and "Klart." in page
    assert f'name="m{found[0].id}-comment"' not in page
    client.post("/logga-ut")
    login(client, CHEF_A)
    page = text_of(client.get(f"/avvikelser/{deviation.id}"))
    assert ACTION_B in page and "-comment" not in page


def test_another_units_chef_is_refused(directory, smtp_sink, client):
    _, found = closed_case(directory, smtp_sink)
    login(client, HAB_CHEF)
    form = {f"m{found[0].id}-comment": "Inte vår åtgärd."}
    assert client.post(f"/atgarder/{found[0].id}", data=form).status_code == 403
    assert client.get(f"/atgarder/{found[0].id}").status_code == 403
    db.session.refresh(found[0])
    assert found[0].state == measure_rules.OPEN and events("measure.done") == []


def test_the_comment_is_required_and_checked_for_personal_data(directory, smtp_sink, client):
    _, found = closed_case(directory, smtp_sink)
    login(client, CHEF_B)
    for comment, error in (
        ("", "Kommentar: fyll i uppgiften."),
        ("Pratade med pappan på 070-123 45 67.", "Kommentar:"),
        ("Barnet 811218-9876 har fått plats.", "Kommentar:"),
    ):
        response = client.post(
            f"/atgarder/{found[0].id}", data={f"m{found[0].id}-comment": comment}
        )
        assert response.status_code == 422
        assert error in text_of(response)
    db.session.refresh(found[0])
    assert found[0].state == measure_rules.OPEN and found[0].comment == ""


# --- "Genomförd" by link ---------------------------------------------------------------------


def test_the_link_reports_it_done_once(directory, smtp_sink, client):
    _, found = closed_case(directory, smtp_sink)
    path = f"/atgard/{make_measure_token(found[0].id, CHEF_B)}"
    page = client.get(path)
    assert page.status_code == 200 and ACTION_B in text_of(page)
    assert [e.actor for e in events("measure.viewed_by_link")] == [CHEF_B]
    response = client.post(path, data={f"m{found[0].id}-comment": "Genomfört i november."})
    assert response.status_code == 200 and "Tack" in text_of(response)
    db.session.refresh(found[0])
    assert (found[0].state, found[0].done_by) == (measure_rules.DONE, CHEF_B)
    assert [e.actor for e in events("measure.done")] == [CHEF_B]
    for again in (client.get(path), client.post(path, data={f"m{found[0].id}-comment": "Igen"})):
        assert again.status_code == 410
        assert "redan rapporterad" in text_of(again)
    db.session.refresh(found[0])
    assert found[0].comment == "Genomfört i november."


def test_a_link_for_someone_not_responsible_or_forged_is_refused(directory, smtp_sink, client):
    _, found = closed_case(directory, smtp_sink)
    other = client.get(f"/atgard/{make_measure_token(found[0].id, HAB_CHEF)}")
    assert other.status_code == 410 and "inte längre chef" in text_of(other)
    assert client.get("/atgard/inte-en-riktig-lank").status_code == 400
    user(DEPUTY_B).active = False
    db.session.commit()
    gone = client.post(
        f"/atgard/{make_measure_token(found[0].id, DEPUTY_B)}",
        data={f"m{found[0].id}-comment": "Klart."},
    )
    assert gone.status_code == 410
    db.session.refresh(found[0])
    assert found[0].state == measure_rules.OPEN


def test_the_link_checks_the_comment_too(directory, smtp_sink, client):
    _, found = closed_case(directory, smtp_sink)
    path = f"/atgard/{make_measure_token(found[0].id, CHEF_B)}"
    response = client.post(path, data={f"m{found[0].id}-comment": "Ring 070-123 45 67."})
    assert response.status_code == 422 and "Kommentar:" in text_of(response)
    db.session.refresh(found[0])
    assert found[0].state == measure_rules.OPEN


# --- the digest and the evaluation -----------------------------------------------------------


def test_the_next_digest_lists_measures_done_and_overdue_since_the_last_meeting(
    directory, smtp_sink, monkeypatch
):
    today = clock.today()
    _, found = closed_case(directory, smtp_sink, due=today - timedelta(days=20))
    # BUP Farsta's dated measure: overdue; HC Söderstaden's (dated later, also past): done
    measures_service.report_done(found[1], user(HAB_CHEF), "Utbildningen är hållen.")
    next_meeting = meetings.plan(user(SECRETARY), "skarpnack", today + timedelta(days=3), "")
    listed = digest_service.measures_since(next_meeting)
    assert [(m["action"], m["unit"], m["in_time"]) for m in listed["done"]] == [
        (ACTION_HAB, "HC Söderstaden", False)  # its date had passed
    ]
    assert [(m["action"], m["due"]) for m in listed["overdue"]] == [
        (ACTION_B, today - timedelta(days=20))
    ]
    # A measure done before the previous meeting's day is not listed again.
    found[1].done_at = datetime.combine(today - timedelta(days=5), datetime.min.time(), UTC)
    db.session.commit()
    assert digest_service.measures_since(next_meeting)["done"] == []


def test_the_evaluation_shows_the_share_carried_out_on_time(directory, smtp_sink, client):
    today = clock.today()
    period = half_year(today.year, 1 if today.month <= 6 else 2)
    due = max(period.start, today - timedelta(days=40))
    _, found = closed_case(directory, smtp_sink, due=due)
    # 1: done on time; 2 (dated later): overdue if past, else pending; 3: undated, not counted
    measures_service.report_done(found[0], user(CHEF_B), "Klart i tid.")
    found[0].done_at = datetime.combine(due, datetime.min.time(), UTC) + timedelta(hours=10)
    db.session.commit()
    figures = evaluation.measure_follow_up("skarpnack", period, today)
    second = due + timedelta(days=LATER)
    second_in_period = second <= period.end
    second_past = second < today and second_in_period
    assert figures.measures == 1 + second_in_period
    assert figures.in_time == 1
    assert figures.overdue == int(second_past)
    assert figures.share_in_time == (50.0 if second_past else 100.0)
    login(client, SECRETARY)
    page = text_of(client.get("/styrgrupp/utvardering"))
    assert "Andel genomförda i tid" in page
    share = "50,0 %" if second_past else "100,0 %"
    assert share in page


def test_the_secretary_and_convener_see_a_measure_but_cannot_report_it(
    directory, smtp_sink, client
):
    _, found = closed_case(directory, smtp_sink)
    for reader in (SECRETARY, CONVENER):
        login(client, reader)
        page = client.get(f"/atgarder/{found[0].id}")
        assert page.status_code == 200 and ACTION_B in text_of(page)
        assert "-comment" not in text_of(page)
        assert client.post(f"/atgarder/{found[0].id}", data={}).status_code == 403
        client.post("/logga-ut")


def test_the_compiled_digest_shows_them(directory, smtp_sink):
    """Through the worker and LibreOffice: the DOCX lists the measure done since the previous
    meeting (60 days ago) and the overdue one, not the one done before that meeting."""
    from formservice.models import Digest
    from formservice.services import files

    from .test_digest import docx_text, make_cases

    meeting, included, excluded, _ = make_cases()
    closed_recently, closed_long_ago = included[4], excluded[0]
    today = clock.today()
    rows = [
        (closed_recently, "Ny remissrutin MEAS-D1", today - timedelta(days=20), 5, "Klar MEAS-C1"),
        (closed_long_ago, "Gemensam utbildning MEAS-D2", today - timedelta(days=3), None, ""),
        (closed_long_ago, "Gammal åtgärd MEAS-D3", today - timedelta(days=100), 90, "Gammal"),
    ]
    for n, (case, action, due, done_days_ago, comment) in enumerate(rows, start=1):
        done_at = clock.now() - timedelta(days=done_days_ago) if done_days_ago else None
        db.session.add(
            Measure(
                closing_id=case.closing.id,
                deviation_id=case.id,
                position=n,
                action=action,
                unit_id="bup-farsta",
                due=due,
                state=measure_rules.DONE if done_at else measure_rules.OPEN,
                done_at=done_at,
                done_by=CHEF_B if done_at else None,
                comment=comment,
            )
        )
    db.session.commit()
    digest = digest_service.request(meeting, user(SECRETARY))
    run_worker(directory)
    db.session.expire_all()
    digest = db.session.get(Digest, digest.id)
    assert digest.state == "done", digest.error
    lines = docx_text(files.read(digest.docx_file))
    part = lines[
        lines.index("Beslutade åtgärder") : lines.index("Skickade och ännu inte besvarade")
    ]
    done = part[part.index("Genomförda sedan förra mötet") : part.index("Försenade")]
    overdue = part[part.index("Försenade") :]
    done_on = clock.local_date(clock.now() - timedelta(days=5)).isoformat()
    assert "Ny remissrutin MEAS-D1" in done and "Klar MEAS-C1" in done
    assert f"{done_on} (efter datum)" in done  # its date was 20 days ago
    assert "Gemensam utbildning MEAS-D2" in overdue
    assert (today - timedelta(days=3)).isoformat() in overdue
    assert not any("MEAS-D3" in line for line in lines)


def test_the_log_follow_up_finds_a_measures_events_by_case_number(directory, smtp_sink):
    from formservice.domain.audit import LogFilter
    from formservice.services import audit_log

    deviation, found = closed_case(directory, smtp_sink)
    measures_service.report_done(found[0], user(CHEF_B), "Klart.")
    page = audit_log.read_page(
        user("ada@stad.example"), LogFilter(case_number=deviation.case_number), 1
    )
    (row,) = [r for r in page.rows if r.action == "measure.done"]
    assert (row.object_type, row.object_id, row.case_number) == (
        "measure",
        str(found[0].id),
        deviation.case_number,
    )


def test_the_migration_carries_over_earlier_closings_measures(empty_app):  # noqa: F811
    """0017: the measures of closings made before it become open rows; a past date counts as
    reminded (no late reminders after the upgrade); a row without a unit is left out."""
    from formservice.migrate import upgrade
    from formservice.models import BusGroup, DeviationClosing, GroupMeeting, Huvudman, User

    upgrade("0014")  # the revision before 0017
    soon, past = clock.today() + timedelta(days=3), clock.today() - timedelta(days=3)
    db.session.add_all(
        [
            Huvudman(id="stad", name="Stad", type="kommun"),
            BusGroup(id="grupp", name="Grupp"),
            Unit(id="enhet", name="Enhet", huvudman_id="stad", type="skola"),
            User(id=1, email="chef@stad.example", name="Chef"),
        ]
    )
    db.session.flush()
    deviation = Deviation(
        state="avslutad",
        reporting_unit_id="enhet",
        receiving_unit_id="enhet",
        created_by_id=1,
        event_date=past,
        description="x",
        actions_taken="x",
        bus_individ=False,
        child_gender="flicka",
    )
    meeting = GroupMeeting(group_id="grupp", meeting_date=past, created_by_id=1)
    db.session.add_all([deviation, meeting])
    db.session.flush()
    items = [
        {"action": "Snart", "unit_id": "enhet", "unit": "Enhet", "due": soon.isoformat()},
        {"action": "Passerat", "unit_id": "enhet", "unit": "Enhet", "due": past.isoformat()},
        {"action": "Utan datum", "unit_id": "enhet", "unit": "Enhet", "due": ""},
        {"action": "Äldre rad utan enhet", "unit": "Enhet", "due": ""},
    ]
    db.session.add(
        DeviationClosing(
            deviation_id=deviation.id,
            meeting_id=meeting.id,
            assessment="bekraftad",
            measures=items,
            closed_by_id=1,
        )
    )
    db.session.commit()
    db.session.remove()
    upgrade()
    found = db.session.scalars(select(Measure).order_by(Measure.position)).all()
    assert [(m.position, m.action, m.due, m.state) for m in found] == [
        (1, "Snart", soon, measure_rules.OPEN),
        (2, "Passerat", past, measure_rules.OPEN),
        (3, "Utan datum", None, measure_rules.OPEN),
    ]
    assert found[0].reminded_before_at is None and found[0].reminded_due_at is None
    assert found[1].reminded_before_at is not None and found[1].reminded_due_at is not None
