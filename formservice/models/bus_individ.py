"""BUS-individ records: a single case raised after SIP did not reach agreement (SPEC §5)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import Model
from ._types import UTCDateTime, utcnow
from .directory import Unit
from .files import StoredFile
from .sip import SipMeeting


class BusIndivid(Model):
    __tablename__ = "bus_individ"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    state: Mapped[str] = mapped_column(String(20), index=True)  # utkast, genomford
    group_id: Mapped[str | None] = mapped_column(ForeignKey("bus_groups.id"), index=True)
    sip_id: Mapped[int | None] = mapped_column(ForeignKey("sip_meetings.id"))
    sip_date: Mapped[date | None] = mapped_column(Date)  # when the SIP is not in the service
    child_name: Mapped[str | None] = mapped_column(String(200))
    child_gender: Mapped[str] = mapped_column(String(20))
    consent: Mapped[dict] = mapped_column(JSON, default=dict)  # {date, given_by: [...], form}
    raised_by_unit_id: Mapped[str] = mapped_column(ForeignKey("units.id"))
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    convener_unit_id: Mapped[str | None] = mapped_column(ForeignKey("units.id"))
    chair_unit_id: Mapped[str | None] = mapped_column(ForeignKey("units.id"))
    participants: Mapped[list] = mapped_column(JSON, default=list)  # unit ids
    question: Mapped[str | None] = mapped_column(Text)
    meeting_date: Mapped[date] = mapped_column(Date, index=True)
    agreement_reached: Mapped[bool | None] = mapped_column(Boolean)
    agreements: Mapped[list] = mapped_column(JSON, default=list)  # [{what, who, by_when}]
    follow_up: Mapped[bool | None] = mapped_column(Boolean)
    follow_up_convener_unit_id: Mapped[str | None] = mapped_column(ForeignKey("units.id"))
    follow_up_date: Mapped[date | None] = mapped_column(Date)
    docx_file_id: Mapped[int | None] = mapped_column(ForeignKey("stored_files.id"))
    pdf_file_id: Mapped[int | None] = mapped_column(ForeignKey("stored_files.id"))
    #: A code ("conversion_timeout", ...) and its args; rendered by templates/html/_status.html.
    document_error: Mapped[str | None] = mapped_column(Text)
    document_error_args: Mapped[dict | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    held_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    identity_removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    sip: Mapped[SipMeeting | None] = relationship()
    raised_by_unit: Mapped[Unit] = relationship(foreign_keys=[raised_by_unit_id])
    convener_unit: Mapped[Unit | None] = relationship(foreign_keys=[convener_unit_id])
    chair_unit: Mapped[Unit | None] = relationship(foreign_keys=[chair_unit_id])
    docx_file: Mapped[StoredFile | None] = relationship(foreign_keys=[docx_file_id])
    pdf_file: Mapped[StoredFile | None] = relationship(foreign_keys=[pdf_file_id])
