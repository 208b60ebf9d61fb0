""" "Avslutning av ärendet": the steering group's decision closes a case (SPEC §3 steps 6–7)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from .. import clock, queue
from ..domain import deviation as rules
from ..domain.inputs import ClosingInput, Measure
from ..extensions import db
from ..models import Deviation, DeviationClosing, GroupMeeting, Unit, User
from . import audit, directory, measures, outbox
from .deviations import Outcome, summary


def can_close(deviation: Deviation) -> bool:
    return deviation.closing is None and rules.can(deviation.state, "close")


def close(deviation: Deviation, secretary: User, data: ClosingInput) -> Outcome:
    """Record the decision, → avslutad, tell the units and the BUS-sekretariat; one transaction.

    Raises TransitionError when the case is already closed (also when another request closed it
    a moment ago) and ValueError when the meeting is not one of the case's group.
    """
    _lock_open(deviation)
    meeting = _meeting_of(deviation, data.meeting_id)
    units = _measure_units(data.measures)
    closing = _apply(deviation, secretary, data, units)
    measures.record(closing, data.measures)
    audit.record(
        secretary,
        "deviation.closed",
        "deviation",
        deviation.id,
        meeting=meeting.id,
        assessment=data.assessment,
        escalate=data.escalate,
    )
    ids = outbox.write(_messages(deviation, units, data.escalate))
    db.session.commit()
    queued = queue.enqueue_deliveries(ids)
    return Outcome(deviation, queued)


def _lock_open(deviation: Deviation) -> None:
    """Reload under a write lock; a second closing waits here and then finds the first."""
    db.session.refresh(deviation, with_for_update=True)
    if not can_close(deviation):
        raise rules.TransitionError(deviation.state, "close")


def _meeting_of(deviation: Deviation, meeting_id: int) -> GroupMeeting:
    meeting = db.session.get(GroupMeeting, meeting_id)
    if meeting is None or meeting.group_id != deviation.group_id:
        raise ValueError("the meeting is not one of the case's group")
    return meeting


def _apply(
    deviation: Deviation, secretary: User, data: ClosingInput, units: dict
) -> DeviationClosing:
    deviation.state = rules.next_state(deviation.state, "close")
    deviation.closed_at = clock.now()
    closing = _closing_row(deviation, secretary, data, units)
    try:
        db.session.add(closing)
        db.session.flush()
    except IntegrityError as exc:  # the unique closing per case: someone else was first
        db.session.rollback()
        raise rules.TransitionError(rules.AVSLUTAD, "close") from exc
    return closing


def _measure_units(measures: list[Measure]) -> dict[str, Unit]:
    ids = {m.unit_id for m in measures}
    found = {u.id: u for u in db.session.scalars(select(Unit).where(Unit.id.in_(ids)))}
    if set(found) != ids:
        raise ValueError("unknown unit in a measure")
    return found


def _closing_row(
    deviation: Deviation, secretary: User, data: ClosingInput, units: dict[str, Unit]
) -> DeviationClosing:
    measures = [
        {"action": m.action, "unit_id": m.unit_id, "unit": units[m.unit_id].name, "due": m.due}
        for m in data.measures
    ]
    return DeviationClosing(
        deviation_id=deviation.id,
        meeting_id=data.meeting_id,
        assessment=data.assessment,
        measures=measures,
        escalate=data.escalate,
        escalate_reason=data.escalate_reason if data.escalate else "",
        closed_by_id=secretary.id,
        closed_at=deviation.closed_at,
    )


def _messages(deviation: Deviation, units: dict[str, Unit], escalate: bool) -> list:
    """Step 7 to the units concerned; the complete copy (a login link) to the secretariat."""
    about = {k: v for k, v in summary(deviation).items() if k != "deadline"}
    concerned = [
        db.session.get_one(Unit, deviation.reporting_unit_id),
        db.session.get_one(Unit, deviation.receiving_unit_id),
        *units.values(),
    ]
    managers = [person for unit in concerned for person in unit.managers()]
    kind = "closed_escalated" if escalate else "closed_secretariat"
    return [
        *outbox.rows("closed_units", managers, deviation.id, **about),
        *outbox.rows(kind, directory.secretariat(), deviation.id, **about),
    ]
