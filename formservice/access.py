"""Who may see and do what, derived from the directory (SPEC §2) on every request: only active
units, groups and people grant anything, so a re-import that removes them removes the access."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from flask import has_request_context, request
from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Row,
    Select,
    and_,
    bindparam,
    event,
    false,
    or_,
    select,
)
from sqlalchemy.orm import Session

from .domain.deviation import UTKAST
from .domain.sip import UTKAST as SIP_UTKAST
from .extensions import db
from .models import (
    BusGroup,
    BusIndivid,
    Deviation,
    Measure,
    OutboxMessage,
    SipCalledUnit,
    SipMeeting,
    Unit,
    User,
)
from .models.directory import unit_deputies


def _manages(user_id: int | BindParameter[int]) -> ColumnElement[bool]:
    """An active unit where the user is chef or deputy (an inactive unit grants nothing)."""
    deputy = select(unit_deputies.c.unit_id).where(unit_deputies.c.user_id == user_id)
    return and_(Unit.active, or_(Unit.chef_id == user_id, Unit.id.in_(deputy)))


_ASKED = "formservice.access.asked"


def _once_a_request(kind: str, user: User, ask: Callable[[], set[str]]) -> set[str]:
    """`ask()`, asked once a request per user (a list page, its menu and its checks ask the
    same directory questions several times) and kept in the request's environ, as
    `auth.leads_a_group`. Forgotten whenever the session writes or ends a transaction
    (`_forget`), so a change made earlier in the same request is always seen. Outside a
    request (the worker, the CLI, tests calling services) asked every time."""
    kept = _asked(user)
    if kind not in kept:
        found = ask()
        _keep(user, kind, found)
        return found
    return set(kept[kind])


def _asked(user: User) -> dict[str, frozenset[str]]:
    """What this request has asked about the user (nothing outside a request)."""
    if not has_request_context():
        return {}
    return request.environ.setdefault(_ASKED, {}).setdefault(user.id, {})


def _keep(user: User, kind: str, found: set[str]) -> None:
    _asked(user)[kind] = frozenset(found)  # outside a request: into a dict nobody keeps


@event.listens_for(Session, "after_flush")
@event.listens_for(Session, "after_commit")
@event.listens_for(Session, "after_soft_rollback")
def _forget(*_args: object) -> None:
    if has_request_context():
        request.environ.pop(_ASKED, None)


def managed_unit_ids(user: User) -> set[str]:
    """Active units where the user is chef or deputy; nothing for an inactive user."""
    if not user.active:
        return set()
    uid = user.id
    return _once_a_request(
        "managed", user, lambda: set(db.session.scalars(select(Unit.id).where(_manages(uid))))
    )


_UNITS_AND_MANAGED = (
    select(Unit.id, Unit.name, _manages(bindparam("user_id")).label("managed"))
    .where(Unit.active)
    .order_by(Unit.name)
)  # built once: the form page asks on every request


def units_and_managed_ids(user: User) -> tuple[Sequence[Row[*tuple[Any, ...]]], set[str]]:
    """The active units by name (rows with id and name), and `managed_unit_ids(user)`, in one
    query of three columns: the deviation form page's only directory lookup."""
    rows = db.session.execute(_UNITS_AND_MANAGED, {"user_id": user.id}).all()
    managed = {r.id for r in rows if r.managed and user.active}
    _keep(user, "managed", managed)
    return rows, managed


def _led_group_ids(user: User, role: str) -> set[str]:
    """Active groups where the user is `role` ("secretary" or "convener"); nothing for the
    inactive. Both roles are asked in one query, and kept for the request."""
    if not user.active:
        return set()
    kept = _asked(user)
    if role in kept:
        return set(kept[role])
    uid = user.id
    query = select(BusGroup.id, BusGroup.secretary_id == uid, BusGroup.convener_id == uid)
    query = query.where(
        BusGroup.active, or_(BusGroup.secretary_id == uid, BusGroup.convener_id == uid)
    )
    rows = db.session.execute(query).all()
    found = {"secretary": {r[0] for r in rows if r[1]}, "convener": {r[0] for r in rows if r[2]}}
    for kind, ids in found.items():
        _keep(user, kind, ids)
    return found[role]


def secretary_group_ids(user: User) -> set[str]:
    return _led_group_ids(user, "secretary")


def led_groups(user: User, *, convener: bool = True) -> Select[str]:
    """The ids of `secretary_group_ids(user)` (and `convener_group_ids(user)`), as a
    subquery for a query's `IN`: a county's hundred group ids would be a hundred parameters,
    a statement too long for the driver's cache of parsed statements (docs/performance.md)."""
    if not user.active:
        return select(BusGroup.id).where(false())
    uid = user.id
    role = BusGroup.secretary_id == uid
    if convener:
        role = or_(role, BusGroup.convener_id == uid)
    return select(BusGroup.id).where(BusGroup.active, role)


def convener_group_ids(user: User) -> set[str]:
    return _led_group_ids(user, "convener")


#: The roles of SPEC §2, as `roles` names them (and FORMSERVICE_REQUIRE_2FA).
ADMIN, SECRETARIAT, SECRETARY, CONVENER, CHEF = (
    "admin",
    "bus_sekretariat",
    "sekreterare",
    "sammankallande",
    "chef",
)


def roles(user: User) -> frozenset[str]:
    """The roles the directory gives the user now, in one query; none for the inactive."""
    if not user.active:
        return frozenset()
    kept = _asked(user)
    if {"managed", "secretary", "convener"} <= kept.keys():  # this request's page asked
        chef, secretary, convener = (bool(kept[k]) for k in ("managed", "secretary", "convener"))
    else:
        uid = user.id
        led = select(BusGroup.id).where(BusGroup.active)
        query = select(
            select(Unit.id).where(_manages(uid)).exists(),
            led.where(BusGroup.secretary_id == uid).exists(),
            led.where(BusGroup.convener_id == uid).exists(),
        )
        chef, secretary, convener = db.session.execute(query).one()
    found = {
        ADMIN: user.is_admin,
        SECRETARIAT: user.is_secretariat,
        SECRETARY: secretary,
        CONVENER: convener,
        CHEF: chef,
    }
    return frozenset(role for role, has in found.items() if has)


def is_secretariat(user: User) -> bool:
    """One of the BUS-sekretariat's mailboxes, still in the directory."""
    return user.active and user.is_secretariat


def is_admin(user: User) -> bool:
    """The systemförvaltare (SPEC §2), still in the directory: the Administration pages."""
    return bool(user.active and user.is_admin)


def is_chef(user: User) -> bool:
    return bool(managed_unit_ids(user))


def can_view(user: User, deviation: Deviation) -> bool:
    """Chef A's side always; everyone else only once the report has been sent."""
    units = managed_unit_ids(user)
    if deviation.reporting_unit_id in units:
        return True
    if deviation.state == UTKAST:
        return False
    if deviation.receiving_unit_id in units or is_secretariat(user):
        return True
    if units & measure_unit_ids(deviation):
        return True
    groups = secretary_group_ids(user) | convener_group_ids(user)
    return deviation.group_id in groups


def measure_unit_ids(deviation: Deviation) -> set[str]:
    """Units the steering group gave a measure when closing the case (told in step 7)."""
    closing = deviation.closing
    return {m.get("unit_id") for m in closing.measures or []} if closing else set()


def can_report_measure(user: User, measure: Measure) -> bool:
    """A decided measure is reported done by its unit's active chef or deputies."""
    return measure.unit_id in managed_unit_ids(user)


def can_view_measure(user: User, measure: Measure) -> bool:
    """Its unit's managers, and the secretary and convener of the case's group."""
    if can_report_measure(user, measure):
        return True
    group_id = db.session.scalar(
        select(Deviation.group_id).where(Deviation.id == measure.deviation_id)
    )
    return group_id in secretary_group_ids(user) | convener_group_ids(user)


def can_answer(user: User, deviation: Deviation) -> bool:
    return deviation.receiving_unit_id in managed_unit_ids(user)


def can_edit(user: User, deviation: Deviation) -> bool:
    return deviation.reporting_unit_id in managed_unit_ids(user)


def visible_deviations(user: User) -> Select[Deviation]:
    """A select() of the reports the user may list."""
    units = managed_unit_ids(user)
    sent = Deviation.state != UTKAST
    clauses: list[ColumnElement[bool]] = [Deviation.reporting_unit_id.in_(units)]
    if is_secretariat(user):
        clauses.append(sent)
    else:
        clauses.append(sent & Deviation.receiving_unit_id.in_(units))
        clauses.append(sent & Deviation.group_id.in_(led_groups(user)))
    return select(Deviation).where(or_(*clauses))


def can_view_sip(user: User, meeting: SipMeeting) -> bool:
    """Only the initiating unit's and the called units' chefs (and deputies) see the child;
    a draft only the initiating side. Access follows the directory: whoever initiated it
    sees it no more after leaving the unit."""
    units = managed_unit_ids(user)
    if meeting.initiator_unit_id in units:
        return True
    return meeting.state != SIP_UTKAST and any(c.unit_id in units for c in meeting.called)


def visible_sip_meetings(user: User) -> Select[SipMeeting]:
    """A select() of the SIP meetings the user may list (the same rule as can_view_sip)."""
    units = managed_unit_ids(user)
    called = select(SipCalledUnit.meeting_id).where(SipCalledUnit.unit_id.in_(units))
    return select(SipMeeting).where(
        or_(
            SipMeeting.initiator_unit_id.in_(units),
            (SipMeeting.state != SIP_UTKAST) & SipMeeting.id.in_(called),
        )
    )


def can_manage_sip(user: User, meeting: SipMeeting) -> bool:
    """The initiating side may edit, send and record attendance."""
    return meeting.initiator_unit_id in managed_unit_ids(user)


def can_view_bus_individ(user: User, record: BusIndivid) -> bool:
    """The chefs and deputies of the units involved (not whoever wrote it, after leaving)."""
    units = managed_unit_ids(user)
    involved = {record.raised_by_unit_id, record.convener_unit_id, record.chair_unit_id}
    return bool(units & (involved | set(record.participants or [])))


def can_manage_bus_individ(user: User, record: BusIndivid) -> bool:
    return record.raised_by_unit_id in managed_unit_ids(user)


def can_retry_delivery(user: User, message: OutboxMessage) -> bool:
    """Who sees a delivery that gave up and may try it again: the secretary of the group of
    its deviation, SIP meeting or BUS-individ record; for a SIP meeting or a BUS-individ
    record also its initiating side (who may manage it). Never a called or informed unit."""
    groups = secretary_group_ids(user)
    if message.deviation_id is not None:
        deviation = db.session.get(Deviation, message.deviation_id)
        return deviation is not None and deviation.group_id in groups
    if message.record_id is None:
        return False
    if message.kind == "sip_invitation":
        meeting = db.session.get(SipMeeting, message.record_id)
        return meeting is not None and (meeting.group_id in groups or can_manage_sip(user, meeting))
    record = db.session.get(BusIndivid, message.record_id)
    return record is not None and (
        record.group_id in groups or can_manage_bus_individ(user, record)
    )
