"""SIP invitations (kallelse till SIP-möte) and their attendance (SPEC §4)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import Model
from ._types import UTCDateTime, utcnow
from .directory import Unit
from .files import StoredFile


class SipMeeting(Model):
    """One SIP meeting. The child's identity lives only in the `child_*`, `guardians`,
    `consent` and `invitees` columns and the kallelse files; retention empties them."""

    __tablename__ = "sip_meetings"
    __table_args__ = (
        Index("ix_sip_meetings_initiator_meeting_at", "initiator_unit_id", "meeting_at"),
    )  # the lists' sort orders (migration 0012)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    state: Mapped[str] = mapped_column(String(20), index=True)  # utkast, skickad, genomford
    meeting_type: Mapped[str] = mapped_column(String(20))  # forsta, uppfoljning
    follows_id: Mapped[int | None] = mapped_column(ForeignKey("sip_meetings.id"))
    group_id: Mapped[str | None] = mapped_column(ForeignKey("bus_groups.id"), index=True)
    child_name: Mapped[str | None] = mapped_column(String(200))
    child_personnummer: Mapped[str | None] = mapped_column(String(13), index=True)
    child_gender: Mapped[str] = mapped_column(String(20))
    child_over_15: Mapped[bool] = mapped_column(Boolean, default=False)
    guardians: Mapped[list] = mapped_column(JSON, default=list)  # [{name, contact}]
    consent: Mapped[dict] = mapped_column(JSON, default=dict)  # {date, given_by: [...], form}
    question: Mapped[str | None] = mapped_column(Text)
    meeting_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    place: Mapped[str | None] = mapped_column(Text)
    initiator_unit_id: Mapped[str] = mapped_column(ForeignKey("units.id"))
    initiator_user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    chair_name: Mapped[str | None] = mapped_column(String(200))
    chair_unit_id: Mapped[str | None] = mapped_column(ForeignKey("units.id"))
    secretary_name: Mapped[str | None] = mapped_column(String(200))
    secretary_unit_id: Mapped[str | None] = mapped_column(ForeignKey("units.id"))
    invitees: Mapped[list] = mapped_column(JSON, default=list)  # [{name, organisation, email}]
    short_notice: Mapped[bool] = mapped_column(Boolean, default=False)
    short_notice_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    held_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # attendance recorded
    plan_drawn_up: Mapped[bool | None] = mapped_column(Boolean)
    plan_date: Mapped[date | None] = mapped_column(Date)
    docx_file_id: Mapped[int | None] = mapped_column(ForeignKey("stored_files.id"))
    pdf_file_id: Mapped[int | None] = mapped_column(ForeignKey("stored_files.id"))
    #: A code ("conversion_timeout", ...) and its args; rendered by templates/html/_status.html.
    document_error: Mapped[str | None] = mapped_column(Text)
    document_error_args: Mapped[dict | None] = mapped_column(JSON)
    identity_removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: The calendar event's SEQUENCE (domain.calendar): raised when the meeting is withdrawn.
    calendar_sequence: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # "Ställ in mötet"

    called: Mapped[list[SipCalledUnit]] = relationship(
        back_populates="meeting", cascade="all, delete-orphan", order_by="SipCalledUnit.unit_id"
    )
    initiator_unit: Mapped[Unit] = relationship(foreign_keys=[initiator_unit_id])
    chair_unit: Mapped[Unit | None] = relationship(foreign_keys=[chair_unit_id])
    secretary_unit: Mapped[Unit | None] = relationship(foreign_keys=[secretary_unit_id])
    docx_file: Mapped[StoredFile | None] = relationship(foreign_keys=[docx_file_id])
    pdf_file: Mapped[StoredFile | None] = relationship(foreign_keys=[pdf_file_id])
    follows: Mapped[SipMeeting | None] = relationship(remote_side=[id])


class SipCalledUnit(Model):
    """A unit called to the meeting (obliged to attend), and how it attended."""

    __tablename__ = "sip_called_units"
    __table_args__ = (
        Index("ix_sip_called_units_unit_id", "unit_id"),
    )  # the lists' sort orders (migration 0012)

    meeting_id: Mapped[int] = mapped_column(ForeignKey("sip_meetings.id"), primary_key=True)
    unit_id: Mapped[str] = mapped_column(ForeignKey("units.id"), primary_key=True)
    attendance: Mapped[str | None] = mapped_column(String(20))  # narvarande, franvarande, ersattare

    meeting: Mapped[SipMeeting] = relationship(back_populates="called")
    unit: Mapped[Unit] = relationship()
