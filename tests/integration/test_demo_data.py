"""`formservice demo-data` (issue 16): a synthetic county written through the services, on
SQLite and PostgreSQL: every state, several groups per region unit, invented people and test
personnummer only, the same data from the same seed, and an empty database or nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest
import yaml
from sqlalchemy import func, select

from formservice import clock
from formservice.cli import main
from formservice.demo.data import Volume, generate
from formservice.domain.deidentify import find_personal_data
from formservice.domain.sip import parse_personnummer
from formservice.extensions import db
from formservice.models import (
    AuditEvent,
    BusIndivid,
    Deviation,
    DeviationClosing,
    Digest,
    Forwarding,
    GroupMeeting,
    OutboxMessage,
    SipCalledUnit,
    SipMeeting,
    Unit,
    User,
)
from formservice.services import outbox
from formservice.services.directory import import_directory
from tests.support.app import reset_database
from tests.support.paths import DEMO_DIRECTORY

#: A smaller year than the product's default, so that four groups × two years stay quick.
SMALL = Volume(deviations=30, sip_meetings=14, bus_individ=4)


def _count(*where, model=Deviation) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def test_a_county_has_every_state_through_the_services(app):
    summary = generate(groups=2, years=3, seed=5, volume=SMALL)
    today = clock.today()

    assert summary.groups == 2 and summary.deviations == _count()
    states = dict(
        db.session.execute(select(Deviation.state, func.count()).group_by(Deviation.state)).all()
    )
    for state in ("skickad", "besvarad", "avslutad", "återkallad"):
        assert states.get(state, 0) > 0, states
    overdue = _count(Deviation.state == "skickad", Deviation.deadline < today)
    assert overdue > 0
    assert _count(model=Forwarding) > 0
    closings = db.session.scalars(select(DeviationClosing)).all()
    assert closings and all(c.measures and c.measures[0]["unit_id"] for c in closings)
    # years of history, dated by the clock the services read: cases of every month
    first = db.session.scalar(select(func.min(Deviation.sent_at)))
    assert clock.local_date(first) < today - timedelta(days=600)
    years = {n[5:9] for n in db.session.scalars(select(Deviation.case_number))}
    assert len(years) >= 2
    created = db.session.scalar(select(func.min(Deviation.created_at)))
    assert clock.local_date(created) < today - timedelta(days=600)
    assert db.session.scalar(select(func.min(AuditEvent.at))) < clock.now() - timedelta(600)

    # SIP meetings held and to come, attendance with absences and the deviations they led to
    assert _count(SipMeeting.state == "genomford", model=SipMeeting) > 0
    assert _count(SipMeeting.state == "skickad", model=SipMeeting) > 0
    attendance = set(db.session.scalars(select(SipCalledUnit.attendance).distinct()))
    assert {"narvarande", "franvarande"} <= attendance
    assert _count(Deviation.sip_id.is_not(None)) > 0
    assert _count(model=BusIndivid) > 0
    # past the retention period the child's identity is gone, as the daily job does
    assert _count(SipMeeting.identity_removed_at.is_not(None), model=SipMeeting) > 0

    # the steering groups met; each group's latest meeting has its digest queued
    for group_id in db.session.scalars(select(GroupMeeting.group_id).distinct()):
        assert _count(GroupMeeting.group_id == group_id, model=GroupMeeting) >= 6
    assert _count(Digest.state == "queued", model=Digest) == summary.digests == 2

    # e-mails settled as the worker would: none waiting, some refused for the secretaries
    assert _count(OutboxMessage.state.in_(["pending", "sending"]), model=OutboxMessage) == 0
    assert _count(OutboxMessage.state == "sent", model=OutboxMessage) > 0
    groups = set(db.session.scalars(select(GroupMeeting.group_id).distinct()))
    assert outbox.failed_for_groups(groups)


def test_region_units_serve_several_groups(app):
    generate(groups=4, years=1, seed=2, volume=SMALL)
    region = db.session.scalars(select(Unit).where(Unit.huvudman_id == "region")).all()
    assert {u.type for u in region} == {"bup", "hab"}
    assert max(len(u.groups) for u in region) >= 3
    shared = [u for u in region if len(u.groups) > 1]
    for unit in shared:  # such a unit's cases fall in more than one group
        groups = db.session.scalars(
            select(Deviation.group_id)
            .where(
                (Deviation.reporting_unit_id == unit.id) | (Deviation.receiving_unit_id == unit.id)
            )
            .distinct()
        ).all()
        assert len(groups) > 1, unit.id


def test_only_invented_people_and_test_personnummer(app):
    generate(groups=2, years=1, seed=9, volume=SMALL)
    emails = db.session.scalars(select(User.email)).all()
    assert emails and all(e.endswith(".example") for e in emails)
    numbers = db.session.scalars(
        select(SipMeeting.child_personnummer).where(SipMeeting.child_personnummer.is_not(None))
    ).all()
    assert numbers
    for number in numbers:
        assert parse_personnummer(number)[0] == number  # valid, as the form stores it
        assert 980 <= int(number[9:12]) <= 999  # the test series, never a person's
    texts = db.session.execute(
        select(Deviation.description, Deviation.actions_taken, Deviation.proposal)
    ).all()
    assert all(not find_personal_data(t) for row in texts for t in row)


def _fingerprint() -> list:
    deviations = db.session.execute(
        select(
            Deviation.case_number,
            Deviation.state,
            Deviation.reporting_unit_id,
            Deviation.receiving_unit_id,
            Deviation.categories,
            Deviation.sent_at,
        ).order_by(Deviation.id)
    ).all()
    sip = db.session.execute(
        select(
            SipMeeting.child_name, SipMeeting.child_personnummer, SipMeeting.meeting_at
        ).order_by(SipMeeting.id)
    ).all()
    people = db.session.scalars(select(User.email).order_by(User.email)).all()
    return [list(deviations), list(sip), list(people)]


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_the_same_seed_gives_the_same_county(app):
    generate(groups=2, years=1, seed=11, volume=SMALL)
    first = _fingerprint()
    reset_database(app)
    generate(groups=2, years=1, seed=11, volume=SMALL)
    assert _fingerprint() == first
    reset_database(app)
    generate(groups=2, years=1, seed=12, volume=SMALL)
    assert _fingerprint() != first


def test_the_command_fills_an_empty_database_and_refuses_a_used_one(app):
    runner = app.test_cli_runner()
    result = runner.invoke(main, ["demo-data", "--groups", "1", "--years", "1", "--seed", "3"])
    assert result.exit_code == 0, result.output
    assert "Demodata är inläst" in result.output
    written = _count()
    assert written > 50  # the product's year: about a hundred reports per group

    again = runner.invoke(main, ["demo-data", "--groups", "1", "--years", "1"])
    assert again.exit_code != 0 and "fyller bara en tom databas" in again.output
    assert _count() == written  # nothing more was written


def test_the_command_leaves_a_directory_alone(app):
    import_directory(yaml.safe_load(DEMO_DIRECTORY.read_text(encoding="utf-8")))
    units = db.session.scalars(select(Unit.id).where(Unit.active)).all()
    result = app.test_cli_runner().invoke(main, ["demo-data", "--groups", "2"])
    assert result.exit_code != 0 and "redan en katalog" in result.output
    assert db.session.scalars(select(Unit.id).where(Unit.active)).all() == units
    assert _count() == 0


@pytest.mark.parametrize("bad", [["--groups", "0"], ["--years", "x"]])
def test_bad_options_are_named(app, bad):
    result = app.test_cli_runner().invoke(main, ["demo-data", *bad])
    assert result.exit_code == 2 and ("--groups" in result.output or "--years" in result.output)
