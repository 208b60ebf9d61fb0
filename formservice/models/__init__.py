"""SQLAlchemy models, one module per aggregate."""

from .accounts import RecoveryCode, User
from .audit import AuditEvent
from .bus_individ import BusIndivid
from .deviation import (
    AnswerFeedback,
    AnswerSupplement,
    CaseCounter,
    Deviation,
    DeviationAnswer,
    FormVersion,
    Forwarding,
)
from .directory import BusGroup, Huvudman, Unit
from .files import Attachment, StoredFile, StoredFileChunk
from .measure import Measure
from .meeting import DeviationClosing, Digest, GroupMeeting
from .outbox import OutboxMessage
from .pattern import PatternNotice
from .sip import SipCalledUnit, SipMeeting
from .timing import BuildTiming

__all__ = [
    "AnswerFeedback",
    "AnswerSupplement",
    "Attachment",
    "AuditEvent",
    "BuildTiming",
    "BusGroup",
    "BusIndivid",
    "CaseCounter",
    "DeviationClosing",
    "Digest",
    "GroupMeeting",
    "Deviation",
    "DeviationAnswer",
    "FormVersion",
    "Forwarding",
    "Huvudman",
    "Measure",
    "OutboxMessage",
    "PatternNotice",
    "RecoveryCode",
    "SipCalledUnit",
    "SipMeeting",
    "StoredFile",
    "StoredFileChunk",
    "Unit",
    "User",
]
