"""SQLAlchemy models, one module per aggregate."""

from .accounts import User
from .audit import AuditEvent
from .deviation import CaseCounter, Deviation, DeviationAnswer, Forwarding
from .directory import BusGroup, Huvudman, Unit
from .files import Attachment, StoredFile
from .outbox import OutboxMessage

__all__ = [
    "Attachment",
    "AuditEvent",
    "BusGroup",
    "CaseCounter",
    "Deviation",
    "DeviationAnswer",
    "Forwarding",
    "Huvudman",
    "OutboxMessage",
    "StoredFile",
    "Unit",
    "User",
]
