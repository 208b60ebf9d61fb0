"""The authorization matrix: every route × every role, walked against the real app."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import yaml
from flask import g
from sqlalchemy import select

from formservice.extensions import db
from formservice.models import GroupMeeting, User
from formservice.services.directory import import_directory
from formservice.tokens import make_token
from tests.conftest import DEMO_DIRECTORY, _password_hash, login

from .helpers import CHEF_B, SECRETARY, send_report, user
from .meeting_helpers import bus_individ, sip_meeting

ROLES = {
    "anon": None,
    "chef_a": "fia.familj@stad.example",  # reporting unit; SIP initiator; raised BUS-individ
    "chef_b": "ines.sved@region.example",  # receiving unit; called to SIP; BUS-individ participant
    "deputy_b": "per.ersatt@region.example",
    "unrelated": "frans.forskolechef@stad.example",
    "other_sec": "olle.annan@stad.example",  # secretary of another BUS group
    "secretary": "sam.prevent@stad.example",
    "convener": "vera.callen@stad.example",
    "secretariat": "bus-avvikelser@storsthlm.example",
    "admin": "ada@stad.example",
    "link_other": None,  # holds a valid answer link, but for another report
}

# route, then the expected outcome per role in the order of ROLES:
# 200 ok, 403 forbidden, login = redirected to the login page.
MATRIX = """
GET  /avvikelser                  login 200 200 200 200 200 200 200 200 403 login
GET  /avvikelser/ny               login 200 200 200 200 403 403 403 403 403 login
GET  /avvikelser/{d}              login 200 200 200 403 403 200 200 200 403 login
GET  /avvikelser/{d}/avvikelse.docx login 200 200 200 403 403 200 200 200 403 login
GET  /avvikelser/{d}/svara        login 403 200 200 403 403 403 403 403 403 login
GET  /avvikelser/{d}/redigera     login 302 403 403 403 403 403 403 403 403 login
GET  /avvikelser/{d}/avsluta      login 403 403 403 403 403 200 403 403 403 login
POST /avvikelser/{d}/aterkalla    login skip 403 403 403 403 403 403 403 403 login
POST /avvikelser/{d}/vidarebefordra login 403 skip skip 403 403 403 403 403 403 login
GET  /sip/{s}                     login 200 200 200 403 403 403 403 403 403 login
GET  /sip/{s}/narvaro             login 200 403 403 403 403 403 403 403 403 login
GET  /bus-individ/{b}             login 200 200 200 403 403 403 403 403 403 login
GET  /styrgrupp/moten/{m}         login 403 403 403 403 403 200 200 403 403 login
GET  /statistik?grupp=skarpnack   login 403 403 403 403 403 200 200 200 403 login
GET  /svara/{t}                   200 200 200 200 200 200 200 200 200 200 200
"""


def rows() -> list[tuple[str, str, dict[str, str]]]:
    table = []
    for line in MATRIX.strip().splitlines():
        method, route, *outcomes = line.split()
        assert len(outcomes) == len(ROLES), route
        table.append((method, route, dict(zip(ROLES, outcomes, strict=True))))
    return table


def with_second_group() -> None:
    """The demo directory plus a second local BUS group with its own secretary."""
    data = yaml.safe_load(DEMO_DIRECTORY.read_text(encoding="utf-8"))
    data["bus_groups"].append(
        {
            "id": "farsta",
            "name": "Lokal BUS Farsta",
            "convener": {"name": "Otto Ordf", "email": "otto.ordf@stad.example"},
            "secretary": {"name": "Olle Annan", "email": "olle.annan@stad.example"},
        }
    )
    data["units"].append(
        {
            "id": "grundskola-farsta",
            "name": "Farsta grundskola",
            "huvudman": "stockholms-stad",
            "type": "grundskola",
            "bus_groups": ["farsta"],
            "chef": {"name": "Fredrik Farsta", "email": "fredrik.farsta@stad.example"},
        }
    )
    import_directory(data)
    for person in db.session.scalars(select(User)):
        person.password_hash = _password_hash()
    db.session.commit()


@pytest.fixture
def world(directory):
    with_second_group()
    deviation = send_report()
    other = send_report()
    past = datetime.now(UTC) - timedelta(days=2)
    sip = sip_meeting(past, state="skickad", held=False)
    record = bus_individ(past.date())
    meeting = GroupMeeting(
        group_id="skarpnack",
        meeting_date=past.date(),
        place="Stadsdelshuset",
        created_by_id=user(SECRETARY).id,
    )
    db.session.add(meeting)
    db.session.commit()
    return {
        "d": deviation.id,
        "s": sip.id,
        "b": record.id,
        "m": meeting.id,
        "t": make_token(other.id, CHEF_B, other.link_version),
        "other_token": make_token(other.id, CHEF_B, other.link_version),
    }


def test_the_whole_matrix(world, app):
    failures = []
    for role, email in ROLES.items():
        g.pop("_login_user", None)  # the fixture's app context outlives requests; a server's not
        client = app.test_client()
        if email:
            assert login(client, email).status_code == 302, email
        if role == "link_other":
            assert client.get(f"/svara/{world['other_token']}").status_code == 200
        for method, route, expected in rows():
            outcome = expected[role]
            if outcome == "skip":
                continue  # the role may do this; doing it would change the state under test
            url = route.format(**world)
            response = client.open(url, method=method)
            got = _outcome(response)
            if got != outcome:
                failures.append(f"{role:12} {method} {url}: expected {outcome}, got {got}")
    assert not failures, "\n".join(failures)


def _outcome(response) -> str:
    if response.status_code == 302 and "/logga-in" in response.headers.get("Location", ""):
        return "login"
    return str(response.status_code)


# --- "Försök igen" on a failed SIP kallelse or BUS-individ minutes e-mail (issue 12, item 8) --
# The initiating side (chef_a: initiating unit, creator) and the group's secretary; never a
# called or participating unit (chef_b, deputy_b), another group's secretary or anyone else.

RETRY_MATRIX = """
POST /utskick/{fs}/forsok-igen    login 302 403 403 403 403 302 403 403 403 login
POST /utskick/{fb}/forsok-igen    login 302 403 403 403 403 302 403 403 403 login
POST /utskick/999999/forsok-igen  login 404 404 404 404 404 404 404 404 404 login
"""


@pytest.fixture
def failed_deliveries(world):
    from formservice.models import BusIndivid, OutboxMessage, SipMeeting
    from formservice.services import bus_individ as bus_individ_service
    from formservice.services import outbox
    from formservice.services import sip as sip_service

    meeting = db.session.get(SipMeeting, world["s"])
    record = db.session.get(BusIndivid, world["b"])
    sip_rows = outbox.rows(
        "sip_invitation", sip_service.recipients(meeting), None, **sip_service.summary(meeting)
    )
    minutes = bus_individ_service.recipients(record)
    minutes_rows = outbox.rows(
        "bus_individ_minutes", minutes, None, **bus_individ_service.summary(record)
    )
    ids = outbox.write([sip_rows[0], minutes_rows[0]])
    for message in db.session.scalars(select(OutboxMessage).where(OutboxMessage.id.in_(ids))):
        message.state = "failed"
    db.session.commit()
    return {**world, "fs": ids[0], "fb": ids[1]}


def test_retrying_failed_deliveries(failed_deliveries, app):
    failures = []
    for role, email in ROLES.items():
        g.pop("_login_user", None)
        client = app.test_client()
        if email:
            assert login(client, email).status_code == 302, email
        for line in RETRY_MATRIX.strip().splitlines():
            method, route, *outcomes = line.split()
            url = route.format(**failed_deliveries)
            got = _outcome(client.open(url, method=method))
            expected = dict(zip(ROLES, outcomes, strict=True))[role]
            if got != expected:
                failures.append(f"{role:12} {method} {url}: expected {expected}, got {got}")
    assert not failures, "\n".join(failures)
