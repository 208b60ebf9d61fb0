"""The GDPR extract ("Registerutdrag", art. 15): find a child's SIP meetings and BUS-individ
records by personnummer or name, and gather everything held about the child in them.

Only records that still hold the child's identity can match: retention
(`services.retention`) empties the name and personnummer. Deviations are never searched or
included: they are de-identified. Every search and every extract is audited: the search
without the personnummer or name asked for (only what was searched on and how many records
were found), and one event per record shown or included, so the record's own log answers
"who has seen this child's record".
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from typing import Any

from flask import current_app
from sqlalchemy import ColumnElement, and_, func, or_, select

from .. import clock
from ..documents.register_extract import extract_context, extract_json, render_extract
from ..domain.audit import ExtractQuery
from ..extensions import db
from ..models import AuditEvent, BusIndivid, SipMeeting, Unit, User
from . import audit

#: More matches than this are not shown: the search must be narrowed (data minimisation).
MAX_MATCHES = 50
FORMATS = ("docx", "json")


@dataclass(frozen=True)
class Match:
    """One record in the search result, as the page lists it."""

    kind: str  # "sip" or "bus_individ"
    id: int
    day: date
    child_name: str
    personnummer: str | None
    unit: str  # the initiating (SIP) or raising (BUS-individ) unit
    state: str


@dataclass(frozen=True)
class Found:
    matches: list[Match]
    count: int  # all matches, also when there were too many to show

    @property
    def too_many(self) -> bool:
        return self.count > MAX_MATCHES


class NothingChosen(ValueError):
    """None of the chosen records is among the search's matches."""


def search(admin: User, query: ExtractQuery) -> Found:
    """The records that match; audited (the search, and each record shown) and committed."""
    meetings, records = _find(query)
    count = len(meetings) + len(records)
    shown = count <= MAX_MATCHES
    audit.record(admin, "extract.searched", by=query.by, matches=count)
    if shown:
        audit.record_objects(admin, "sip.extract_listed", "sip", [m.id for m in meetings])
        audit.record_objects(
            admin, "bus_individ.extract_listed", "bus_individ", [r.id for r in records]
        )
    matches = _matches(meetings, records) if shown else []
    db.session.commit()
    return Found(matches, count)


def extract(
    admin: User, query: ExtractQuery, sip_ids: set[int], bus_individ_ids: set[int], kind: str
) -> dict[str, Any]:
    """Everything held about the child in the chosen records (only those among the query's
    matches), as the extract's context; each record's inclusion is audited and committed
    first, and shows in the extract's own log. Raises NothingChosen."""
    meetings, records = _find(query)
    meetings = [m for m in meetings if m.id in sip_ids]
    records = [r for r in records if r.id in bus_individ_ids]
    if not meetings and not records:
        raise NothingChosen()
    audit.record_objects(
        admin, "sip.extract_downloaded", "sip", [m.id for m in meetings], format=kind
    )
    audit.record_objects(
        admin, "bus_individ.extract_downloaded", "bus_individ", [r.id for r in records], format=kind
    )
    units = dict(db.session.execute(select(Unit.id, Unit.name)).all())
    people = _names({m.initiator_user_id for m in meetings})
    context = extract_context(
        meetings,
        records,
        _events(meetings, records),
        made_at=clock.now(),
        made_by=f"{admin.name} ({admin.email})",
        retention_months=current_app.config["FORMSERVICE_RETENTION_MONTHS"],
        unit_name=lambda unit_id: units.get(unit_id, unit_id),
        person_name=lambda user_id: people.get(user_id, ""),
        tz=clock.zone(),
    )
    db.session.commit()
    return context


def _find(query: ExtractQuery) -> tuple[list[SipMeeting], list[BusIndivid]]:
    """SIP meetings by personnummer or name, BUS-individ records by name or by following
    one of those meetings, and the meetings those records follow; all still identified."""
    meeting_terms: list[ColumnElement[bool]] = []
    record_terms: list[ColumnElement[bool]] = []
    if query.personnummer_forms:
        meeting_terms.append(SipMeeting.child_personnummer.in_(query.personnummer_forms))
    if query.name.strip():
        meeting_terms.append(_contains(SipMeeting.child_name, query.name))
        record_terms.append(_contains(BusIndivid.child_name, query.name))
    meetings = _meetings(or_(*meeting_terms)) if meeting_terms else []
    if meetings:
        record_terms.append(BusIndivid.sip_id.in_([m.id for m in meetings]))
    records: list[BusIndivid] = []
    if record_terms:
        records = list(
            db.session.scalars(
                select(BusIndivid)
                .where(BusIndivid.identity_removed_at.is_(None), or_(*record_terms))
                .order_by(BusIndivid.meeting_date, BusIndivid.id)
            )
        )
    followed = {r.sip_id for r in records if r.sip_id} - {m.id for m in meetings}
    if followed:
        meetings = sorted(
            [*meetings, *_meetings(SipMeeting.id.in_(followed))],
            key=lambda m: (m.meeting_at, m.id),
        )
    return meetings, records


def _meetings(condition: ColumnElement[bool]) -> list[SipMeeting]:
    query = (
        select(SipMeeting)
        .where(SipMeeting.identity_removed_at.is_(None), condition)
        .order_by(SipMeeting.meeting_at, SipMeeting.id)
    )
    return list(db.session.scalars(query))


def _contains(column: Any, text: str) -> ColumnElement[bool]:
    """Case-insensitively contains the text (lower() folds Å, Ä, Ö on SQLite too: sqlite.py)."""
    return func.lower(column).contains(text.strip().lower(), autoescape=True)


def _matches(meetings: list[SipMeeting], records: list[BusIndivid]) -> list[Match]:
    found = [
        Match(
            "sip",
            m.id,
            clock.local_date(m.meeting_at),
            m.child_name or "",
            m.child_personnummer,
            m.initiator_unit.name,
            m.state,
        )
        for m in meetings
    ]
    found += [
        Match(
            "bus_individ",
            r.id,
            r.meeting_date,
            r.child_name or "",
            None,
            r.raised_by_unit.name,
            r.state,
        )
        for r in records
    ]
    return found


def _names(user_ids: set[int]) -> dict[int, str]:
    if not user_ids:
        return {}
    query = select(User.id, User.name).where(User.id.in_(user_ids))
    return dict(db.session.execute(query).all())


def _events(
    meetings: list[SipMeeting], records: list[BusIndivid]
) -> dict[tuple[str, int], list[dict[str, Any]]]:
    """Each record's audit events, oldest first, with the actor's name from the directory."""
    objects = [("sip", m.id) for m in meetings] + [("bus_individ", r.id) for r in records]
    terms = [
        and_(AuditEvent.object_type == kind, AuditEvent.object_id == str(object_id))
        for kind, object_id in objects
    ]
    query = (
        select(
            AuditEvent.at,
            AuditEvent.actor,
            User.name,
            AuditEvent.action,
            AuditEvent.object_type,
            AuditEvent.object_id,
        )
        .outerjoin(User, User.id == AuditEvent.user_id)
        .where(or_(*terms))
        .order_by(AuditEvent.at, AuditEvent.id)
    )
    events: dict[tuple[str, int], list[dict[str, Any]]] = defaultdict(list)
    for row in db.session.execute(query):
        events[(row.object_type, int(row.object_id))].append(
            {"at": row.at, "actor": row.actor, "name": row.name, "action": row.action}
        )
    return events


def document(context: dict[str, Any], kind: str) -> bytes:
    """The extract as a Word document ("docx") or as JSON ("json")."""
    return render_extract(context) if kind == "docx" else extract_json(context)
