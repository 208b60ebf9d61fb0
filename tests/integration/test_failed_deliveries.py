"""A SIP kallelse or BUS-individ minutes e-mail that gave up is shown to the initiating side
(on the meeting's page) and to the group's secretary (on the report list), with "Försök igen",
as for deviations; the retry is a POST with CSRF, audited, authorized, and the worker delivers
it to the SMTP sink (both databases)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from formservice.extensions import db
from formservice.models import AuditEvent, OutboxMessage
from formservice.services import bus_individ as bus_individ_service
from formservice.services import outbox
from formservice.services import sip as sip_service
from tests.support.app import login, run_worker

from .helpers import CHEF_A, CHEF_B, DEPUTY_A, DEPUTY_B, SECRETARY, UNRELATED_CHEF
from .meeting_helpers import bus_individ, sip_meeting, stockholm_today

BOX = "Utskick som inte gått fram"
SCHOOL_CHEF = "greta.skolchef@stad.example"  # chairs BUS-individ in Skarpnäck
OTHER_SECRETARY = "olle.annan@stad.example"


def text_of(response) -> str:
    return response.get_data(as_text=True)


def failed_row(kind: str, to: str) -> OutboxMessage:
    """The message of `kind` to `to`, marked as given up (as the worker leaves it)."""
    row = db.session.scalar(
        select(OutboxMessage).where(OutboxMessage.kind == kind, OutboxMessage.to_email == to)
    )
    row.state, row.attempts, row.last_error = "failed", 6, "550 mailbox unavailable"
    db.session.commit()
    return row


@pytest.fixture
def failed_sip(directory):
    """A sent SIP meeting whose kallelse to BUP Farsta's chef gave up."""
    meeting = sip_meeting(datetime.now(UTC) + timedelta(days=30), state="skickad", held=False)
    rows = outbox.rows(
        "sip_invitation",
        sip_service.recipients(meeting),
        None,
        **sip_service.summary(meeting),
    )
    outbox.write(rows)
    db.session.commit()
    return meeting, failed_row("sip_invitation", CHEF_B)


@pytest.fixture
def failed_minutes(directory):
    """A BUS-individ record whose minutes to BUP Farsta's chef gave up."""
    record = bus_individ(stockholm_today() - timedelta(days=1))
    rows = outbox.rows(
        bus_individ_service.MESSAGE_KIND,
        bus_individ_service.recipients(record),
        None,
        **bus_individ_service.summary(record),
    )
    outbox.write(rows)
    db.session.commit()
    return record, failed_row("bus_individ_minutes", CHEF_B)


def with_other_secretary() -> None:
    from .test_authorization import with_second_group

    with_second_group()


def sees_box(client, email: str, url: str) -> bool:
    client.post("/logga-ut")
    login(client, email)
    response = client.get(url)
    return response.status_code == 200 and BOX in text_of(response) and CHEF_B in text_of(response)


@pytest.mark.parametrize("kind", ["sip", "bus_individ"])
def test_only_the_initiating_side_and_the_secretary_see_the_failed_delivery(request, client, kind):
    record, _ = request.getfixturevalue("failed_sip" if kind == "sip" else "failed_minutes")
    with_other_secretary()
    page = f"/sip/{record.id}" if kind == "sip" else f"/bus-individ/{record.id}"
    assert sees_box(client, CHEF_A, page)  # the initiating unit's chef (and the creator)
    assert sees_box(client, DEPUTY_A, page)  # … and deputy
    assert sees_box(client, SECRETARY, "/avvikelser")  # the group's secretary, on her list
    assert not sees_box(client, CHEF_B, page)  # called or participating: sees the page only
    assert not sees_box(client, DEPUTY_B, page)
    assert not sees_box(client, CHEF_B, "/avvikelser")
    assert not sees_box(client, UNRELATED_CHEF, "/avvikelser")
    assert not sees_box(client, OTHER_SECRETARY, "/avvikelser")
    assert not sees_box(client, SECRETARY, page)  # the child's page stays closed to her
    if kind == "bus_individ":
        assert not sees_box(client, SCHOOL_CHEF, page)  # the chairing unit


def test_the_secretary_sees_no_child_in_the_failed_delivery(client, failed_sip):
    login(client, SECRETARY)
    page = text_of(client.get("/avvikelser"))
    meeting, _ = failed_sip
    assert "SIP-möte" in page and "Familjeenheten Skarpnäck" in page
    assert "Hemligsson" not in page and "Skolan, rum 3" not in page


@pytest.mark.parametrize("kind", ["sip", "bus_individ"])
def test_forsok_igen_puts_it_back_and_the_worker_delivers_it(request, app, client, smtp_sink, kind):
    record, row = request.getfixturevalue("failed_sip" if kind == "sip" else "failed_minutes")
    for message in db.session.scalars(select(OutboxMessage).where(OutboxMessage.id != row.id)):
        message.state = "sent"  # only the failed one is left to deliver
    db.session.commit()
    login(client, CHEF_A)
    page = f"/sip/{record.id}" if kind == "sip" else f"/bus-individ/{record.id}"
    response = client.post(f"/utskick/{row.id}/forsok-igen")
    assert response.status_code == 302 and response.location.endswith(page)
    assert "Utskicket görs om." in text_of(client.get(page))
    db.session.expire_all()
    assert db.session.get(OutboxMessage, row.id).state == "pending"
    audit = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "outbox.retried"))
    assert audit is not None and audit.object_id == str(row.id) and audit.actor == CHEF_A
    run_worker(app)
    db.session.expire_all()
    assert db.session.get(OutboxMessage, row.id).state == "sent"
    delivered = smtp_sink.to(CHEF_B)
    assert len(delivered) == 1
    assert page in delivered[0].get_content()
    assert BOX not in text_of(client.get(page))


def test_the_secretary_retries_from_her_list(client, failed_minutes):
    _, row = failed_minutes
    login(client, SECRETARY)
    response = client.post(f"/utskick/{row.id}/forsok-igen")
    assert response.status_code == 302 and response.location.endswith("/avvikelser")
    db.session.expire_all()
    assert db.session.get(OutboxMessage, row.id).state == "pending"


@pytest.mark.parametrize("kind", ["sip", "bus_individ"])
def test_others_may_not_retry(request, client, kind):
    _, row = request.getfixturevalue("failed_sip" if kind == "sip" else "failed_minutes")
    with_other_secretary()
    for email in (CHEF_B, DEPUTY_B, UNRELATED_CHEF, OTHER_SECRETARY, SCHOOL_CHEF):
        client.post("/logga-ut")
        login(client, email)
        assert client.post(f"/utskick/{row.id}/forsok-igen").status_code == 403, email
    assert client.post("/utskick/999999/forsok-igen").status_code == 404
    client.post("/logga-ut")
    anonymous = client.post(f"/utskick/{row.id}/forsok-igen")
    assert anonymous.status_code == 302 and "/logga-in" in anonymous.location
    db.session.expire_all()
    assert db.session.get(OutboxMessage, row.id).state == "failed"


def test_the_retry_needs_its_csrf_token(app, client, failed_sip):
    _, row = failed_sip
    login(client, CHEF_A)
    app.config["WTF_CSRF_ENABLED"] = True
    assert client.post(f"/utskick/{row.id}/forsok-igen").status_code == 400
    db.session.expire_all()
    assert db.session.get(OutboxMessage, row.id).state == "failed"
