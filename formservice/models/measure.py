"""Decided measures of a closed case, followed up until the responsible unit reports them done."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..domain.measures import OPEN
from ..extensions import Model
from ._types import UTCDateTime, utcnow
from .directory import Unit
from .meeting import DeviationClosing


class Measure(Model):
    """One row of "Beslutade åtgärder": åtgärd, ansvarig verksamhet, klart senast."""

    __tablename__ = "measures"
    __table_args__ = (Index("ix_measures_state_due", "state", "due"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    closing_id: Mapped[int] = mapped_column(ForeignKey("deviation_closings.id"), index=True)
    deviation_id: Mapped[int] = mapped_column(ForeignKey("deviations.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)  # the row's number in the closing, from 1
    action: Mapped[str] = mapped_column(Text)
    unit_id: Mapped[str] = mapped_column(ForeignKey("units.id"), index=True)
    due: Mapped[date | None] = mapped_column(Date)
    state: Mapped[str] = mapped_column(String(20), default=OPEN)  # domain.measures codes
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    reminded_before_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reminded_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    done_by: Mapped[str | None] = mapped_column(String(254))  # the reporter's e-mail address
    comment: Mapped[str] = mapped_column(Text, default="")

    unit: Mapped[Unit] = relationship()
    closing: Mapped[DeviationClosing] = relationship()
