"""Recurring deviations told to a steering group (issue 17, item 3)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import Model
from ._types import UTCDateTime, utcnow


class PatternNotice(Model):
    """A pattern (domain.patterns) the group's secretary and convener were told of, with the
    cases it held then: it is told again only when a case joins it."""

    __tablename__ = "pattern_notices"
    __table_args__ = (UniqueConstraint("group_id", "receiving_unit_id", "kind", "key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    group_id: Mapped[str] = mapped_column(ForeignKey("bus_groups.id"))
    receiving_unit_id: Mapped[str] = mapped_column(ForeignKey("units.id"))
    kind: Mapped[str] = mapped_column(String(20))  # verksamhet, kategori
    key: Mapped[str] = mapped_column(String(200))  # the reporting unit's id or the category code
    case_ids: Mapped[list] = mapped_column(JSON, default=list)
    notified_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
