"""The invitation "Kallelse till SIP-möte" and the attendance form (SPEC §4)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from flask import current_app
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    Field,
    FieldList,
    Form,
    FormField,
    StringField,
    SubmitField,
    TextAreaField,
    ValidationError,
)
from wtforms.validators import Email, Optional

from formservice import clock
from formservice.domain.deviation import GENDERS
from formservice.domain.inputs import AttendanceInput, SipInput
from formservice.domain.sip import (
    ATTENDANCE,
    CONSENT_FORMS,
    CONSENT_FROM,
    MEETING_TYPES,
    OWN_CONSENT_AGE,
    InvalidPersonnummer,
    has_turned,
    local_moment,
    parse_personnummer,
    send_problems,
)

from .fields import (
    YES_NO,
    BusGroupField,
    CheckboxesField,
    ChoiceField,
    DatumField,
    MaxLength,
    Named,
    NotInFuture,
    RadioChoiceField,
    Required,
    RequiredIf,
    TidField,
    add_error,
    given,
    selected,
    text,
)

if TYPE_CHECKING:
    from formservice.models import SipMeeting

ROWS = 2
OVER_15 = f"Har barnet/ungdomen fyllt {OWN_CONSENT_AGE} år?"


class RequiredUnless(Required):
    """Required unless another field is filled in (then it is derived from that field)."""

    def __init__(self, other: str) -> None:
        self.other = other

    def __call__(self, form: Form, field: Field) -> None:
        if not (form[self.other].data or "").strip():
            super().__call__(form, field)


class GuardianRow(Form):
    name = StringField("Namn", validators=[MaxLength(200)])
    contact = StringField("Kontaktuppgift", validators=[MaxLength(200)])

    def validate_name(self, field: Field) -> None:
        if _blank(field.data) and not _blank(self.contact.data):
            raise ValidationError(f"{field.label.text}: fyll i namnet eller töm raden.")

    def validate_contact(self, field: Field) -> None:
        if _blank(field.data) and not _blank(self.name.data):
            raise ValidationError(f"{field.label.text}: fyll i hur vårdnadshavaren nås.")


class InviteeRow(Form):
    name = StringField("Namn", validators=[MaxLength(200)])
    organisation = StringField("Organisation", validators=[Optional(), MaxLength(200)])
    email = StringField("E-post", validators=[Optional(), MaxLength(254)])

    def validate_name(self, field: Field) -> None:
        if _blank(field.data) and not (_blank(self.organisation.data) and _blank(self.email.data)):
            raise ValidationError(f"{field.label.text}: fyll i namnet eller töm raden.")

    def validate_email(self, field: StringField) -> None:
        if not _blank(field.data):
            try:
                Email()(self, field)
            except ValidationError:
                raise ValidationError(f"{field.label.text}: ange en giltig e-postadress.") from None


class SipForm(FlaskForm):
    meeting_type = RadioChoiceField("Typ av möte", choices=MEETING_TYPES, validators=[Required()])
    follows = ChoiceField(
        "Följer SIP-möte",
        validators=[Optional()],
        description="Vid uppföljning: välj det tidigare mötet om det finns i tjänsten.",
    )
    child_name = StringField("Barnets namn", validators=[Required(), MaxLength(200)])
    child_personnummer = StringField(
        "Barnets personnummer",
        validators=[Optional()],
        description="Frivilligt. Skriv som ÅÅÅÅMMDD-NNNN.",
    )
    child_gender = RadioChoiceField(
        "Barnets kön",
        choices=GENDERS,
        validators=[Required()],
        description="Används för statistik.",
    )
    guardians = FieldList(
        FormField(GuardianRow), label="Vårdnadshavare", min_entries=ROWS, max_entries=ROWS
    )
    consent_date = DatumField(
        "Samtycke inhämtat",
        validators=[Optional(), NotInFuture()],
        description="Datum då samtycket inhämtades, ÅÅÅÅ-MM-DD. Krävs innan kallelsen skickas.",
    )
    consent_from = CheckboxesField("Samtycke från", choices=CONSENT_FROM)
    consent_form = RadioChoiceField(
        "Samtyckets form", choices=CONSENT_FORMS, validators=[Optional()]
    )
    child_over_15 = RadioChoiceField(
        OVER_15,
        choices=YES_NO,
        validators=[RequiredUnless("child_personnummer")],
        description=(
            f"Från {OWN_CONSENT_AGE} år krävs också ungdomens eget samtycke. "
            "Anger du personnummer räknas svaret ut från det."
        ),
    )
    question = TextAreaField(
        "Frågeställning",
        validators=[Required(), MaxLength(5000)],
        description="Den fråga som mötet ska besvara.",
    )
    meeting_date = DatumField(
        "Mötesdatum", validators=[Required()], description="Skriv datumet som ÅÅÅÅ-MM-DD."
    )
    meeting_time = TidField(
        "Mötestid",
        format=["%H:%M", "%H:%M:%S"],
        validators=[Required()],
        description="Svensk tid, TT:MM.",
    )
    place = StringField(
        "Plats eller länk",
        validators=[Required(), MaxLength(500)],
        description="En länk till videomöte visas bara för inloggade.",
    )
    initiator_unit = ChoiceField("Initiativtagare", validators=[Required()])
    bus_group = BusGroupField(
        case="mötet",
        description=(
            "Initiativtagarens verksamhet hör till flera lokala BUS-grupper. "
            "Mötet räknas i den valda gruppens statistik."
        ),
    )
    chair_name = StringField("Ordförandens namn", validators=[Required(), MaxLength(200)])
    chair_unit = ChoiceField("Ordförandens verksamhet", validators=[Required()])
    secretary_name = StringField("Sekreterarens namn", validators=[Required(), MaxLength(200)])
    secretary_unit = ChoiceField("Sekreterarens verksamhet", validators=[Required()])
    called_units = CheckboxesField(
        "Kallade verksamheter",
        validators=[Required()],
        description="Kallade verksamheter är enligt lag skyldiga att delta. Välj minst en.",
    )
    invitees = FieldList(
        FormField(InviteeRow), label="Inbjudna (övriga)", min_entries=ROWS, max_entries=ROWS
    )
    short_notice = BooleanField("Kortare kallelsetid")
    short_notice_reason = TextAreaField(
        "Skäl till kortare kallelsetid",
        validators=[RequiredIf("short_notice", True), MaxLength(2000)],
        description="Krävs om mötet hålls tidigare än kallelsetiden medger.",
    )
    send = SubmitField("Skicka kallelsen")
    save_draft = SubmitField("Spara som utkast")

    def __init__(
        self,
        *args: Any,
        own_units: Iterable[Named] = (),
        all_units: Iterable[Named] = (),
        earlier: Iterable[tuple[str, str]] = (),
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        units = [(u.id, u.name) for u in all_units]
        self.initiator_unit.choices = [(u.id, u.name) for u in own_units]
        self.chair_unit.choices = [("", "Välj verksamhet"), *units]
        self.secretary_unit.choices = [("", "Välj verksamhet"), *units]
        self.called_units.choices = units
        self.follows.choices = [("", "Inget tidigare möte valt"), *earlier]
        self.consent_date.flags.required = True
        self.guardians.flags.required = True
        self._born: date | None = None
        _label_rows(self.guardians, "vårdnadshavare", {"name": "Namn", "contact": "Kontaktuppgift"})
        _label_rows(
            self.invitees,
            "inbjuden",
            {"name": "Namn", "organisation": "Organisation", "email": "E-post"},
        )

    @property
    def sending(self) -> bool:
        return not self.save_draft.data

    def group_units(self) -> tuple[str | None, None]:
        """The unit the meeting's group depends on, as chosen so far."""
        return selected(self.initiator_unit), None

    def validate_child_personnummer(self, field: Field) -> None:
        if _blank(field.data):
            return
        try:
            field.data, self._born = parse_personnummer(field.data)
        except InvalidPersonnummer:
            raise ValidationError(
                f"{field.label.text}: ange ett giltigt personnummer eller samordningsnummer "
                "(ÅÅÅÅMMDD-NNNN)."
            ) from None

    def validate_child_over_15(self, field: Field) -> None:
        if self._born is None:
            return
        derived = "ja" if has_turned(self._born, OWN_CONSENT_AGE, clock.today()) else "nej"
        if field.data and field.data != derived:
            raise ValidationError(f"{field.label.text}: svaret stämmer inte med personnumret.")
        field.data = derived

    def validate_guardians(self, field: FieldList[FormField[GuardianRow]]) -> None:
        if not any(not _blank(row.form.name.data) for row in field.entries):
            raise ValidationError(f"{field.label.text}: ange minst en vårdnadshavare.")

    def validate_meeting_time(self, field: Field) -> None:
        if self.meeting_date.data and field.data:
            try:
                self.meeting_at()
            except ValueError:
                raise ValidationError(
                    f"{field.label.text}: tiden finns inte den dagen (klockan ställs om)."
                ) from None

    def validate_follows(self, field: Field) -> None:
        if field.data and self.meeting_type.data != "uppfoljning":
            raise ValidationError(f"{field.label.text}: välj bara ett möte vid uppföljning.")

    def validate(self, extra_validators: Mapping[str, Sequence[Any]] | None = None) -> bool:
        """Field by field; when sending, also the consent and notice rules of SPEC §4."""
        if not super().validate(extra_validators):
            return False
        if not self.sending:
            return True
        notice_days = current_app.config["FORMSERVICE_SIP_NOTICE_DAYS"]
        problems = send_problems(self.to_input(), clock.now(), clock.zone(), notice_days)
        for message in problems.get("consent", []):
            add_error(self.consent_date, f"Samtycke inhämtat: {message[0].lower()}{message[1:]}")
        add_error(self.meeting_date, *problems.get("meeting_at", []))
        return not problems

    def meeting_at(self) -> datetime:
        return local_moment(
            given(self.meeting_date.data), given(self.meeting_time.data), clock.zone()
        )

    def to_input(self) -> SipInput:
        follow_up = self.meeting_type.data == "uppfoljning"
        return SipInput(
            meeting_type=self.meeting_type.data,
            follows_id=int(self.follows.data) if follow_up and self.follows.data else None,
            child_name=text(self.child_name),
            child_personnummer=self.child_personnummer.data or None,
            child_gender=self.child_gender.data,
            child_over_15=self.child_over_15.data == "ja",
            guardians=_rows(self.guardians, ("name", "contact")),
            consent={
                "date": self.consent_date.data.isoformat() if self.consent_date.data else None,
                "given_by": list(self.consent_from.data or []),
                "form": self.consent_form.data or None,
            },
            question=text(self.question),
            meeting_at=self.meeting_at(),
            place=text(self.place),
            initiator_unit_id=self.initiator_unit.data,
            chair_name=text(self.chair_name),
            chair_unit_id=self.chair_unit.data,
            secretary_name=text(self.secretary_name),
            secretary_unit_id=self.secretary_unit.data,
            called_unit_ids=list(self.called_units.data or []),
            invitees=_rows(self.invitees, ("name", "organisation", "email")),
            short_notice=bool(self.short_notice.data),
            short_notice_reason=(self.short_notice_reason.data or "").strip() or None,
            group_id=self.bus_group.data or None,
        )

    def fill_from(self, meeting: SipMeeting, *, follow_up: bool = False) -> None:
        """Pre-fill from a stored draft, or from an earlier meeting for its follow-up."""
        self.meeting_type.data = "uppfoljning" if follow_up else meeting.meeting_type
        self.follows.data = str(meeting.id if follow_up else meeting.follows_id or "")
        self.child_name.data = meeting.child_name
        self.child_personnummer.data = meeting.child_personnummer
        self.child_gender.data = meeting.child_gender
        self.child_over_15.data = "ja" if meeting.child_over_15 else "nej"
        _fill_rows(self.guardians, meeting.guardians)
        _fill_rows(self.invitees, meeting.invitees)
        consent = meeting.consent or {}
        self.consent_date.data = _date_or_none(consent.get("date"))
        self.consent_from.data = list(consent.get("given_by") or [])
        self.consent_form.data = consent.get("form")
        self.question.data = meeting.question
        self.initiator_unit.data = meeting.initiator_unit_id
        self.bus_group.data = meeting.group_id or ""
        self.chair_name.data, self.chair_unit.data = meeting.chair_name, meeting.chair_unit_id
        self.secretary_name.data = meeting.secretary_name
        self.secretary_unit.data = meeting.secretary_unit_id
        self.called_units.data = [c.unit_id for c in meeting.called]
        if not follow_up:
            local = meeting.meeting_at.astimezone(ZoneInfo(clock.zone()))
            self.meeting_date.data, self.meeting_time.data = local.date(), local.time()
            self.place.data = meeting.place
            self.short_notice.data = meeting.short_notice
            self.short_notice_reason.data = meeting.short_notice_reason


class AttendanceForm(FlaskForm):
    """One radio group per called unit (added by `attendance_form`), and the plan."""

    plan_drawn_up = RadioChoiceField(
        "Upprättades en plan?", choices=YES_NO, validators=[Required()]
    )
    plan_date = DatumField(
        "Datum då planen upprättades",
        validators=[RequiredIf("plan_drawn_up", "ja"), Optional(), NotInFuture()],
        description="Skriv datumet som ÅÅÅÅ-MM-DD.",
    )
    save = SubmitField("Spara närvaro")

    unit_fields: list[tuple[str, str]] = []

    def to_input(self) -> AttendanceInput:
        planned = self.plan_drawn_up.data == "ja"
        return AttendanceInput(
            attendance={unit_id: self[name].data for name, unit_id in self.unit_fields},
            plan_drawn_up=planned,
            plan_date=self.plan_date.data if planned else None,
        )

    def unit_field_list(self) -> list:
        return [self[name] for name, _ in self.unit_fields]


def attendance_form(meeting: SipMeeting, **kwargs: Any) -> AttendanceForm:
    """The attendance form for this meeting's called units, pre-filled with what is known."""
    fields = [(f"unit_{index}", called) for index, called in enumerate(meeting.called)]

    class MeetingAttendance(AttendanceForm):
        pass

    for name, called in fields:
        setattr(
            MeetingAttendance,
            name,
            RadioChoiceField(called.unit.name, choices=ATTENDANCE, validators=[Required()]),
        )
    MeetingAttendance.unit_fields = [(name, called.unit_id) for name, called in fields]
    form = MeetingAttendance(**kwargs)
    if not form.is_submitted():
        for name, called in fields:
            form[name].data = called.attendance
        if meeting.plan_drawn_up is not None:
            form.plan_drawn_up.data = "ja" if meeting.plan_drawn_up else "nej"
        form.plan_date.data = meeting.plan_date
    return form


def _label_rows(rows: FieldList, noun: str, labels: dict[str, str]) -> None:
    """Label each row's fields with the row's number, so errors say which row is meant."""
    for number, entry in enumerate(rows.entries, start=1):
        for name, label in labels.items():
            entry.form[name].label.text = f"{label}, {noun} {number}"


def _rows(rows: FieldList, keys: tuple[str, ...]) -> list[dict[str, str]]:
    result = []
    for entry in rows.entries:
        row = {key: (entry.form[key].data or "").strip() for key in keys}
        if any(row.values()):
            result.append(row)
    return result


def _fill_rows(rows: FieldList, values: list[dict] | None) -> None:
    for entry, value in zip(rows.entries, values or [], strict=False):
        for name, field in entry.form._fields.items():
            field.data = value.get(name, "")


def _blank(value: str | None) -> bool:
    return not (value or "").strip()


def _date_or_none(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None
