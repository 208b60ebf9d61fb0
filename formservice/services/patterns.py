"""Recurring deviations (issue 17, item 3): the patterns `domain.patterns` finds among the
deviations sent in the last twelve months, told to each group's secretary and convener once
(one e-mail without content per group and run), and again only when a pattern grows; and the
patterns the digest's summary names with their case numbers."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta

from flask import current_app
from sqlalchemy import select

from .. import clock, queue
from ..domain import deviation as rules
from ..domain import patterns as rule
from ..extensions import db
from ..models import BusGroup, Deviation, PatternNotice
from . import audit, categories, directory, outbox

MESSAGE_KIND = "pattern_notice"


def _threshold() -> int:
    return current_app.config["FORMSERVICE_PATTERN_COUNT"]


def cases(since: date, group_id: str | None = None) -> list[rule.Case]:
    """The sent deviations of a group (or of every group) from `since` on, as the rule reads
    them; withdrawn ones do not count."""
    from .meetings import day_start

    query = select(
        Deviation.id,
        Deviation.case_number,
        Deviation.group_id,
        Deviation.reporting_unit_id,
        Deviation.receiving_unit_id,
        Deviation.categories,
        Deviation.sent_at,
    ).where(
        Deviation.sent_at >= day_start(since - timedelta(days=1)),
        Deviation.group_id.is_not(None),
        Deviation.case_number.is_not(None),
        Deviation.state != rules.ATERKALLAD,
    )
    if group_id is not None:
        query = query.where(Deviation.group_id == group_id)
    return [
        rule.Case(
            row.id,
            row.case_number,
            row.group_id,
            row.reporting_unit_id,
            row.receiving_unit_id,
            tuple(row.categories or ()),
            clock.local_date(row.sent_at),
        )
        for row in db.session.execute(query)
    ]


def notify_due(today: date | None = None) -> int:
    """Tell each group's secretary and convener of its new and grown patterns; how many
    patterns were told. Each group in one transaction with its audit events, the group's row
    locked, so two runs at once tell a pattern once."""
    today = today or clock.today()
    by_group: dict[str, list[rule.Pattern]] = defaultdict(list)
    for pattern in rule.find(cases(rule.window_start(today)), today, _threshold()):
        by_group[pattern.group_id].append(pattern)
    db.session.rollback()  # end the read; each group is decided under its own lock
    return sum(_notify_group(group_id, found) for group_id, found in sorted(by_group.items()))


def _notify_group(group_id: str, found: list[rule.Pattern]) -> int:
    group = db.session.get(BusGroup, group_id, with_for_update=True)
    if group is None or not group.active:
        db.session.rollback()
        return 0
    told = {
        (n.group_id, n.receiving_unit_id, n.kind, n.key): n
        for n in db.session.scalars(select(PatternNotice).where(PatternNotice.group_id == group_id))
    }
    due = rule.to_notify(found, {key: notice.case_ids for key, notice in told.items()})
    if not due:
        db.session.rollback()
        return 0
    moment = clock.now()
    for pattern in due:
        notice = told.get(pattern.identity)
        if notice is None:
            notice = PatternNotice(
                group_id=group_id,
                receiving_unit_id=pattern.receiving_unit_id,
                kind=pattern.kind,
                key=pattern.key,
            )
            db.session.add(notice)
        notice.case_ids, notice.notified_at = list(pattern.case_ids), moment
        audit.record(
            None,
            "pattern.notified",
            "bus_group",
            group_id,
            receiving_unit=pattern.receiving_unit_id,
            kind=pattern.kind,
            key=pattern.key,
            cases=list(pattern.case_ids),
        )
    people = [
        *directory.group_people(group_id, "secretary"),
        *directory.group_people(group_id, "convener"),
    ]
    ids = outbox.write(outbox.rows(MESSAGE_KIND, people, None, group_name=group.name))
    db.session.commit()
    queue.enqueue_deliveries(ids)
    return len(due)


def for_digest(group_id: str, today: date | None = None) -> list[dict]:
    """The group's patterns today as the digest's summary names them: the receiving unit,
    what the cases share (the reporting unit or the category, by name), their case numbers."""
    today = today or clock.today()
    found = rule.find(cases(rule.window_start(today), group_id), today, _threshold())
    units = directory.unit_names(
        [p.receiving_unit_id for p in found] + [p.key for p in found if p.kind == rule.FROM_UNIT]
    )
    labels = categories.statistics_labels()
    return [
        {
            "receiving": units.get(p.receiving_unit_id, p.receiving_unit_id),
            "kind": p.kind,
            "about": (units if p.kind == rule.FROM_UNIT else labels).get(p.key, p.key),
            "count": len(p.case_ids),
            "case_numbers": ", ".join(p.case_numbers),
        }
        for p in found
    ]
