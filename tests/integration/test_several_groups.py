"""Region units in several local BUS groups (SPEC §2): the case goes to one chosen group only.

BUP Farsta and HC Söderstaden serve both Skarpnäck and Farsta here; Farsta grundskola is in
Farsta only; Friskolan Ekbacken is in no group. Pages through the test client, mail through
the worker and the SMTP sink, on both databases.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import pytest
import yaml
from sqlalchemy import func, select

from formservice.domain.groups import GroupNotChosen
from formservice.domain.statistics import current_half
from formservice.extensions import db
from formservice.models import (
    BusIndivid,
    Deviation,
    OutboxMessage,
    SipMeeting,
    User,
)
from formservice.services import deviations as deviations_service
from formservice.services import meetings, reminders, statistics, statistics_report
from formservice.services.directory import import_directory
from tests.support.accounts import give_password
from tests.support.app import login, run_worker
from tests.support.paths import DEMO_DIRECTORY

from .helpers import CHEF_A, CHEF_B, CONVENER, SECRETARY, form_data, report_input, user
from .test_bus_individ import minutes_form
from .test_sip import sip_form

FARSTA_SECRETARY = "olle.annan@stad.example"
FARSTA_CONVENER = "otto.ordf@stad.example"
FARSTA_SCHOOL_CHEF = "fredrik.farsta@stad.example"
BUP = "bup-farsta"
HAB = "hc-soderstaden"
FARSTA_SCHOOL = "grundskola-farsta"
FRISKOLA = "friskolan-ekbacken"
MISSING = "BUS-grupp: välj vilken BUS-grupp"


def directory_with_two_groups() -> dict:
    """The demo directory plus the Farsta group; BUP and HAB serve both groups."""
    data = yaml.safe_load(DEMO_DIRECTORY.read_text(encoding="utf-8"))
    data["huvudman"].append({"id": "ekbacken-ab", "name": "Ekbacken AB", "type": "fristaende"})
    data["bus_groups"].append(
        {
            "id": "farsta",
            "name": "Lokal BUS Farsta",
            "convener": {"name": "Otto Ordf", "email": FARSTA_CONVENER},
            "secretary": {"name": "Olle Annan", "email": FARSTA_SECRETARY},
            "bus_individ_convener_unit": FARSTA_SCHOOL,
            "bus_individ_chair_unit": BUP,
        }
    )
    for unit in data["units"]:
        if unit["id"] in (BUP, HAB):
            unit["bus_groups"] = ["skarpnack", "farsta"]
    data["units"] += [
        {
            "id": FARSTA_SCHOOL,
            "name": "Farsta grundskola",
            "huvudman": "stockholms-stad",
            "type": "grundskola",
            "bus_groups": ["farsta"],
            "chef": {"name": "Fredrik Farsta", "email": FARSTA_SCHOOL_CHEF},
        },
        {
            "id": FRISKOLA,
            "name": "Friskolan Ekbacken",
            "huvudman": "ekbacken-ab",
            "type": "grundskola",
            "chef": {"name": "Elsa Ekbacke", "email": "elsa.ekbacke@ekbacken.example"},
        },
    ]
    return data


@pytest.fixture
def two_groups(directory):
    import_directory(directory_with_two_groups())
    give_password(db.session.scalars(select(User)))
    return directory


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def page(response) -> str:
    return response.get_data(as_text=True)


def group_options(html: str) -> list[str] | None:
    """The values offered by the "BUS-grupp" select, or None when the page has none."""
    select_tag = re.search(r'<select[^>]*name="bus_group"[^>]*>(.*?)</select>', html, re.S)
    if select_tag is None:
        return None
    assert '<label for="bus_group">BUS-grupp' in html
    return re.findall(r'<option[^>]*value="([^"]*)"', select_tag.group(1))


def post_report(client, **fields):
    login(client, CHEF_B)
    return client.post("/avvikelser/ny", data=form_data(reporting_unit=BUP, **fields))


# --- deviations ---------------------------------------------------------------------------


def test_the_form_asks_bus_grupp_when_the_units_share_two_groups(client, two_groups):
    login(client, CHEF_B)
    # Before the units are known: the reporting unit's groups, to choose in advance.
    assert group_options(page(client.get("/avvikelser/ny"))) == ["", "farsta", "skarpnack"]

    response = post_report(client, receiving_unit=HAB)

    assert response.status_code == 422
    html = page(response)
    assert "BUS-grupp: välj vilken BUS-grupp rapporten gäller." in html
    assert group_options(html) == ["", "farsta", "skarpnack"]
    assert count(Deviation) == 0 and count(OutboxMessage) == 0


def test_a_reporting_unit_in_two_groups_without_a_shared_one_must_choose(client, two_groups):
    response = post_report(client, receiving_unit=FRISKOLA)
    assert response.status_code == 422
    assert MISSING in page(response)
    assert count(Deviation) == 0

    assert post_report(client, receiving_unit=FRISKOLA, bus_group="farsta").status_code == 302
    assert db.session.scalar(select(Deviation.group_id)) == "farsta"


def test_the_report_reaches_only_the_chosen_groups_secretary_digest_and_statistics(
    app, client, two_groups, smtp_sink
):
    """Skarpnäck is chosen: today's main took the alphabetically first group, Farsta."""
    farsta_meeting = meetings.plan(user(FARSTA_SECRETARY), "farsta", date.today(), "Farsta")
    skarpnack_meeting = meetings.plan(user(SECRETARY), "skarpnack", date.today(), "Skarpnäck")
    run_worker(app)  # each group's meeting notice goes to its own secretary and convener
    assert [m["To"] for m in smtp_sink.to(FARSTA_SECRETARY)] == [FARSTA_SECRETARY]
    smtp_sink.clear()

    response = post_report(client, receiving_unit=HAB, bus_group="skarpnack")

    assert response.status_code == 302, page(response)
    deviation = db.session.scalar(select(Deviation))
    assert deviation.group_id == "skarpnack"
    copies = select(OutboxMessage.to_email).where(OutboxMessage.kind == "copy_secretary")
    assert db.session.scalars(copies).all() == [SECRETARY]
    run_worker(app)
    assert len(smtp_sink.to(SECRETARY)) == 1
    assert smtp_sink.to(FARSTA_SECRETARY) == [] and smtp_sink.to(FARSTA_CONVENER) == []

    # The digest of the chosen group only.
    assert [d.id for d in meetings.cases_for_meeting(skarpnack_meeting)] == [deviation.id]
    assert meetings.cases_for_meeting(farsta_meeting) == []
    # Statistics: the other group does not count it.
    period = current_half(deviation.sent_at.date())
    assert statistics_report.group_report("skarpnack", period)["deviations"]["total"] == 1
    assert statistics_report.group_report("farsta", period)["deviations"]["total"] == 0
    # The secretaries' lists.
    client.post("/logga-ut")
    login(client, FARSTA_SECRETARY)
    assert deviation.case_number not in page(client.get("/avvikelser"))
    client.post("/logga-ut")
    login(client, SECRETARY)
    assert deviation.case_number in page(client.get("/avvikelser"))

    # Escalation after the deadline: the chosen group's secretary and convener only.
    deviation.deadline = date.today() - timedelta(days=3)
    deviation.reminded_before_at = deviation.reminded_due_at = datetime.now(UTC)
    db.session.commit()
    reminders.send_due()
    overdue = select(OutboxMessage.to_email).where(OutboxMessage.kind == "overdue")
    assert sorted(db.session.scalars(overdue)) == sorted([SECRETARY, CONVENER])


def test_a_group_the_units_do_not_share_is_refused(client, two_groups):
    response = post_report(client, receiving_unit=FARSTA_SCHOOL, bus_group="skarpnack")

    assert response.status_code == 422
    assert "BUS-grupp:" in page(response)
    assert group_options(page(response)) == ["", "farsta"]
    assert count(Deviation) == 0 and count(OutboxMessage) == 0


def test_one_possible_group_asks_nothing(client, two_groups):
    # BUP (both groups) → Farsta grundskola (Farsta only): the shared group, no question.
    assert post_report(client, receiving_unit=FARSTA_SCHOOL).status_code == 302
    assert db.session.scalar(select(Deviation.group_id)) == "farsta"
    # A chef whose unit is in one group never sees the field.
    client.post("/logga-ut")
    login(client, CHEF_A)
    assert group_options(page(client.get("/avvikelser/ny"))) is None
    response = client.post("/avvikelser/ny", data=form_data(receiving_unit=BUP))
    assert response.status_code == 302
    groups = db.session.scalars(select(Deviation.group_id).order_by(Deviation.id)).all()
    assert groups == ["farsta", "skarpnack"]


def test_the_service_checks_the_choice_again(two_groups):
    chef = user(CHEF_B)
    for choice in (None, "vantor", "no-such-group"):
        data = report_input(reporting_unit_id=BUP, receiving_unit_id=HAB, group_id=choice)
        with pytest.raises(GroupNotChosen):
            deviations_service.save(chef, data, send=True)
        db.session.rollback()
    data = report_input(
        reporting_unit_id=BUP, receiving_unit_id=FARSTA_SCHOOL, group_id="skarpnack"
    )
    with pytest.raises(GroupNotChosen):
        deviations_service.save(chef, data, send=False)
    db.session.rollback()
    assert count(Deviation) == 0 and count(OutboxMessage) == 0
    data = report_input(reporting_unit_id=BUP, receiving_unit_id=HAB, group_id="skarpnack")
    assert deviations_service.save(chef, data, send=True).deviation.group_id == "skarpnack"


def test_a_draft_whose_group_became_impossible_asks_again_before_sending(client, two_groups):
    draft = deviations_service.save(
        user(CHEF_B),
        report_input(reporting_unit_id=BUP, receiving_unit_id=HAB, group_id="farsta"),
        send=False,
    ).deviation
    assert draft.group_id == "farsta"
    changed = directory_with_two_groups()  # BUP and HAB move from Farsta to Enskede
    changed["bus_groups"].append({"id": "enskede", "name": "Lokal BUS Enskede"})
    for unit in changed["units"]:
        if unit["id"] in (BUP, HAB):
            unit["bus_groups"] = ["skarpnack", "enskede"]
    import_directory(changed)
    db.session.commit()
    login(client, CHEF_B)

    response = client.post(f"/avvikelser/{draft.id}/skicka")

    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/avvikelser/{draft.id}/redigera")
    db.session.expire_all()
    assert db.session.get(Deviation, draft.id).state == "utkast"
    assert count(OutboxMessage) == 0
    edit = client.get(f"/avvikelser/{draft.id}/redigera")
    assert "BUS-grupp: välj vilken BUS-grupp rapporten gäller innan du skickar." in page(edit)
    assert group_options(page(edit)) == ["", "enskede", "skarpnack"]

    fields = form_data(reporting_unit=BUP, receiving_unit=HAB, bus_group="enskede")
    assert client.post(f"/avvikelser/{draft.id}/redigera", data=fields).status_code == 302
    db.session.expire_all()
    sent = db.session.get(Deviation, draft.id)
    assert (sent.state, sent.group_id) == ("skickad", "enskede")


# --- SIP and BUS-individ ----------------------------------------------------------------


def test_a_sip_meeting_of_a_unit_in_two_groups_asks_and_stores_the_group(client, two_groups):
    login(client, CHEF_B)
    assert group_options(page(client.get("/sip/ny"))) == ["", "farsta", "skarpnack"]
    fields = {"initiator_unit": BUP, "called_units": [HAB, FARSTA_SCHOOL]}

    response = client.post("/sip/ny", data=sip_form(**fields))

    assert response.status_code == 422
    assert "BUS-grupp: välj vilken BUS-grupp mötet gäller." in page(response)
    assert count(SipMeeting) == 0 and count(OutboxMessage) == 0
    refused = client.post("/sip/ny", data=sip_form(bus_group="vantor", **fields))
    assert refused.status_code == 422 and "BUS-grupp:" in page(refused)

    response = client.post("/sip/ny", data=sip_form(bus_group="farsta", **fields))

    assert response.status_code == 302, page(response)
    meeting = db.session.scalar(select(SipMeeting))
    assert meeting.group_id == "farsta"
    meeting.state, meeting.held_at = "genomford", meeting.meeting_at
    db.session.commit()
    day = meeting.meeting_at.date()
    assert statistics.meeting_counts("farsta", day, day)["sip"]["total"] == 1
    assert statistics.meeting_counts("skarpnack", day, day)["sip"]["total"] == 0


def test_a_sip_meeting_of_a_unit_in_one_group_asks_nothing(client, two_groups):
    login(client, CHEF_A)
    assert group_options(page(client.get("/sip/ny"))) is None
    assert client.post("/sip/ny", data=sip_form()).status_code == 302
    assert db.session.scalar(select(SipMeeting.group_id)) == "skarpnack"


def test_bus_individ_of_a_unit_in_two_groups_uses_the_chosen_groups_settings(client, two_groups):
    login(client, CHEF_B)
    form_page = page(client.get("/bus-individ/ny"))
    assert group_options(form_page) == ["", "farsta", "skarpnack"]
    fields = {"raised_by_unit": BUP, "participants": [BUP, FARSTA_SCHOOL]}

    response = client.post("/bus-individ/ny", data=minutes_form(**fields))

    assert response.status_code == 422
    assert "BUS-grupp: välj vilken BUS-grupp protokollet gäller." in page(response)
    assert count(BusIndivid) == 0 and count(OutboxMessage) == 0

    response = client.post("/bus-individ/ny", data=minutes_form(bus_group="farsta", **fields))

    assert response.status_code == 302, page(response)
    record = db.session.scalar(select(BusIndivid))
    assert record.group_id == "farsta"
    assert (record.convener_unit_id, record.chair_unit_id) == (FARSTA_SCHOOL, BUP)
    day = record.meeting_date
    assert statistics.meeting_counts("farsta", day, day)["bus_individ"]["total"] == 1
    assert statistics.meeting_counts("skarpnack", day, day)["bus_individ"]["total"] == 0


def test_deviation_form_offers_the_group_of_the_sip_it_follows(client, two_groups):
    """A deviation pre-filled from a SIP meeting proposes that meeting's group."""
    login(client, CHEF_B)
    fields = {"initiator_unit": BUP, "called_units": [HAB], "bus_group": "farsta"}
    assert client.post("/sip/ny", data=sip_form(**fields)).status_code == 302
    meeting = db.session.scalar(select(SipMeeting))
    html = page(client.get(f"/avvikelser/ny?sip={meeting.id}&enhet={HAB}"))
    assert re.search(r'<option selected value="farsta">', html), html


@pytest.mark.parametrize(
    "url, form",
    [
        ("/avvikelser/ny", form_data(reporting_unit=BUP, receiving_unit=HAB)),
        ("/sip/ny", sip_form(initiator_unit=BUP, called_units=[HAB])),
        ("/bus-individ/ny", minutes_form(raised_by_unit=BUP, participants=[BUP, HAB])),
    ],
)
def test_an_otherwise_valid_form_with_an_impossible_group_is_refused(client, two_groups, url, form):
    """A valid form is not looked up twice: the service refuses, the page says why (no 500)."""
    login(client, CHEF_B)

    response = client.post(url, data={**form, "bus_group": "nedlagd"})

    assert response.status_code == 422
    assert "BUS-grupp: välj en av BUS-grupperna i listan." in page(response)
    assert group_options(page(response)) == ["", "farsta", "skarpnack"]
    assert count(Deviation) + count(SipMeeting) + count(BusIndivid) == 0
    assert count(OutboxMessage) == 0


def test_the_group_error_shows_with_the_forms_other_errors(client, two_groups):
    response = post_report(client, receiving_unit=HAB, description="")

    assert response.status_code == 422
    html = page(response)
    assert "Beskrivning av avvikelsen: fyll i uppgiften." in html
    assert "BUS-grupp: välj vilken BUS-grupp rapporten gäller." in html
