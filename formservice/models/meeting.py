"""Steering-group meetings, their compiled digests and the closing of cases (SPEC §6, §3)."""

from __future__ import annotations

from datetime import date, datetime, time

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Index, Integer, String, Text, Time
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import Model
from ._types import UTCDateTime, utcnow
from .directory import BusGroup
from .files import StoredFile


class GroupMeeting(Model):
    """A meeting of a local BUS steering group."""

    __tablename__ = "group_meetings"
    __table_args__ = (
        Index("ix_group_meetings_group_date", "group_id", "meeting_date", "id"),
    )  # the lists' sort orders (migration 0012)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    group_id: Mapped[str] = mapped_column(ForeignKey("bus_groups.id"), index=True)
    meeting_date: Mapped[date] = mapped_column(Date, index=True)
    start_time: Mapped[time | None] = mapped_column(Time)  # "Starttid", local time
    place: Mapped[str] = mapped_column(String(200), default="")
    #: The calendar event's SEQUENCE (domain.calendar): raised when date, time or place change
    #: and when the meeting is withdrawn.
    calendar_sequence: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # "Ställ in mötet"
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    group: Mapped[BusGroup] = relationship()
    digests: Mapped[list[Digest]] = relationship(
        back_populates="meeting", order_by="Digest.id.desc()"
    )


class Digest(Model):
    """One compilation ("Sammanställning av avvikelser") for a meeting, built by the worker."""

    __tablename__ = "digests"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("group_meetings.id"), index=True)
    state: Mapped[str] = mapped_column(String(10), default="queued")  # queued running done failed
    progress: Mapped[int] = mapped_column(Integer, default=0)
    #: Codes, with what their text needs in *_args; the pages render the Swedish text
    #: (templates/html/_status.html): step "converting" {"part": 1, "parts": 4}, ...
    step: Mapped[str] = mapped_column(String(200), default="")
    step_args: Mapped[dict | None] = mapped_column(JSON)
    error: Mapped[str | None] = mapped_column(Text)
    error_args: Mapped[dict | None] = mapped_column(JSON)
    case_ids: Mapped[list] = mapped_column(JSON, default=list)
    docx_file_id: Mapped[int | None] = mapped_column(ForeignKey("stored_files.id"))
    pdf_file_id: Mapped[int | None] = mapped_column(ForeignKey("stored_files.id"))
    requested_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    meeting: Mapped[GroupMeeting] = relationship(back_populates="digests")
    docx_file: Mapped[StoredFile | None] = relationship(foreign_keys=[docx_file_id])
    pdf_file: Mapped[StoredFile | None] = relationship(foreign_keys=[pdf_file_id])


class DeviationClosing(Model):
    """ "Avslutning av ärendet": the steering group's decision on one case."""

    __tablename__ = "deviation_closings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    deviation_id: Mapped[int] = mapped_column(ForeignKey("deviations.id"), unique=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("group_meetings.id"))
    assessment: Mapped[str] = mapped_column(String(20))  # bekraftad, delvis, ej
    measures: Mapped[list] = mapped_column(JSON, default=list)  # [{action, unit, due}]
    escalate: Mapped[bool] = mapped_column(Boolean, default=False)
    escalate_reason: Mapped[str] = mapped_column(Text, default="")
    closed_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    closed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    meeting: Mapped[GroupMeeting] = relationship()
