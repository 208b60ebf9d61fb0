"""Calendar files with meeting notices (issue 17, item 5), through the app, the real queue,
the worker and the SMTP sink: SIP kallelse, "Ställ in mötet", steering-group meetings planned,
changed and withdrawn, the BUS-individ follow-up; the .ics parses with `icalendar`, carries
the Stockholm time, a stable UID, SEQUENCE and CANCEL, and no personal data (both
databases)."""

from __future__ import annotations

from datetime import date, timedelta

from icalendar import Calendar
from sqlalchemy import select

from formservice.extensions import db
from formservice.models import AuditEvent, GroupMeeting, SipMeeting, User
from tests.support.app import login, run_worker

from .helpers import CHEF_B, CONVENER, DEPUTY_B, SECRETARY
from .meeting_helpers import AGREEMENT
from .meeting_helpers import CHILD as BI_CHILD
from .meeting_helpers import QUESTION as BI_QUESTION
from .test_bus_individ import save
from .test_sip import CHILD, PLACE, QUESTION, page, send, today

SCHOOL_CHEF = "greta.skolchef@stad.example"
CALLED_MANAGERS = sorted([CHEF_B, DEPUTY_B, SCHOOL_CHEF])
SECRET = (CHILD, PLACE, QUESTION, "Kim Exempelsson", "kim@example.org", "Fredrik Fk")


def calendars(message) -> list[tuple[str, Calendar]]:
    """The message's text/calendar parts: (method parameter, parsed calendar)."""
    found = []
    for part in message.iter_attachments():
        if part.get_content_type() == "text/calendar":
            data = part.get_payload(decode=True)
            for secret in SECRET:
                assert secret.encode() not in data and secret not in data.decode()
            found.append((part.get_param("method"), Calendar.from_ical(data)))
    return found


def only_event(message):
    ((method, calendar),) = calendars(message)
    assert str(calendar["METHOD"]) == method
    (event,) = calendar.walk("VEVENT")
    return method, event


def mails(app, sink) -> list:
    run_worker(app)
    found = sorted(sink.messages, key=lambda m: m["To"])
    sink.clear()
    return found


def test_sip_kallelse_carries_the_time_and_withdrawing_it_cancels_it(
    app, directory, client, smtp_sink
):
    meeting = send(client)
    sent = mails(app, smtp_sink)
    assert sorted(m["To"] for m in sent) == CALLED_MANAGERS
    uids = set()
    for message in sent:
        assert message.is_multipart()
        body = message.get_body(("plain",)).get_content()
        assert not any(secret in message.as_string() for secret in SECRET)
        assert f"http://formservice.test/sip/{meeting.id}" in body
        method, event = only_event(message)
        assert method == "REQUEST" and str(event["SUMMARY"]) == "SIP-möte"
        start = event.decoded("DTSTART")
        assert (start.date(), start.hour, start.minute) == (today() + timedelta(days=30), 9, 30)
        assert str(start.tzinfo) == "Europe/Stockholm" and int(event["SEQUENCE"]) == 0
        uids.add(str(event["UID"]))
    assert uids == {f"sip-{meeting.id}@formservice.test"}

    # The page offers the file, and withdrawing the meeting.
    shown = page(client.get(f"/sip/{meeting.id}"))
    assert "Lägg till i kalendern" in shown and "Ställ in mötet" in shown
    download = client.get(f"/sip/{meeting.id}/kalender.ics")
    assert download.status_code == 200 and download.mimetype == "text/calendar"
    published = Calendar.from_ical(download.data)
    assert str(published["METHOD"]) == "PUBLISH"
    assert str(published.walk("VEVENT")[0]["UID"]) == uids.pop()
    assert CHILD.encode() not in download.data and PLACE.encode() not in download.data

    response = client.post(f"/sip/{meeting.id}/stall-in")
    assert response.status_code == 302
    db.session.expire_all()
    meeting = db.session.get(SipMeeting, meeting.id)
    assert meeting.state == "installt" and meeting.calendar_sequence == 1
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "sip.cancelled"))
    cancelled = mails(app, smtp_sink)
    assert sorted(m["To"] for m in cancelled) == CALLED_MANAGERS
    for message in cancelled:
        assert message["Subject"].startswith("Inställt SIP-möte")
        method, event = only_event(message)
        assert method == "CANCEL" and str(event["STATUS"]) == "CANCELLED"
        assert int(event["SEQUENCE"]) == 1
        assert str(event["UID"]) == f"sip-{meeting.id}@formservice.test"
    # Once withdrawn: no second withdrawal, no file, no attendance.
    assert client.post(f"/sip/{meeting.id}/stall-in").status_code == 409
    assert client.get(f"/sip/{meeting.id}/kalender.ics").status_code == 404
    assert "Ställ in mötet" not in page(client.get(f"/sip/{meeting.id}"))
    assert mails(app, smtp_sink) == []


def test_only_the_initiating_side_withdraws_a_sip_meeting(app, directory, client):
    meeting = send(client)
    other = app.test_client()
    login(other, CHEF_B)
    assert other.post(f"/sip/{meeting.id}/stall-in").status_code == 403
    assert other.get(f"/sip/{meeting.id}/kalender.ics").status_code == 200  # called: may see
    db.session.expire_all()
    assert db.session.get(SipMeeting, meeting.id).state == "skickad"


def plan(client, **overrides):
    data = {"meeting_date": (today() + timedelta(days=20)).isoformat(), "start_time": "13:00"}
    data["place"] = "Stadsdelshuset, rum 4"
    data.update(overrides)
    return client.post("/styrgrupp/skarpnack/nytt-mote", data=data)


def test_steering_group_meeting_planned_changed_and_withdrawn(app, directory, client, smtp_sink):
    login(client, SECRETARY)
    assert plan(client).status_code == 302
    meeting = db.session.scalar(select(GroupMeeting))
    uid = f"styrgrupp-{meeting.id}@formservice.test"
    planned = mails(app, smtp_sink)
    assert sorted(m["To"] for m in planned) == sorted([CONVENER, SECRETARY])
    for message in planned:
        body = message.get_body(("plain",)).get_content()
        assert f"http://formservice.test/styrgrupp/moten/{meeting.id}" in body
        assert "Stadsdelshuset" not in message.as_string()
        method, event = only_event(message)
        assert (method, str(event["SUMMARY"]), str(event["UID"])) == (
            "REQUEST",
            "BUS-styrgrupp",
            uid,
        )
        assert event.decoded("DTSTART").hour == 13 and int(event["SEQUENCE"]) == 0

    shown = page(client.get(f"/styrgrupp/moten/{meeting.id}"))
    assert "Lägg till i kalendern" in shown and "Ändra mötet" in shown
    assert "Ställ in mötet" in shown and "13:00" in shown
    assert client.get(f"/styrgrupp/moten/{meeting.id}/andra").status_code == 200

    # Nothing changed: no notice, no new SEQUENCE.
    same = {"meeting_date": meeting.meeting_date.isoformat(), "start_time": "13:00"}
    same["place"] = "Stadsdelshuset, rum 4"
    assert client.post(f"/styrgrupp/moten/{meeting.id}/andra", data=same).status_code == 302
    assert mails(app, smtp_sink) == []

    new_day = meeting.meeting_date + timedelta(days=1)
    changed = {**same, "meeting_date": new_day.isoformat(), "start_time": "09:15"}
    assert client.post(f"/styrgrupp/moten/{meeting.id}/andra", data=changed).status_code == 302
    for message in mails(app, smtp_sink):
        method, event = only_event(message)
        assert method == "REQUEST" and str(event["UID"]) == uid
        start = event.decoded("DTSTART")
        assert (start.date(), start.hour, start.minute) == (new_day, 9, 15)
        assert int(event["SEQUENCE"]) == 1

    place_only = {**changed, "place": "Digitalt"}
    assert client.post(f"/styrgrupp/moten/{meeting.id}/andra", data=place_only).status_code == 302
    assert {int(only_event(m)[1]["SEQUENCE"]) for m in mails(app, smtp_sink)} == {2}

    assert client.post(f"/styrgrupp/moten/{meeting.id}/stall-in").status_code == 302
    withdrawn = mails(app, smtp_sink)
    assert len(withdrawn) == 2
    for message in withdrawn:
        method, event = only_event(message)
        assert (method, int(event["SEQUENCE"]), str(event["UID"])) == ("CANCEL", 3, uid)
    db.session.expire_all()
    meeting = db.session.get(GroupMeeting, meeting.id)
    assert meeting.cancelled_at is not None
    shown = page(client.get(f"/styrgrupp/moten/{meeting.id}"))
    assert "Mötet är inställt." in shown and "Ändra mötet" not in shown
    assert client.post(f"/styrgrupp/moten/{meeting.id}/stall-in").status_code == 409
    assert client.get(f"/styrgrupp/moten/{meeting.id}/kalender.ics").status_code == 404
    actions = db.session.scalars(
        select(AuditEvent.action).where(AuditEvent.object_type == "meeting")
    ).all()
    assert sorted(actions) == sorted(
        ["meeting.planned", "meeting.changed", "meeting.changed", "meeting.cancelled"]
    )
    # The withdrawn day is free again.
    assert plan(client, meeting_date=new_day.isoformat()).status_code == 302


def test_a_meeting_without_a_start_time_is_an_all_day_event(app, directory, client, smtp_sink):
    login(client, SECRETARY)
    day = today() + timedelta(days=10)
    assert plan(client, meeting_date=day.isoformat(), start_time="").status_code == 302
    for message in mails(app, smtp_sink):
        _, event = only_event(message)
        assert event.decoded("DTSTART") == day and event.decoded("DTEND") == day + timedelta(1)
    meeting = db.session.scalar(select(GroupMeeting))
    download = client.get(f"/styrgrupp/moten/{meeting.id}/kalender.ics")
    assert download.status_code == 200
    assert Calendar.from_ical(download.data).walk("VEVENT")[0].decoded("DTSTART") == day


def test_a_changed_date_the_group_already_meets_is_refused(app, directory, client):
    login(client, SECRETARY)
    first, second = today() + timedelta(days=5), today() + timedelta(days=6)
    plan(client, meeting_date=first.isoformat())
    plan(client, meeting_date=second.isoformat())
    meeting = db.session.scalar(select(GroupMeeting).where(GroupMeeting.meeting_date == second))
    data = {"meeting_date": first.isoformat(), "start_time": "13:00", "place": ""}
    response = client.post(f"/styrgrupp/moten/{meeting.id}/andra", data=data)
    assert response.status_code == 422
    assert "Mötesdatum: gruppen har redan ett möte det datumet." in page(response)
    db.session.expire_all()
    assert db.session.get(GroupMeeting, meeting.id).calendar_sequence == 0


def test_bus_individ_minutes_carry_the_follow_up_day(app, directory, client, smtp_sink):
    follow_up = date.today() + timedelta(days=40)
    record = save(
        client,
        follow_up="ja",
        follow_up_convener="familjeenheten-skarpnack",
        follow_up_date=follow_up.isoformat(),
    )
    sent = mails(app, smtp_sink)
    assert sent
    for message in sent:
        method, event = only_event(message)
        assert method == "REQUEST" and str(event["SUMMARY"]) == "BUS-individ"
        assert event.decoded("DTSTART") == follow_up
        assert str(event["UID"]) == f"bus_individ-{record.id}@formservice.test"
        raw = message.as_string()
        assert not any(s in raw for s in (BI_CHILD, BI_QUESTION, AGREEMENT))
    assert "Lägg till i kalendern" in page(client.get(f"/bus-individ/{record.id}"))
    assert client.get(f"/bus-individ/{record.id}/kalender.ics").status_code == 200
    without = save(client)  # no follow-up: no file, nothing to add
    assert all(not calendars(m) for m in mails(app, smtp_sink))
    assert client.get(f"/bus-individ/{without.id}/kalender.ics").status_code == 404


def test_times_across_daylight_saving_changes_in_the_mailed_file(app, directory, smtp_sink):
    from datetime import UTC, time

    from formservice.services import meetings

    secretary = db.session.scalar(select(User).where(User.email == SECRETARY))
    for day, utc_hour in (
        (date(2027, 3, 27), 12),
        (date(2027, 3, 28), 11),
        (date(2027, 10, 31), 12),
    ):
        meetings.plan(secretary, "skarpnack", day, "", time(13, 0))
        for message in mails(app, smtp_sink):
            _, event = only_event(message)
            start = event.decoded("DTSTART")
            assert (start.date(), start.hour) == (day, 13)  # Stockholm wall-clock time
            assert start.astimezone(UTC).hour == utc_hour  # CET +1, CEST +2


def test_the_demo_mailbox_names_the_calendar_file(db_url, smtp_sink, tmp_path):
    import mailbox
    from email.message import EmailMessage

    from formservice import create_app
    from tests.support.app import base_config

    demo = create_app(base_config(db_url, smtp_sink, tmp_path) | {"FORMSERVICE_DEMO": True})
    demo.instance_path = str(tmp_path / "demo-instance")
    email = EmailMessage()
    email["Subject"], email["To"], email["From"] = "Kallelse till SIP-möte", CHEF_B, "bus@x.example"
    email.set_content("Hej!")
    email.add_attachment(
        b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n", "text", "calendar", filename="mote.ics"
    )
    (tmp_path / "demo-instance").mkdir()
    box = mailbox.Maildir(str(tmp_path / "demo-instance" / "mail"), create=True)
    key = box.add(email.as_bytes())
    shown = demo.test_client().get(f"/demo/epost/{key}")
    with demo.app_context():
        db.engine.dispose()  # the demo app's own pool: nothing left open on the database
    assert shown.status_code == 200
    assert "mote.ics (text/calendar)" in shown.get_data(as_text=True)
