"""The twice-yearly follow-up of the deviation handling at a steering-group meeting (SPEC §3)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from .. import clock
from ..domain import deviation as rules
from ..domain.deadlines import is_overdue
from ..domain.measures import FollowUp
from ..domain.meetings import ASSESSMENTS
from ..domain.statistics import Period, answer_days, in_time, median_days, share
from ..extensions import db
from ..models import Deviation
from . import measures
from .meetings import day_start


@dataclass(frozen=True)
class EvaluationRow:
    deviation: Deviation
    sent_on: date
    answer_days: int | None  # None: not answered
    in_time: bool | None  # None: not answered
    overdue: bool  # unanswered after the deadline
    forwarded: int
    escalated: bool
    outcome: str | None  # a key of ASSESSMENTS; None: not closed


@dataclass(frozen=True)
class Totals:
    cases: int
    answered: int
    in_time: int
    share_in_time: float | None
    median_answer_days: float | None
    overdue: int
    forwarded_cases: int
    forwardings: int
    escalated: int
    closed: int
    outcomes: dict[str, int]


def cases_in_period(group_id: str, period: Period) -> list[Deviation]:
    """The group's reports sent in the period (local dates); withdrawn ones do not count."""
    query = (
        select(Deviation)
        .where(
            Deviation.group_id == group_id,
            Deviation.sent_at >= day_start(period.start),
            Deviation.sent_at < day_start(period.end + timedelta(days=1)),
            Deviation.state != rules.ATERKALLAD,
        )
        .options(
            selectinload(Deviation.answer),
            selectinload(Deviation.forwardings),
            selectinload(Deviation.closing),
        )
        .order_by(Deviation.sent_at, Deviation.case_number)
    )
    return list(db.session.scalars(query))


def row(deviation: Deviation, on: date) -> EvaluationRow:
    assert deviation.sent_at is not None, "only sent reports are evaluated"
    sent_on = clock.local_date(deviation.sent_at)
    answered_on = clock.local_date(deviation.answered_at) if deviation.answered_at else None
    answer, closing = deviation.answer, deviation.closing
    return EvaluationRow(
        deviation=deviation,
        sent_on=sent_on,
        answer_days=answer_days(sent_on, answered_on) if answered_on else None,
        in_time=in_time(answered_on, deviation.deadline)
        if answered_on and deviation.deadline
        else None,
        overdue=is_overdue(deviation.deadline, on, answered_on is not None),
        forwarded=len(deviation.forwardings),
        escalated=bool((closing and closing.escalate) or (answer and answer.raise_regional)),
        outcome=closing.assessment if closing else None,
    )


def evaluate(group_id: str, period: Period, on: date | None = None) -> list[EvaluationRow]:
    on = on or clock.today()
    return [row(d, on) for d in cases_in_period(group_id, period)]


def totals(rows: list[EvaluationRow]) -> Totals:
    answered = [r for r in rows if r.answer_days is not None]
    timely = sum(1 for r in answered if r.in_time)
    outcomes = Counter(r.outcome for r in rows if r.outcome)
    return Totals(
        cases=len(rows),
        answered=len(answered),
        in_time=timely,
        share_in_time=share(timely, len(answered)),
        median_answer_days=median_days(r.answer_days for r in rows if r.answer_days is not None),
        overdue=sum(1 for r in rows if r.overdue),
        forwarded_cases=sum(1 for r in rows if r.forwarded),
        forwardings=sum(r.forwarded for r in rows),
        escalated=sum(1 for r in rows if r.escalated),
        closed=sum(outcomes.values()),
        outcomes={key: outcomes.get(key, 0) for key in ASSESSMENTS},
    )


def measure_follow_up(group_id: str, period: Period, on: date | None = None) -> FollowUp:
    """The group's decided measures dated in the period: how many were carried out on time
    ("Beslutade åtgärder" of the evaluation; `domain.measures.follow_up`)."""
    return measures.follow_up(group_id, period, on or clock.today())
