"""Held SIP and BUS-individ meetings counted by local date, gender, type and group (SPEC §6)."""

from __future__ import annotations

from datetime import UTC, date, datetime

from formservice.extensions import db
from formservice.models import BusGroup
from formservice.services.statistics import (
    meeting_counts,
    meeting_counts_by_group,
    meeting_counts_of_none,
)

from .meeting_helpers import bus_individ, sip_meeting

H1 = (date(2026, 1, 1), date(2026, 6, 30))
H2 = (date(2026, 7, 1), date(2026, 12, 31))


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def seed() -> None:
    db.session.add(BusGroup(id="farsta", name="Lokal BUS Farsta", active=True))
    db.session.commit()
    # 23:59 on 30 June in Stockholm (CEST, UTC+2): the first half-year.
    sip_meeting(utc(2026, 6, 30, 21, 59), gender="flicka", meeting_type="forsta")
    # 00:30 on 1 July in Stockholm although still 30 June in UTC: the second half-year.
    sip_meeting(utc(2026, 6, 30, 22, 30), gender="pojke", meeting_type="uppfoljning")
    sip_meeting(utc(2026, 1, 1, 0, 0), gender="flicka", meeting_type="uppfoljning")  # 01:00 local
    sip_meeting(utc(2025, 12, 31, 22, 59), gender="pojke")  # 23:59 on New Year's Eve: 2025
    sip_meeting(utc(2026, 3, 3, 9, 0), gender="annat", state="skickad", held=True)  # held
    sip_meeting(utc(2026, 3, 4, 9, 0), gender="annat", state="skickad")  # not held yet
    sip_meeting(utc(2026, 3, 5, 9, 0), gender="annat", state="utkast")
    sip_meeting(utc(2026, 5, 5, 9, 0), gender="pojke", group_id="farsta")
    sip_meeting(
        utc(2026, 8, 8, 9, 0), gender="flicka", group_id="farsta", meeting_type="uppfoljning"
    )
    bus_individ(date(2026, 6, 30), gender="flicka")
    bus_individ(date(2026, 7, 1), gender="pojke")
    bus_individ(date(2026, 7, 2), gender="pojke", group_id="farsta")
    bus_individ(date(2026, 2, 2), gender="annat", state="utkast")


def test_first_half_year_all_groups(directory):
    seed()
    counts = meeting_counts(None, *H1)
    assert counts["sip"] == {
        "total": 4,
        "by_gender": {"flicka": 2, "pojke": 1, "annat": 1},
        "by_type": {"forsta": 3, "uppfoljning": 1},
        "by_gender_and_type": {
            "flicka": {"forsta": 1, "uppfoljning": 1},
            "pojke": {"forsta": 1, "uppfoljning": 0},
            "annat": {"forsta": 1, "uppfoljning": 0},
        },
    }
    assert counts["bus_individ"] == {
        "total": 1,
        "by_gender": {"flicka": 1, "pojke": 0, "annat": 0},
    }


def test_second_half_year_gets_the_meeting_after_local_midnight(directory):
    seed()
    counts = meeting_counts(None, *H2)
    assert counts["sip"]["by_gender_and_type"]["pojke"] == {"forsta": 0, "uppfoljning": 1}
    assert counts["sip"]["by_gender"] == {"flicka": 1, "pojke": 1, "annat": 0}
    assert counts["sip"]["by_type"] == {"forsta": 0, "uppfoljning": 2}
    assert counts["bus_individ"]["by_gender"] == {"flicka": 0, "pojke": 2, "annat": 0}


def test_single_days_are_inclusive_and_local(directory):
    seed()
    june_30 = meeting_counts("skarpnack", date(2026, 6, 30), date(2026, 6, 30))
    july_1 = meeting_counts("skarpnack", date(2026, 7, 1), date(2026, 7, 1))
    assert (june_30["sip"]["total"], june_30["sip"]["by_gender"]["flicka"]) == (1, 1)
    assert (july_1["sip"]["total"], july_1["sip"]["by_gender"]["pojke"]) == (1, 1)
    assert (june_30["bus_individ"]["total"], july_1["bus_individ"]["total"]) == (1, 1)
    new_year = meeting_counts(None, date(2025, 12, 31), date(2025, 12, 31))
    assert new_year["sip"]["total"] == 1


def test_group_filter(directory):
    seed()
    skarpnack = meeting_counts("skarpnack", date(2026, 1, 1), date(2026, 12, 31))
    farsta = meeting_counts("farsta", date(2026, 1, 1), date(2026, 12, 31))
    everyone = meeting_counts(None, date(2026, 1, 1), date(2026, 12, 31))
    assert (skarpnack["sip"]["total"], farsta["sip"]["total"], everyone["sip"]["total"]) == (
        4,
        2,
        6,
    )
    assert farsta["sip"]["by_gender"] == {"flicka": 1, "pojke": 1, "annat": 0}
    assert farsta["bus_individ"] == {"total": 1, "by_gender": {"flicka": 0, "pojke": 1, "annat": 0}}
    assert skarpnack["bus_individ"]["total"] + farsta["bus_individ"]["total"] == 3
    assert meeting_counts("okand-grupp", *H1)["sip"]["total"] == 0


def test_every_group_at_once_counts_as_each_group_alone(directory):
    """The yearly compilation counts every group in two queries: the same figures."""
    seed()
    for period in (H1, H2, (date(2025, 1, 1), date(2026, 12, 31))):
        by_group = meeting_counts_by_group(*period)
        for group_id in ("skarpnack", "farsta", "nowhere"):
            alone = meeting_counts(group_id, *period)
            assert by_group.get(group_id, meeting_counts_of_none()) == alone, (period, group_id)
