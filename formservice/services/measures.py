"""Decided measures followed up: made at the closing, reminded, reported done (issue 17).

The rules (states, which reminder is due, on time) are `domain.measures`'; this module stores
them. Reminders go out with the daily reminder run (`services.reminders.send_due`); each step
is taken by a conditional UPDATE of its flag, so two runs, or a job run twice, send it once.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Select, select, update
from sqlalchemy.orm import selectinload

from .. import clock
from ..domain import measures as measure_rules
from ..domain.inputs import Measure as MeasureInput
from ..domain.statistics import Period
from ..extensions import db
from ..models import Deviation, DeviationClosing, Measure, Unit, User
from . import audit, outbox, rows_changed

#: Outbox kinds of the reminders, by step.
REMINDER_KINDS = {
    measure_rules.BEFORE: "measure_reminder_before",
    measure_rules.DUE: "measure_reminder_due",
}
#: The flag each step sets.
_FLAGS = {
    measure_rules.BEFORE: Measure.reminded_before_at,
    measure_rules.DUE: Measure.reminded_due_at,
}


def record(closing: DeviationClosing, measures: list[MeasureInput]) -> list[Measure]:
    """The closing's measures as open rows, in the closing's transaction (not committed)."""
    rows = [
        Measure(
            closing_id=closing.id,
            deviation_id=closing.deviation_id,
            position=position,
            action=item.action,
            unit_id=item.unit_id,
            due=date.fromisoformat(item.due) if item.due else None,
            state=measure_rules.OPEN,
            comment="",
        )
        for position, item in enumerate(measures, start=1)
    ]
    db.session.add_all(rows)
    db.session.flush()
    return rows


# --- reminders -------------------------------------------------------------------------------


def reminder_messages(today: date, moment: datetime) -> list[dict]:
    """The reminders due today, their steps taken (flag set, audited) in the caller's
    transaction: outbox rows for the responsible unit's active chef and deputies. A step
    another run took meanwhile is skipped; an inactive unit's measure is taken, unmailed."""
    first, last = measure_rules.reminder_window(today)
    candidates = db.session.execute(
        select(Measure.id, Measure.due, Measure.reminded_before_at, Measure.reminded_due_at)
        .where(Measure.state == measure_rules.OPEN, Measure.due >= first, Measure.due <= last)
        .order_by(Measure.due, Measure.id)
    ).all()
    messages: list[dict] = []
    for row in candidates:
        step = measure_rules.due_reminder(
            row.due, today, row.reminded_before_at is not None, row.reminded_due_at is not None
        )
        if step is not None and _take(row.id, step, moment):
            messages += _remind(row.id, step)
    return messages


def _take(measure_id: int, step: str, moment: datetime) -> bool:
    """Set the step's flag if no run has: the one guard against sending it twice."""
    flag = _FLAGS[step]
    taken = rows_changed(
        update(Measure)
        .where(Measure.id == measure_id, Measure.state == measure_rules.OPEN, flag.is_(None))
        .values({flag.key: moment})
        .execution_options(synchronize_session=False)
    )
    return taken == 1


def _remind(measure_id: int, step: str) -> list[dict]:
    """The step's audit event and its messages to the unit's active chef and deputies."""
    measure = db.session.get_one(Measure, measure_id, populate_existing=True)
    assert measure.due is not None, "only a measure with a due date is reminded of"
    action = "measure.reminder_before" if step == measure_rules.BEFORE else "measure.reminder_due"
    audit.record(None, action, "measure", measure.id)
    context = {"measure_id": measure.id, "due": measure.due.isoformat()}
    return outbox.rows(
        REMINDER_KINDS[step], measure.unit.managers(), measure.deviation_id, **context
    )


# --- reporting it done -----------------------------------------------------------------------


def report_done(measure: Measure, reporter: User | str, comment: str) -> None:
    """ "Genomförd" with "Kommentar": once; one transaction with its audit event. Raises
    `domain.measures.MeasureStateError` when the measure is done already (also when another
    request reported it a moment ago)."""
    measure_rules.report_done(measure.state)
    email = reporter.email if isinstance(reporter, User) else reporter
    moment = clock.now()
    done = rows_changed(
        update(Measure)
        .where(Measure.id == measure.id, Measure.state == measure_rules.OPEN)
        .values(state=measure_rules.DONE, done_at=moment, done_by=email.lower(), comment=comment)
        .execution_options(synchronize_session=False)
    )
    if done != 1:
        db.session.rollback()
        raise measure_rules.MeasureStateError(measure_rules.DONE)
    audit.record(reporter, "measure.done", "measure", measure.id, deviation=measure.deviation_id)
    db.session.commit()
    db.session.refresh(measure)


def responsible(measure: Measure, email: str) -> bool:
    """Whether `email` is an active chef or deputy of the measure's active unit (a link's
    recipient must still be one)."""
    return email.lower() in {person.email.lower() for person in measure.unit.managers()}


# --- reading ---------------------------------------------------------------------------------

_LOADS = (
    selectinload(Measure.unit),
    selectinload(Measure.closing).selectinload(DeviationClosing.meeting),
)


def for_case(deviation_id: int) -> list[Measure]:
    """The case's measures in the closing's order."""
    query = (
        select(Measure)
        .where(Measure.deviation_id == deviation_id)
        .options(*_LOADS)
        .order_by(Measure.position)
    )
    return list(db.session.scalars(query))


@dataclass(frozen=True)
class Listed:
    """A measure with its case number, for the lists."""

    measure: Measure
    case_number: str | None  # a measure is decided on a sent report, which has its number
    overdue: bool


def for_units(unit_ids: Iterable[str], today: date | None = None) -> list[Listed]:
    """The units' measures: open first by date (no date last), then done, newest first."""
    ids = set(unit_ids)
    if not ids:
        return []
    today = today or clock.today()
    query = (
        select(Measure, Deviation.case_number)
        .join(Deviation, Deviation.id == Measure.deviation_id)
        .where(Measure.unit_id.in_(ids))
        .options(*_LOADS)
    )
    found = [
        Listed(m, number, measure_rules.is_overdue(m.due, today, m.state == measure_rules.DONE))
        for m, number in db.session.execute(query).all()
    ]
    open_ = sorted(
        (x for x in found if x.measure.state == measure_rules.OPEN),
        key=lambda x: (x.measure.due is None, x.measure.due or today, x.measure.id),
    )
    done = sorted(
        (x for x in found if x.measure.state != measure_rules.OPEN),
        key=_done_at,
        reverse=True,
    )
    return open_ + done


def _done_at(listed: Listed) -> datetime:
    done_at = listed.measure.done_at
    assert done_at is not None, "a measure that is not open is done"
    return done_at


def case_number(measure: Measure) -> str:
    """The case number of the measure's report."""
    return db.session.scalar(
        select(Deviation.case_number).where(Deviation.id == measure.deviation_id)
    )


def _of_group(group_id: str) -> Select:
    """The group's measures with their case numbers and unit names."""
    return (
        select(Measure, Deviation.case_number, Unit.name)
        .join(Deviation, Deviation.id == Measure.deviation_id)
        .join(Unit, Unit.id == Measure.unit_id)
        .where(Deviation.group_id == group_id)
    )


def for_digest(group_id: str, since: datetime | None, today: date) -> dict[str, list[dict]]:
    """What the meeting's digest lists of the group's measures: those reported done since
    `since` (the start of the previous meeting's day; all when there was none), and those
    still open after their date, oldest date first. Plain values: the document renders them."""
    done_query = _of_group(group_id).where(Measure.state == measure_rules.DONE)
    if since is not None:
        done_query = done_query.where(Measure.done_at >= since)
    overdue_query = _of_group(group_id).where(
        Measure.state == measure_rules.OPEN, Measure.due < today
    )
    done = db.session.execute(done_query.order_by(Measure.done_at, Measure.id)).all()
    overdue = db.session.execute(overdue_query.order_by(Measure.due, Measure.id)).all()
    return {
        "done": [_digest_row(m, number, unit) for m, number, unit in done],
        "overdue": [_digest_row(m, number, unit) for m, number, unit in overdue],
    }


def _digest_row(measure: Measure, case: str, unit: str) -> dict:
    """One measure as the digest lists it, in plain values."""
    done_on = clock.local_date(measure.done_at) if measure.done_at else None
    return {
        "case_number": case,
        "action": measure.action,
        "unit": unit,
        "due": measure.due,
        "done_on": done_on,
        "in_time": measure_rules.done_in_time(measure.due, done_on),
        "comment": measure.comment,
    }


def follow_up(group_id: str, period: Period, today: date) -> measure_rules.FollowUp:
    """The evaluation's figures: the group's measures whose date falls in the period."""
    query = (
        select(Measure.due, Measure.done_at)
        .join(Deviation, Deviation.id == Measure.deviation_id)
        .where(
            Deviation.group_id == group_id,
            Measure.due >= period.start,
            Measure.due <= period.end,
        )
    )
    facts = [
        measure_rules.MeasureFacts(due, clock.local_date(done_at) if done_at else None)
        for due, done_at in db.session.execute(query).all()
    ]
    return measure_rules.follow_up(facts, today)
