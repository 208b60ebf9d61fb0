"""Steering-group meetings, closing cases and the half-year evaluation, on both databases."""

from __future__ import annotations

import html
import re
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from formservice import clock
from formservice.domain import deviation as rules
from formservice.extensions import db
from formservice.models import (
    AuditEvent,
    Deviation,
    DeviationClosing,
    Forwarding,
    GroupMeeting,
    OutboxMessage,
)
from formservice.services import closing as closing_service
from formservice.services import deviations as deviations_service
from formservice.services import meetings
from tests.support.app import login, run_worker

from .helpers import (
    CHEF_A,
    CHEF_B,
    CONVENER,
    DEPUTY_A,
    DEPUTY_B,
    SECRETARIAT,
    SECRETARY,
    add_farsta_group,
    answer_input,
    report_input,
    send_report,
    user,
)

HAB_CHEF = "hanna.hab@region.example"  # hc-soderstaden: only responsible for a measure
OTHER_SECRETARY = "stina.sekreterare@stad.example"
VALID_PNR = "811218-9876"  # synthetic, valid check digit
ACTION = "Gemensam rutin för remisser mellan BUP och familjeenheten."
REASON = "Samma brist finns i flera stadsdelar."
DESCRIPTION = report_input().description


def text_of(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def error_summary(page: str) -> str:
    match = re.search(r'<div class="error-summary".*?</div>', page, flags=re.S)
    assert match, "no error summary on the page"
    return match.group(0)


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def plan(day: date, place: str = "Stadsdelsförvaltningen") -> GroupMeeting:
    return meetings.plan(user(SECRETARY), "skarpnack", day, place)


def answered_report(**overrides) -> Deviation:
    deviation = send_report(**overrides)
    deviations_service.answer(deviation, user(CHEF_B), answer_input())
    return deviation


def today() -> date:
    return clock.today()


def closing_form(meeting: GroupMeeting, **overrides) -> dict:
    data = {
        "meeting": str(meeting.id),
        "assessment": "bekraftad",
        "measures-0-action": ACTION,
        "measures-0-unit": "hc-soderstaden",
        "measures-0-due": "2027-01-31",
        "measures-1-action": "",
        "measures-1-unit": "",
        "measures-1-due": "",
        "escalate": "nej",
        "reason": "",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def close(deviation: Deviation, meeting: GroupMeeting, closed_at: datetime | None = None):
    measure = closing_service.Measure(action=ACTION, unit_id="bup-farsta", due="")
    data = closing_service.ClosingInput(meeting.id, "delvis", [measure], False, "")
    closing_service.close(deviation, user(SECRETARY), data)
    if closed_at is not None:
        deviation.closed_at = closed_at
        db.session.commit()


def at(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 10, 0, tzinfo=UTC)


@pytest.fixture
def second_group(directory):
    """A second local BUS group (Farsta) with a secretary and a unit of its own."""
    add_farsta_group(OTHER_SECRETARY)
    return directory


# --- planning -------------------------------------------------------------------------------


def test_secretary_plans_a_meeting_through_the_form(client, directory):
    login(client, SECRETARY)
    start = text_of(client.get("/styrgrupp"))
    assert 'href="/styrgrupp"' in start and "Lokal BUS Skarpnäck" in start
    assert "Förslag på nästa möten" in start
    form = text_of(client.get("/styrgrupp/skarpnack/nytt-mote"))
    assert "Mötesdatum" in form and "Plats" in form
    day = today() + timedelta(days=30)
    response = client.post(
        "/styrgrupp/skarpnack/nytt-mote",
        data={"meeting_date": day.isoformat(), "place": "Skarpnäcks stadsdelsförvaltning"},
    )
    assert response.status_code == 302
    meeting = db.session.scalar(select(GroupMeeting))
    assert (meeting.group_id, meeting.meeting_date) == ("skarpnack", day)
    assert meeting.created_by_id == user(SECRETARY).id
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "meeting.planned"))
    assert day.isoformat() in text_of(client.get(response.headers["Location"]))
    listing = text_of(client.get("/styrgrupp"))
    upcoming = listing.split("<h3>Kommande möten</h3>")[1].split("<h3>Tidigare möten</h3>")[0]
    assert day.isoformat() in upcoming


def test_planning_errors_name_the_field(client, directory):
    login(client, SECRETARY)
    plan(today())
    missing = client.post("/styrgrupp/skarpnack/nytt-mote", data={"meeting_date": ""})
    assert missing.status_code == 422
    assert "Mötesdatum: fyll i uppgiften." in text_of(missing)
    taken = client.post("/styrgrupp/skarpnack/nytt-mote", data={"meeting_date": today()})
    assert "Mötesdatum: gruppen har redan ett möte det datumet." in text_of(taken)
    garbage = client.post("/styrgrupp/skarpnack/nytt-mote", data={"meeting_date": "i morgon"})
    assert "Mötesdatum: ange ett datum som ÅÅÅÅ-MM-DD." in text_of(garbage)
    assert count(GroupMeeting) == 1


def test_meetings_split_into_upcoming_and_past_with_suggestions(directory):
    past, coming = plan(today() - timedelta(days=40)), plan(today() + timedelta(days=3))
    overview = meetings.overview("skarpnack")
    assert [m.id for m in overview.upcoming] == [coming.id]
    assert [m.id for m in overview.past] == [past.id]
    assert overview.suggestions and all(day >= today() for day in overview.suggestions)


# --- which cases a meeting covers -----------------------------------------------------------


def test_cases_for_meeting_takes_open_states_and_cases_closed_since_the_previous_meeting(
    second_group,
):
    previous = plan(today() - timedelta(days=60))
    earlier = plan(today() - timedelta(days=120))
    meeting = plan(today() + timedelta(days=14))
    sent_1, sent_2 = send_report(), send_report()
    answered = answered_report()
    treated = answered_report()
    meetings.put_on_agenda(previous, [treated])
    db.session.commit()
    closed_before, closed_after = answered_report(), answered_report()
    close(closed_before, earlier, closed_at=at(previous.meeting_date - timedelta(days=1)))
    close(closed_after, previous, closed_at=at(previous.meeting_date + timedelta(days=2)))
    draft = deviations_service.save(user(CHEF_A), report_input(), send=False).deviation
    withdrawn = send_report()
    deviations_service.withdraw(withdrawn, user(CHEF_A))
    other_group = deviations_service.save(
        user("fredrik.farsta@stad.example"),
        report_input(reporting_unit_id="forskola-farsta", receiving_unit_id="bup-farsta"),
        send=True,
    ).deviation
    assert other_group.group_id == "farsta"

    cases = meetings.cases_for_meeting(meeting)

    assert [d.id for d in cases] == [sent_1.id, sent_2.id, answered.id, treated.id, closed_after.id]
    assert [d.state for d in cases] == ["skickad", "skickad", "besvarad", "behandlad", "avslutad"]
    assert sent_1.case_number < sent_2.case_number
    excluded = {closed_before.id, draft.id, withdrawn.id, other_group.id}
    assert not excluded & {d.id for d in cases}
    # The earlier meeting had no meeting before it: every closed case counts since then.
    assert closed_before.id in {d.id for d in meetings.cases_for_meeting(earlier)}


def test_meeting_page_lists_the_cases_and_flags_overdue_ones(client, directory):
    meeting = plan(today() + timedelta(days=7))
    late, fresh = send_report(), send_report()
    late.deadline = today() - timedelta(days=1)
    db.session.commit()
    assert meetings.is_case_overdue(late) and not meetings.is_case_overdue(fresh)
    login(client, SECRETARY)
    page = text_of(client.get(f"/styrgrupp/moten/{meeting.id}"))
    rows = {cells[0]: cells for cells in table_rows(page)}
    assert "Obesvarad" in rows[late.case_number][3]
    assert "Obesvarad" not in rows[fresh.case_number][3]
    assert f"/avvikelser/{late.id}/avsluta" in page


def test_put_on_agenda_moves_answered_cases_to_behandlad(directory):
    meeting = plan(today())
    unanswered, answered = send_report(), answered_report()
    done = answered_report()
    close(done, meeting)
    changed = meetings.put_on_agenda(meeting, [unanswered, answered, done])
    db.session.commit()
    assert {d.id for d in changed} == {unanswered.id, answered.id}
    assert answered.state == rules.BEHANDLAD and answered.agenda_meeting_id == meeting.id
    assert unanswered.state == rules.SKICKAD and unanswered.agenda_meeting_id == meeting.id
    assert done.state == rules.AVSLUTAD and done.agenda_meeting_id is None
    actions = db.session.scalars(
        select(AuditEvent.object_id).where(AuditEvent.action == "deviation.on_agenda")
    ).all()
    assert sorted(actions) == sorted([str(unanswered.id), str(answered.id)])


# --- closing --------------------------------------------------------------------------------


def test_closing_form_shows_the_labels(client, directory):
    plan(today())
    deviation = answered_report()
    login(client, SECRETARY)
    assert "Avsluta ärendet" in text_of(client.get(f"/avvikelser/{deviation.id}"))
    page = text_of(client.get(f"/avvikelser/{deviation.id}/avsluta"))
    for label in (
        "Behandlad vid möte",
        "Styrgruppens bedömning",
        "Avvikelse bekräftad",
        "Delvis",
        "Ej avvikelse",
        "Beslutade åtgärder",
        "Åtgärd",
        "Ansvarig verksamhet",
        "Klart senast",
        "Lyfts till BUS-sekretariatet/BUSSAM",
        "Motivering",
    ):
        assert label in page, label
    assert page.count('name="measures-2-action"') == 1  # three rows without JavaScript


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"measures-0-action": "", "measures-0-unit": "", "measures-0-due": ""},
         "Beslutade åtgärder: ange minst en åtgärd."),
        ({"escalate": "ja", "reason": ""}, "Motivering: fyll i uppgiften."),
        ({"measures-0-action": f"Samtal om barnet {VALID_PNR}."}, "Åtgärd: "),
        ({"measures-0-unit": ""}, "Beslutade åtgärder: ange ansvarig verksamhet på rad 1."),
        ({"assessment": None}, "Styrgruppens bedömning: fyll i uppgiften."),
        ({"escalate": "ja", "reason": "Ring 070-123 45 67"}, "Motivering: "),
    ],
)  # fmt: skip
def test_closing_form_errors_name_the_field_and_store_nothing(
    client, directory, overrides, message
):
    meeting = plan(today())
    deviation = answered_report()
    messages = count(OutboxMessage)
    login(client, SECRETARY)
    data = closing_form(meeting, **overrides)
    response = client.post(f"/avvikelser/{deviation.id}/avsluta", data=data)
    assert response.status_code == 422
    summary = error_summary(text_of(response))
    assert message in summary
    assert VALID_PNR not in summary
    assert count(DeviationClosing) == 0 and count(OutboxMessage) == messages
    db.session.refresh(deviation)
    assert deviation.state == rules.BESVARAD


def test_personnummer_error_says_what_was_found(client, directory):
    meeting = plan(today())
    deviation = answered_report()
    login(client, SECRETARY)
    bad = closing_form(meeting, **{"measures-0-action": f"Barnet {VALID_PNR}."})
    summary = error_summary(text_of(client.post(f"/avvikelser/{deviation.id}/avsluta", data=bad)))
    assert "Åtgärd:" in summary and "personnummer" in summary


def test_only_meetings_that_have_been_held_can_be_chosen(client, directory):
    coming = plan(today() + timedelta(days=10))
    deviation = answered_report()
    login(client, SECRETARY)
    page = text_of(client.get(f"/avvikelser/{deviation.id}/avsluta"))
    assert "inget möte att välja" in page
    response = client.post(f"/avvikelser/{deviation.id}/avsluta", data=closing_form(coming))
    assert response.status_code == 422
    assert "Behandlad vid möte: välj ett av alternativen." in text_of(response)


def test_closing_moves_to_avslutad_and_tells_units_and_secretariat(
    client, directory, smtp_sink, app
):
    meeting = plan(today())
    deviation = answered_report()
    before = set(db.session.scalars(select(OutboxMessage.id)))
    run_worker(app)  # the messages of sending and answering
    smtp_sink.clear()
    login(client, SECRETARY)
    response = client.post(f"/avvikelser/{deviation.id}/avsluta", data=closing_form(meeting))
    assert response.status_code == 302
    db.session.refresh(deviation)
    assert deviation.state == rules.AVSLUTAD and deviation.closed_at is not None
    closing = deviation.closing
    assert (closing.meeting_id, closing.assessment, closing.escalate) == (
        meeting.id,
        "bekraftad",
        False,
    )
    assert closing.measures == [
        {
            "action": ACTION,
            "unit_id": "hc-soderstaden",
            "unit": "HC Söderstaden",
            "due": "2027-01-31",
        }
    ]
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "deviation.closed"))
    new = [m for m in db.session.scalars(select(OutboxMessage)) if m.id not in before]
    by_kind = {k: sorted(m.to_email for m in new if m.kind == k) for k in {m.kind for m in new}}
    assert by_kind == {
        "closed_units": sorted([CHEF_A, DEPUTY_A, CHEF_B, DEPUTY_B, HAB_CHEF]),
        "closed_secretariat": sorted(SECRETARIAT),
    }
    page = text_of(client.get(response.headers["Location"]))
    assert "Avslutning av ärendet" in page and "Avvikelse bekräftad" in page and ACTION in page
    assert f'href="/avvikelser/{deviation.id}/avsluta"' not in page

    run_worker(app)
    assert_mails_carry_no_content(smtp_sink, deviation, expected=7)
    client.post("/logga-ut")
    login(client, HAB_CHEF)  # told in step 7, so the link works for the measure's unit
    assert client.get(f"/avvikelser/{deviation.id}").status_code == 200


def assert_mails_carry_no_content(sink, deviation: Deviation, expected: int) -> None:
    assert len(sink.messages) == expected
    for message in sink.messages:
        subject, body = str(message["Subject"]), message.get_body(("plain",)).get_content()
        assert deviation.case_number in subject
        assert f"http://formservice.test/avvikelser/{deviation.id}" in body
        assert "Familjeenheten Skarpnäck" in body and "BUP Farsta" in body
        for secret in (DESCRIPTION, ACTION, REASON, "bekräftad", "Ines Sved", "2027-01-31"):
            assert secret not in subject + body, secret
        assert not message.is_multipart() or not list(message.iter_attachments())


def test_escalated_closing_uses_the_escalation_wording(client, directory, smtp_sink, app):
    meeting = plan(today())
    deviation = send_report()  # a meeting may close a case that was never answered
    run_worker(app)
    smtp_sink.clear()
    login(client, SECRETARY)
    data = closing_form(meeting, escalate="ja", reason=REASON)
    assert client.post(f"/avvikelser/{deviation.id}/avsluta", data=data).status_code == 302
    db.session.refresh(deviation)
    assert deviation.closing.escalate and deviation.closing.escalate_reason == REASON
    kinds = db.session.scalars(
        select(OutboxMessage.kind).where(OutboxMessage.to_email.in_(SECRETARIAT))
    ).all()
    assert sorted(kinds) == ["closed_escalated"] * 2 + ["copy_secretariat"] * 2
    run_worker(app)
    escalated = [m for m in smtp_sink.messages if m["To"] in SECRETARIAT]
    assert len(escalated) == 2
    assert all("BUS-sekretariatet/BUSSAM" in str(m["Subject"]) for m in escalated)
    assert_mails_carry_no_content(smtp_sink, deviation, expected=7)


def test_closing_twice_is_refused_without_a_server_error(client, directory):
    meeting = plan(today())
    deviation = answered_report()
    login(client, SECRETARY)
    assert (
        client.post(f"/avvikelser/{deviation.id}/avsluta", data=closing_form(meeting)).status_code
        == 302
    )
    messages = count(OutboxMessage)
    again = client.post(f"/avvikelser/{deviation.id}/avsluta", data=closing_form(meeting))
    assert again.status_code == 409
    assert f"Ärende {deviation.case_number} är redan avslutat." in text_of(again)
    page = client.get(f"/avvikelser/{deviation.id}/avsluta")
    assert page.status_code == 302 and page.headers["Location"].endswith(
        f"/avvikelser/{deviation.id}"
    )
    with pytest.raises(rules.TransitionError):
        close(deviation, meeting)
    assert count(DeviationClosing) == 1 and count(OutboxMessage) == messages


def test_a_withdrawn_case_cannot_be_closed(client, directory):
    meeting = plan(today())
    deviation = send_report()
    deviations_service.withdraw(deviation, user(CHEF_A))
    login(client, SECRETARY)
    response = client.post(f"/avvikelser/{deviation.id}/avsluta", data=closing_form(meeting))
    assert response.status_code == 409
    assert count(DeviationClosing) == 0


# --- access ---------------------------------------------------------------------------------


def test_access_secretary_convener_chef_and_other_group(client, second_group):
    meeting = plan(today())
    deviation = answered_report()
    pages = {
        "start": "/styrgrupp",
        "meeting": f"/styrgrupp/moten/{meeting.id}",
        "plan": "/styrgrupp/skarpnack/nytt-mote",
        "close": f"/avvikelser/{deviation.id}/avsluta",
        "evaluation": "/styrgrupp/utvardering?grupp=skarpnack",
    }
    expected = {
        SECRETARY: dict(start=200, meeting=200, plan=200, close=200, evaluation=200),
        CONVENER: dict(start=200, meeting=200, plan=403, close=403, evaluation=200),
        CHEF_A: dict(start=403, meeting=403, plan=403, close=403, evaluation=403),
        OTHER_SECRETARY: dict(start=200, meeting=403, plan=403, close=403, evaluation=403),
    }
    for email, codes in expected.items():
        client.post("/logga-ut")
        login(client, email)
        seen = {name: client.get(path).status_code for name, path in pages.items()}
        assert seen == codes, email
        posted = client.post(f"/avvikelser/{deviation.id}/avsluta", data=closing_form(meeting))
        assert posted.status_code == (302 if email == SECRETARY else 403), email
        planned = client.post(pages["plan"], data={"meeting_date": "2027-02-15"})
        assert planned.status_code == (302 if email == SECRETARY else 403), email
    assert count(DeviationClosing) == 1 and count(GroupMeeting) == 2


def test_nav_link_and_read_only_view_for_the_convener(client, second_group):
    meeting = plan(today())
    answered_report()
    login(client, CONVENER)
    start = text_of(client.get("/styrgrupp"))
    assert ">Styrgrupp</a>" in start
    assert "Planera ett möte" not in start
    page = text_of(client.get(f"/styrgrupp/moten/{meeting.id}"))
    assert "/avsluta" not in page and "Sammanställ avvikelserna" not in page
    client.post("/logga-ut")
    login(client, CHEF_A)
    assert ">Styrgrupp</a>" not in text_of(client.get("/avvikelser"))
    client.post("/logga-ut")
    login(client, OTHER_SECRETARY)
    own = text_of(client.get("/styrgrupp"))
    assert "Lokal BUS Farsta" in own and "Lokal BUS Skarpnäck" not in own


# --- the half-year evaluation ---------------------------------------------------------------


def backdate(deviation: Deviation, sent: date, answered: date | None = None) -> None:
    deviation.sent_at = at(sent)
    deviation.deadline = sent + timedelta(days=30)
    if answered is not None:
        deviation.answered_at = at(answered)
    db.session.commit()


def test_evaluation_figures_for_a_half_year(client, directory):
    meeting = plan(today())
    quick = answered_report()  # 10 days, in time, closed and escalated by the group
    backdate(quick, date(2026, 2, 2), date(2026, 2, 12))
    closing_service.close(
        quick,
        user(SECRETARY),
        closing_service.ClosingInput(
            meeting.id,
            "bekraftad",
            [closing_service.Measure(ACTION, "bup-farsta", "")],
            True,
            REASON,
        ),
    )
    slow = send_report()  # forwarded once, 40 days, late, B asks for the regional level
    deviations_service.answer(slow, user(CHEF_B), answer_input(raise_regional=True))
    db.session.add(
        Forwarding(
            deviation_id=slow.id,
            from_unit_id="hc-soderstaden",
            to_unit_id="bup-farsta",
            reason="Fel mottagare",
            by_email=HAB_CHEF,
        )
    )
    backdate(slow, date(2026, 3, 1), date(2026, 4, 10))
    silent = send_report()  # never answered; closed as no deviation
    backdate(silent, date(2026, 5, 5))
    close(silent, meeting)
    silent.closing.assessment = "ej"
    db.session.commit()
    backdate(send_report(), date(2026, 8, 1))  # the second half-year
    withdrawn = send_report()
    deviations_service.withdraw(withdrawn, user(CHEF_A))
    backdate(withdrawn, date(2026, 4, 1))

    login(client, SECRETARY)
    response = client.get("/styrgrupp/utvardering?period=2026H1&grupp=skarpnack")
    assert response.status_code == 200
    page = text_of(response)
    rows = {cells[0]: cells[1:] for cells in table_rows(page) if cells[0].startswith("BUS-")}
    assert rows == {
        quick.case_number: ["2026-02-02", "10", "Ja", "0", "Ja", "Avvikelse bekräftad"],
        slow.case_number: ["2026-03-01", "40", "Nej", "1", "Ja", "Ej avslutad"],
        silent.case_number: ["2026-05-05", "–", "Nej, obesvarad", "0", "Nej", "Ej avvikelse"],
    }
    figures = dict(definition_list(page))
    assert figures["Avvikelser"] == "3"
    assert figures["Besvarade"] == "2"
    assert figures["Besvarade i tid"] == "1 av 2 (50.0 %)"
    assert figures["Mediantid till svar"] == "25.0 dagar"
    assert figures["Obesvarade efter svarsfristen"] == "1"
    assert figures["Vidarebefordrade"] == "1 ärenden (1 vidarebefordringar)"
    assert figures["Lyfta till regional nivå"] == "2"
    assert figures["Avslutade"] == "2"
    assert figures["Utfall: Avvikelse bekräftad"] == "1"
    assert figures["Utfall: Delvis"] == "0"
    assert figures["Utfall: Ej avvikelse"] == "1"
    assert '<option value="2026H1" selected>' in page

    second = text_of(client.get("/styrgrupp/utvardering?period=2026H2"))
    assert dict(definition_list(second))["Avvikelser"] == "1"
    odd = client.get("/styrgrupp/utvardering?period=nyss")
    assert odd.status_code == 200 and "Perioden känns inte igen" in text_of(odd)


# --- reading pages --------------------------------------------------------------------------


def _clean(fragment: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", fragment)).strip()


def table_rows(page: str) -> list[list[str]]:
    body = "".join(re.findall(r"<tbody>(.*?)</tbody>", page, flags=re.S))
    rows = re.findall(r"<tr>(.*?)</tr>", body, flags=re.S)
    return [[_clean(c) for c in re.findall(r"<td>(.*?)</td>", row, flags=re.S)] for row in rows]


def definition_list(page: str) -> list[tuple[str, str]]:
    pairs = re.findall(r"<dt>(.*?)</dt>\s*<dd>(.*?)</dd>", page, flags=re.S)
    return [(_clean(t), _clean(d)) for t, d in pairs]
