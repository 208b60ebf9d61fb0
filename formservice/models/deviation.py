"""Deviation reports (avvikelser), their answers and forwardings."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import Model
from ._types import UTCDateTime, utcnow
from .directory import BusGroup, Unit
from .files import Attachment
from .meeting import DeviationClosing


class CaseCounter(Model):
    """The last case number handed out per year; bumped inside the sending transaction."""

    __tablename__ = "case_counters"

    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last: Mapped[int] = mapped_column(Integer, default=0)


class FormVersion(Model):
    """One version of the deviation form: its categories ("Avvikelsen avser") in order, as
    [{code, label}]. A report keeps the version it was filed on, so it renders as filed."""

    __tablename__ = "form_versions"

    version: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    categories: Mapped[list] = mapped_column(JSON)


class Deviation(Model):
    __tablename__ = "deviations"
    __table_args__ = (
        Index(  # the statistics' columns included: they count from the index (0018)
            "ix_deviations_sent_at_id",
            "sent_at",
            "id",
            postgresql_include=[
                "state",
                "group_id",
                "answered_at",
                "deadline",
                "reporting_unit_id",
                "receiving_unit_id",
            ],
        ),
        Index("ix_deviations_deadline_id", "deadline", "id"),
        Index("ix_deviations_group_sent_at_id", "group_id", "sent_at", "id"),
        Index("ix_deviations_to_answer", "receiving_unit_id", "state", "deadline", "id"),
    )  # the lists' sort orders (migration 0012)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_number: Mapped[str | None] = mapped_column(String(20), unique=True)
    state: Mapped[str] = mapped_column(String(20), index=True)
    form_version: Mapped[int] = mapped_column(Integer, default=1)  # a FormVersion.version
    reporting_unit_id: Mapped[str] = mapped_column(ForeignKey("units.id"), index=True)
    receiving_unit_id: Mapped[str] = mapped_column(ForeignKey("units.id"), index=True)
    group_id: Mapped[str | None] = mapped_column(ForeignKey("bus_groups.id"), index=True)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    event_date: Mapped[date] = mapped_column(Date)
    categories: Mapped[list] = mapped_column(JSON, default=list)  # codes of its form_version
    description: Mapped[str] = mapped_column(Text)
    actions_taken: Mapped[str] = mapped_column(Text)
    bus_individ: Mapped[bool] = mapped_column(Boolean)
    bus_individ_date: Mapped[date | None] = mapped_column(Date)
    bus_individ_id: Mapped[int | None] = mapped_column(ForeignKey("bus_individ.id"))
    sip_id: Mapped[int | None] = mapped_column(ForeignKey("sip_meetings.id"))
    agenda_meeting_id: Mapped[int | None] = mapped_column(ForeignKey("group_meetings.id"))
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    proposal: Mapped[str] = mapped_column(Text, default="")
    child_gender: Mapped[str] = mapped_column(String(20))
    age_group: Mapped[str | None] = mapped_column(String(10))
    link_version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    deadline: Mapped[date | None] = mapped_column(Date)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reminded_before_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reminded_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    reporting_unit: Mapped[Unit] = relationship(foreign_keys=[reporting_unit_id])
    receiving_unit: Mapped[Unit] = relationship(foreign_keys=[receiving_unit_id])
    group: Mapped[BusGroup | None] = relationship()
    attachments: Mapped[list[Attachment]] = relationship(order_by=Attachment.id)
    answer: Mapped[DeviationAnswer | None] = relationship(back_populates="deviation")
    forwardings: Mapped[list[Forwarding]] = relationship(order_by="Forwarding.id")
    closing: Mapped[DeviationClosing | None] = relationship()
    feedback: Mapped[AnswerFeedback | None] = relationship(back_populates="deviation")
    supplement: Mapped[AnswerSupplement | None] = relationship(back_populates="deviation")


class DeviationAnswer(Model):
    __tablename__ = "deviation_answers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    deviation_id: Mapped[int] = mapped_column(ForeignKey("deviations.id"), unique=True)
    responder_name: Mapped[str] = mapped_column(String(200))
    responder_email: Mapped[str] = mapped_column(String(254))
    assessment: Mapped[str] = mapped_column(Text)
    actions_taken: Mapped[str] = mapped_column(Text, default="")
    planned_measures: Mapped[list] = mapped_column(JSON, default=list)
    agrees: Mapped[str] = mapped_column(String(10))
    raise_regional: Mapped[bool | None] = mapped_column(Boolean)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    deviation: Mapped[Deviation] = relationship(back_populates="answer")


class Forwarding(Model):
    """Chef B said "wrong recipient" and named the right unit."""

    __tablename__ = "forwardings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    deviation_id: Mapped[int] = mapped_column(ForeignKey("deviations.id"), index=True)
    from_unit_id: Mapped[str] = mapped_column(ForeignKey("units.id"))
    to_unit_id: Mapped[str] = mapped_column(ForeignKey("units.id"))
    reason: Mapped[str] = mapped_column(Text)
    by_email: Mapped[str] = mapped_column(String(254))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AnswerFeedback(Model):
    """Chef A's "Återkoppling på svaret": once per answer (domain.feedback). With
    "räcker inte" it opens B's one supplement, due `supplement_deadline`."""

    __tablename__ = "answer_feedback"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    deviation_id: Mapped[int] = mapped_column(ForeignKey("deviations.id"), unique=True)
    verdict: Mapped[str] = mapped_column(String(20))  # a code of domain.feedback.VERDICTS
    motivation: Mapped[str] = mapped_column(Text, default="")
    given_by_email: Mapped[str] = mapped_column(String(254))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    supplement_deadline: Mapped[date | None] = mapped_column(Date)
    reminded_before_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reminded_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    deviation: Mapped[Deviation] = relationship(back_populates="feedback")


class AnswerSupplement(Model):
    """Chef B's one "Kompletterande svar" after "Svaret räcker inte"."""

    __tablename__ = "answer_supplements"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    deviation_id: Mapped[int] = mapped_column(ForeignKey("deviations.id"), unique=True)
    responder_name: Mapped[str] = mapped_column(String(200))
    responder_email: Mapped[str] = mapped_column(String(254))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    deviation: Mapped[Deviation] = relationship(back_populates="supplement")
