"""The minutes of a BUS-individ meeting (SPEC §5).

These records rest on consent and may hold the child's identity, so free text is not
de-identified here; only lengths are checked.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from typing import Any

from flask_wtf import FlaskForm
from wtforms import Field, FieldList, Form, FormField, StringField, SubmitField, TextAreaField
from wtforms.validators import Optional, ValidationError

from formservice import clock
from formservice.domain.deviation import GENDERS
from formservice.domain.inputs import BusIndividInput
from formservice.domain.sip import CONSENT_FORMS, CONSENT_FROM, consent_problems

from .fields import (
    MAX_TEXT,
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
    given,
    selected,
    text,
)

AGREEMENT_ROWS = 3


class AgreementRow(Form):
    what = StringField("Vad", validators=[Optional(), MaxLength(1000)])
    who = StringField("Vem", validators=[Optional(), MaxLength(200)])
    by_when = DatumField("När", validators=[Optional()])


class BusIndividForm(FlaskForm):
    sip_meeting = ChoiceField(
        "Föregående SIP-möte",
        default="",
        description="Välj SIP-mötet som föregick ärendet, eller fyll i datumet nedan.",
    )
    sip_date = DatumField(
        "Datum för SIP-möte",
        validators=[Optional(), NotInFuture()],
        description="Fyll i om SIP-mötet inte finns i tjänsten. Skriv datumet som ÅÅÅÅ-MM-DD.",
    )
    consent_date = DatumField(
        "Samtycke inhämtat",
        validators=[Required()],
        description="Datum då samtycket inhämtades, ÅÅÅÅ-MM-DD.",
    )
    consent_from = CheckboxesField(
        "Samtycke lämnat av", choices=CONSENT_FROM, validators=[Required()]
    )
    consent_form = RadioChoiceField(
        "Samtyckets form", choices=CONSENT_FORMS, validators=[Required()]
    )
    child_over_15 = RadioChoiceField(
        "Har barnet fyllt 15 år?",
        choices=YES_NO,
        validators=[Required()],
        description="Från 15 år ska ungdomens eget samtycke också finnas.",
    )
    child_name = StringField(
        "Barnets namn",
        validators=[Optional(), MaxLength(200)],
        description="Frivilligt. Tas bort automatiskt efter gallringstiden.",
    )
    child_gender = RadioChoiceField(
        "Barnets kön",
        choices=GENDERS,
        validators=[Required()],
        description="Används för statistiken.",
    )
    raised_by_unit = ChoiceField("Aktualiserande verksamhet", validators=[Required()])
    bus_group = BusGroupField(
        case="protokollet",
        description=(
            "Den aktualiserande verksamheten hör till flera lokala BUS-grupper. Den valda "
            "gruppens inställningar avgör sammankallande och ordförande, och mötet räknas i "
            "dess statistik."
        ),
    )
    participants = CheckboxesField(
        "Deltagande verksamheter",
        validators=[Required()],
        description="Verksamheter vars chefer deltog i mötet.",
    )
    question = TextAreaField("Frågeställning", validators=[Required(), MaxLength(MAX_TEXT)])
    meeting_date = DatumField(
        "Mötesdatum",
        validators=[Required(), NotInFuture()],
        description="Skriv datumet som ÅÅÅÅ-MM-DD.",
    )
    agreement_reached = RadioChoiceField(
        "Nåddes en överenskommelse?", choices=YES_NO, validators=[Required()]
    )
    agreements = FieldList(
        FormField(AgreementRow),
        label="Överenskommelser",
        min_entries=AGREEMENT_ROWS,
        max_entries=20,
    )
    follow_up = RadioChoiceField(
        "Behövs ett uppföljande möte?", choices=YES_NO, validators=[Required()]
    )
    follow_up_convener = ChoiceField(
        "Sammankallande för uppföljning", default="", validators=[RequiredIf("follow_up", "ja")]
    )
    follow_up_date = DatumField(
        "Datum för uppföljning",
        validators=[RequiredIf("follow_up", "ja"), Optional()],
        description="Fyll i om ett uppföljande möte behövs. Skriv datumet som ÅÅÅÅ-MM-DD.",
    )
    submit = SubmitField("Spara protokollet")

    def __init__(
        self,
        *args: Any,
        own_units: Iterable[Named] = (),
        all_units: Iterable[Named] = (),
        sip_meetings: Iterable[tuple[int, str, date]] = (),
        **kwargs: Any,
    ) -> None:
        """`sip_meetings`: (id, label, local date) of the SIP meetings the user may choose."""
        super().__init__(*args, **kwargs)
        self.sip_meeting.choices = [("", "Inget SIP-möte i tjänsten")] + [
            (str(i), label) for i, label, _ in sip_meetings
        ]
        self.sip_dates: dict[str, date] = {str(i): day for i, _, day in sip_meetings}
        self.raised_by_unit.choices = [(u.id, u.name) for u in own_units]
        self.participants.choices = [(u.id, u.name) for u in all_units]
        self.follow_up_convener.choices = [("", "Välj verksamhet")] + [
            (u.id, u.name) for u in all_units
        ]

    def group_units(self) -> tuple[str | None, None]:
        """The unit the record's group depends on, as chosen so far."""
        return selected(self.raised_by_unit), None

    def validate(self, extra_validators: Mapping[str, Sequence[Any]] | None = None) -> bool:
        """The fields, then the consent as a whole (SPEC §4 rules, shared with SIP)."""
        valid = super().validate(extra_validators)
        fields = (self.consent_date, self.consent_from, self.consent_form, self.child_over_15)
        if any(f.errors for f in fields):
            return False
        over_15 = self.child_over_15.data == "ja"
        problems = consent_problems(self.consent(), over_15, clock.today())
        label = self.consent_date.label.text
        self.consent_date.errors = [*self.consent_date.errors, *(f"{label}: {p}" for p in problems)]
        return valid and not problems

    def validate_sip_meeting(self, field: Field) -> None:
        typed = "".join(self.sip_date.raw_data or []).strip()
        if not field.data and not typed:
            raise ValidationError(
                f"{field.label.text}: välj SIP-mötet som föregick ärendet eller fyll i "
                f"{self.sip_date.label.text}. Ett SIP-möte ska alltid ha hållits före BUS-individ."
            )
        self._check_before_meeting(field, self.sip_dates.get(field.data))

    def validate_sip_date(self, field: Field) -> None:
        self._check_before_meeting(field, field.data)

    def _check_before_meeting(self, field: Field, sip_on: date | None) -> None:
        meeting = self.meeting_date.data
        if sip_on and meeting and sip_on > meeting:
            raise ValidationError(
                f"{field.label.text}: SIP-mötet ska ha hållits före mötet i BUS-individ."
            )

    def validate_follow_up_date(self, field: Field) -> None:
        meeting = self.meeting_date.data
        if self.follow_up.data == "ja" and field.data and meeting and field.data < meeting:
            raise ValidationError(f"{field.label.text}: datumet ska vara efter mötesdatumet.")

    def validate_agreements(self, field: FieldList[FormField[AgreementRow]]) -> None:
        rows = self.agreement_rows()
        if any((r.who.data or r.by_when.data) and not text(r.what) for r in field.entries):
            raise ValidationError(f"{field.label.text}: skriv vad som överenskommits på varje rad.")
        if self.agreement_reached.data == "ja" and not rows:
            raise ValidationError(
                f"{field.label.text}: skriv minst en överenskommelse när en överenskommelse nåddes."
            )

    def consent(self) -> dict:
        """The consent as stored: date, from whom, written or oral, and the age question."""
        given = self.consent_date.data
        return {
            "date": given.isoformat() if isinstance(given, date) else None,
            "given_by": list(self.consent_from.data or []),
            "form": self.consent_form.data,
            "child_over_15": self.child_over_15.data == "ja",
        }

    def agreement_rows(self) -> list[dict]:
        return [
            {
                "what": text(row.what),
                "who": text(row.who),
                "by_when": row.by_when.data.isoformat() if row.by_when.data else "",
            }
            for row in self.agreements.entries
            if text(row.what)
        ]

    def to_input(self) -> BusIndividInput:
        follow_up = self.follow_up.data == "ja"
        return BusIndividInput(
            raised_by_unit_id=self.raised_by_unit.data,
            child_gender=self.child_gender.data,
            consent=self.consent(),
            participants=list(self.participants.data or []),
            question=text(self.question),
            meeting_date=given(self.meeting_date.data),
            agreement_reached=self.agreement_reached.data == "ja",
            follow_up=follow_up,
            sip_id=int(self.sip_meeting.data) if self.sip_meeting.data else None,
            sip_date=self.sip_date.data,
            child_name=text(self.child_name) or None,
            agreements=self.agreement_rows(),
            follow_up_convener_unit_id=self.follow_up_convener.data if follow_up else None,
            follow_up_date=self.follow_up_date.data if follow_up else None,
            group_id=self.bus_group.data or None,
        )
