"""Outgoing e-mail, one row per message until the mail server accepts it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import Model
from ._types import UTCDateTime, utcnow

PENDING, SENDING, SENT, FAILED = "pending", "sending", "sent", "failed"

#: Message kinds about a SIP meeting or a BUS-individ record rather than a deviation, and the
#: context key that holds the record's id.
RECORD_KEYS = {"sip_invitation": "sip_id", "bus_individ_minutes": "bus_individ_id"}
#: Account e-mail (invitation, password reset): a row whose address is no active person's is
#: deleted unsent rather than kept as failed (a reset can be asked for any address typed).
ACCOUNT_KINDS = frozenset({"invitation", "password_reset"})


class OutboxMessage(Model):
    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    to_email: Mapped[str] = mapped_column(String(254))
    deviation_id: Mapped[int | None] = mapped_column(ForeignKey("deviations.id"), index=True)
    context: Mapped[dict] = mapped_column(JSON, default=dict)
    state: Mapped[str] = mapped_column(String(10), default=PENDING, index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    message_id: Mapped[str] = mapped_column(String(200), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def record_id(self) -> int | None:
        """The SIP meeting or BUS-individ record the message is about (`RECORD_KEYS`)."""
        value = (self.context or {}).get(RECORD_KEYS.get(self.kind, ""))
        return value if isinstance(value, int) else None
