"""What the forms hand the services: plain dataclasses, checked field by field by the forms
(`forms/`), applied by the services (`formservice/services/`). The contract between the two
layers, so neither imports the other."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime


@dataclass
class Upload:
    """An inspected upload ready to store."""

    name: str
    content_type: str
    sha256: str
    data: bytes
    page_count: int | None = None


@dataclass
class DeviationInput:
    reporting_unit_id: str
    receiving_unit_id: str
    event_date: date
    categories: list[str]
    description: str
    actions_taken: str
    bus_individ: bool
    bus_individ_date: date | None
    proposal: str
    child_gender: str
    age_group: str | None
    uploads: list[Upload] = field(default_factory=list)
    sip_id: int | None = None
    bus_individ_id: int | None = None
    group_id: str | None = None  # "BUS-grupp": the choice, when the units allow several


@dataclass
class AnswerInput:
    responder_name: str
    assessment: str
    actions_taken: str
    planned_measures: list[dict]
    agrees: str
    raise_regional: bool | None


@dataclass
class FeedbackInput:
    """Chef A's "Återkoppling på svaret": a verdict code (domain.feedback) and "Motivering"."""

    verdict: str
    motivation: str


@dataclass
class SupplementInput:
    """Chef B's "Kompletterande svar"."""

    responder_name: str
    text: str


@dataclass
class SipInput:
    meeting_type: str
    follows_id: int | None
    child_name: str
    child_personnummer: str | None
    child_gender: str
    child_over_15: bool
    guardians: list[dict]
    consent: dict
    question: str
    meeting_at: datetime
    place: str
    initiator_unit_id: str
    chair_name: str
    chair_unit_id: str
    secretary_name: str
    secretary_unit_id: str
    called_unit_ids: list[str]
    invitees: list[dict]
    short_notice: bool
    short_notice_reason: str | None
    group_id: str | None = None  # "BUS-grupp": the choice, when the initiator has several


@dataclass
class AttendanceInput:
    attendance: dict[str, str]  # unit id -> narvarande, franvarande, ersattare
    plan_drawn_up: bool
    plan_date: date | None


@dataclass
class BusIndividInput:
    raised_by_unit_id: str
    child_gender: str
    consent: dict
    participants: list[str]
    question: str
    meeting_date: date
    agreement_reached: bool
    follow_up: bool
    sip_id: int | None = None
    sip_date: date | None = None
    child_name: str | None = None
    agreements: list[dict] = field(default_factory=list)
    follow_up_convener_unit_id: str | None = None
    follow_up_date: date | None = None
    group_id: str | None = None  # "BUS-grupp": the choice, when the raising unit has several


@dataclass(frozen=True)
class Measure:
    action: str
    unit_id: str
    due: str  # ISO date or ""


@dataclass(frozen=True)
class ClosingInput:
    meeting_id: int
    assessment: str
    measures: list[Measure]
    escalate: bool
    escalate_reason: str
