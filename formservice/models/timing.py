"""How long the worker took to build documents: the source of the build-duration metrics."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import Model
from ._types import UTCDateTime, utcnow


class BuildTiming(Model):
    """One finished build: a digest, a SIP kallelse or BUS-individ minutes. No content, no
    ids of the record: a kind, seconds and when. Never deleted, so the counts only grow."""

    __tablename__ = "build_timings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))  # digest, sip, bus_individ
    seconds: Mapped[float] = mapped_column(Float)
    finished_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
