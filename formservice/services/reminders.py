"""Reminders to chef B and escalation to the steering group (SPEC §3); reminders of decided
measures (`services.measures`, issue 17) in the same daily run."""

from __future__ import annotations

from datetime import date, datetime

from flask import current_app
from sqlalchemy import select

from .. import clock, queue
from ..domain import deviation as rules
from ..domain.deadlines import CALENDAR_DAYS, ReminderState, due_reminders
from ..extensions import db
from ..models import BusGroup, Deviation, Unit
from . import audit, directory, measures, outbox
from .deviations import summary


def send_due(today: date | None = None) -> int:
    """Write every reminder that is due and not yet sent, of open reports and of decided
    measures; returns how many reports and measures got one."""
    moment = clock.now()
    today = today or clock.local_date(moment)
    days_before = current_app.config["FORMSERVICE_REMINDER_DAYS_BEFORE"]
    open_reports = db.session.scalars(
        select(Deviation).where(Deviation.state == rules.SKICKAD).with_for_update(skip_locked=True)
    ).all()
    kinds = {g: k for g, k in db.session.execute(select(BusGroup.id, BusGroup.answer_day_kind))}
    messages: list = []
    touched = 0
    for deviation in open_reports:
        state = _state(deviation, kinds.get(deviation.group_id or "", CALENDAR_DAYS))
        for step in due_reminders(state, today, days_before):
            messages += _remind(deviation, step, moment)
            touched += 1
    measure_messages = measures.reminder_messages(today, moment)
    touched += len({m["context"]["measure_id"] for m in measure_messages})
    ids = outbox.write(messages + measure_messages)
    db.session.commit()
    queue.enqueue_deliveries(ids)
    return touched


def _state(deviation: Deviation, day_kind: str) -> ReminderState:
    """The report's reminders so far; the "before" reminder counted in the group's days."""
    assert deviation.deadline is not None, "a sent report has its deadline"
    return ReminderState(
        deadline=deviation.deadline,
        reminded_before=deviation.reminded_before_at is not None,
        reminded_due=deviation.reminded_due_at is not None,
        escalated=deviation.escalated_at is not None,
        day_kind=day_kind,
    )


def _remind(deviation: Deviation, step: str, moment: datetime) -> list:
    about = summary(deviation)
    audit.record(None, f"deviation.reminder_{step}", "deviation", deviation.id)
    if step == "escalate":
        deviation.escalated_at = moment
        people = [
            *directory.group_people(deviation.group_id, "secretary"),
            *directory.group_people(deviation.group_id, "convener"),
        ]
        return outbox.rows("overdue", people, deviation.id, **about)
    setattr(deviation, "reminded_before_at" if step == "before" else "reminded_due_at", moment)
    managers = db.session.get_one(Unit, deviation.receiving_unit_id).managers()
    context = {**about, "link_version": deviation.link_version, "respond": True}
    return outbox.rows(f"reminder_{step}", managers, deviation.id, **context)
