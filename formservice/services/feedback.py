"""Chef A's feedback on B's answer, B's one supplementary answer and its reminders
(issue 17; the rules are domain.feedback). Each change is one transaction with its audit
event and outbox rows; e-mails hold the case number, unit names and a date, never content."""

from __future__ import annotations

from datetime import date, datetime

from flask import current_app
from sqlalchemy import exists, select
from sqlalchemy.exc import IntegrityError

from .. import clock, queue
from ..domain import feedback as feedback_rules
from ..domain.inputs import FeedbackInput, SupplementInput
from ..extensions import db
from ..models import AnswerFeedback, AnswerSupplement, Deviation, DeviationAnswer, Unit, User
from . import audit, directory, outbox
from .deviations import Outcome, StaleVersion, summary

FeedbackRefused = feedback_rules.FeedbackRefused


def give(deviation: Deviation, by: User, data: FeedbackInput) -> Outcome:
    """Record "Återkoppling på svaret", once per answer. "Svaret räcker inte" sets the
    supplement's deadline, opens a new link generation (the supplement link; every earlier
    link is dead) and tells chef B and deputies (with the link) and the group's secretary."""
    _lock(deviation)
    problem = feedback_rules.feedback_problem(
        deviation.state, _has(deviation, "answer"), _has(deviation, "feedback")
    )
    try:
        if problem:
            raise FeedbackRefused(problem)
        feedback_rules.check_feedback(data.verdict, data.motivation)
    except FeedbackRefused:
        db.session.rollback()
        raise
    insufficient = data.verdict == feedback_rules.INSUFFICIENT
    days = current_app.config["FORMSERVICE_SUPPLEMENT_DAYS"]
    moment = clock.now()
    due = (
        feedback_rules.supplement_deadline(clock.local_date(moment), days) if insufficient else None
    )
    db.session.add(
        AnswerFeedback(
            deviation_id=deviation.id,
            verdict=data.verdict,
            motivation=data.motivation,
            given_by_email=by.email,
            created_at=moment,
            supplement_deadline=due,
        )
    )
    audit.record(by, "deviation.feedback_given", "deviation", deviation.id, verdict=data.verdict)
    messages: list[dict] = []
    if due is not None:  # insufficient: a supplement is asked for by the deadline
        deviation.link_version += 1
        about = {**summary(deviation), "supplement_deadline": due.isoformat()}
        link = {"link_version": deviation.link_version, "supplement": True}
        secretary = directory.group_people(deviation.group_id, "secretary")
        managers = _managers(deviation)
        messages = [
            *outbox.rows("feedback_insufficient", managers, deviation.id, **about, **link),
            *outbox.rows("feedback_insufficient_copy", secretary, deviation.id, **about),
        ]
    return _commit(deviation, messages)


def supplement(
    deviation: Deviation,
    responder: User | str,
    data: SupplementInput,
    *,
    expected_version: int | None = None,
) -> Outcome:
    """Record B's one "Kompletterande svar" and tell chef A's side, the group's secretary
    and convener. `expected_version`: the link version the caller checked (StaleVersion when
    it moved on); the supplement bumps it, so its link works once."""
    _lock(deviation, expected_version)
    verdict = db.session.scalar(
        select(AnswerFeedback.verdict).where(AnswerFeedback.deviation_id == deviation.id)
    )
    problem = feedback_rules.supplement_problem(
        deviation.state, verdict, _has(deviation, "supplement")
    )
    if problem:
        db.session.rollback()
        raise FeedbackRefused(problem)
    email = responder.email if isinstance(responder, User) else responder
    db.session.add(
        AnswerSupplement(
            deviation_id=deviation.id,
            responder_name=data.responder_name,
            responder_email=email,
            text=data.text,
            created_at=clock.now(),
        )
    )
    deviation.link_version += 1
    audit.record(responder, "deviation.supplemented", "deviation", deviation.id)
    about = summary(deviation)
    reporters = db.session.get_one(Unit, deviation.reporting_unit_id).managers()
    people = [
        *reporters,
        *directory.group_people(deviation.group_id, "secretary"),
        *directory.group_people(deviation.group_id, "convener"),
    ]
    return _commit(deviation, outbox.rows("supplemented", people, deviation.id, **about))


def can_give(deviation: Deviation) -> bool:
    """Whether the report takes feedback now (the asker's side is the caller's to check)."""
    answered, given = deviation.answer is not None, deviation.feedback is not None
    return feedback_rules.feedback_problem(deviation.state, answered, given) is None


def can_supplement(deviation: Deviation) -> bool:
    """Whether B may give the supplementary answer now (the side is the caller's to check)."""
    verdict = deviation.feedback.verdict if deviation.feedback else None
    given = deviation.supplement is not None
    return feedback_rules.supplement_problem(deviation.state, verdict, given) is None


def send_due_reminders(today: date | None = None) -> int:
    """Remind B and deputies of the supplement's deadline (7 days before, on the day; the
    setting FORMSERVICE_REMINDER_DAYS_BEFORE), each once; how many reports got one."""
    moment = clock.now()
    today = today or clock.local_date(moment)
    days_before = current_app.config["FORMSERVICE_REMINDER_DAYS_BEFORE"]
    supplemented = exists().where(AnswerSupplement.deviation_id == AnswerFeedback.deviation_id)
    waiting = db.session.scalars(
        select(AnswerFeedback)
        .join(Deviation, Deviation.id == AnswerFeedback.deviation_id)
        .where(
            AnswerFeedback.verdict == feedback_rules.INSUFFICIENT,
            Deviation.state.in_(feedback_rules.OPEN_STATES),
            ~supplemented,
        )
        .with_for_update(skip_locked=True, of=AnswerFeedback)
    ).all()
    messages: list[dict] = []
    touched = 0
    for row in waiting:
        assert row.supplement_deadline is not None, "an insufficient verdict has its deadline"
        state = feedback_rules.SupplementReminders(
            row.supplement_deadline,
            reminded_before=row.reminded_before_at is not None,
            reminded_due=row.reminded_due_at is not None,
        )
        for step in feedback_rules.due_supplement_reminders(state, today, days_before):
            messages += _remind(row, step, moment)
            touched += 1
    ids = outbox.write(messages)
    db.session.commit()
    queue.enqueue_deliveries(ids)
    return touched


def _remind(row: AnswerFeedback, step: str, moment: datetime) -> list[dict]:
    """One reminder step for one report: the flag, the audit event, the messages."""
    deviation = row.deviation
    setattr(row, f"reminded_{step}_at", moment)
    audit.record(None, f"deviation.supplement_reminder_{step}", "deviation", deviation.id)
    assert row.supplement_deadline is not None, "an insufficient verdict has its deadline"
    about = {**summary(deviation), "supplement_deadline": row.supplement_deadline.isoformat()}
    link = {"link_version": deviation.link_version, "supplement": True}
    kind = f"supplement_reminder_{step}"
    return outbox.rows(kind, _managers(deviation), deviation.id, **about, **link)


def _managers(deviation: Deviation) -> list[User]:
    """Chef B and deputies who are active (none for a unit no longer in the directory)."""
    return db.session.get_one(Unit, deviation.receiving_unit_id).managers()


_ROWS: dict[str, type[DeviationAnswer] | type[AnswerFeedback] | type[AnswerSupplement]] = {
    "answer": DeviationAnswer,
    "feedback": AnswerFeedback,
    "supplement": AnswerSupplement,
}


def _has(deviation: Deviation, what: str) -> bool:
    """Whether the report has its answer, feedback or supplement row, read now (under the
    lock), not from a relationship loaded earlier in the request."""
    model = _ROWS[what]
    return bool(db.session.scalar(select(exists().where(model.deviation_id == deviation.id))))


def _lock(deviation: Deviation, expected_version: int | None = None) -> None:
    """Reload the row under a write lock; with `expected_version`, refuse (StaleVersion)
    when the link version moved on meanwhile."""
    db.session.refresh(deviation, with_for_update=True)
    if expected_version is not None and deviation.link_version != expected_version:
        db.session.rollback()
        raise StaleVersion(deviation.id)


def _commit(deviation: Deviation, messages: list[dict]) -> Outcome:
    """Write the messages, commit (a second feedback or supplement racing this one hits the
    unique key: FeedbackRefused), then queue the deliveries."""
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        raise FeedbackRefused("already_given") from None
    ids = outbox.write(messages)
    deviation_id, case_number = deviation.id, deviation.case_number
    db.session.commit()
    queued = queue.enqueue_deliveries(ids)
    return Outcome(deviation, queued, deviation_id, case_number)
