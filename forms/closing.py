""" "Avslutning av ärendet", filled by the secretary after the meeting (SPEC §3)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from flask_wtf import FlaskForm
from wtforms import (
    FieldList,
    Form,
    FormField,
    StringField,
    SubmitField,
    TextAreaField,
    ValidationError,
)
from wtforms.validators import Optional

from formservice.domain.inputs import ClosingInput, Measure
from formservice.domain.meetings import ASSESSMENTS

from .fields import (
    YES_NO,
    ChoiceField,
    DatumField,
    Deidentified,
    MaxLength,
    Named,
    RadioChoiceField,
    Required,
    RequiredIf,
    text,
)

if TYPE_CHECKING:
    from formservice.models import GroupMeeting

MEASURE_ROWS = 3


class DecidedMeasure(Form):
    action = StringField("Åtgärd", validators=[Optional(), MaxLength(500), Deidentified()])
    unit = ChoiceField("Ansvarig verksamhet", validators=[Optional()])
    due = DatumField("Klart senast", validators=[Optional()])

    @property
    def filled(self) -> bool:
        return bool((self.action.data or "").strip())


class ClosingForm(FlaskForm):
    meeting = ChoiceField("Behandlad vid möte", validators=[Required()])
    assessment = RadioChoiceField(
        "Styrgruppens bedömning", choices=ASSESSMENTS, validators=[Required()]
    )
    measures = FieldList(
        FormField(DecidedMeasure),
        label="Beslutade åtgärder",
        min_entries=MEASURE_ROWS,
        max_entries=20,
    )
    escalate = RadioChoiceField(
        "Lyfts till BUS-sekretariatet/BUSSAM",
        choices=YES_NO,
        default="nej",
        validators=[Optional()],
    )
    reason = TextAreaField(
        "Motivering",
        validators=[RequiredIf("escalate", "ja"), Optional(), MaxLength(5000), Deidentified()],
        description="Fyll i om ärendet lyfts till BUS-sekretariatet/BUSSAM.",
    )
    submit = SubmitField("Avsluta ärendet")

    def __init__(
        self,
        *args: Any,
        meetings: Iterable[GroupMeeting] = (),
        units: Iterable[Named] = (),
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.meeting.choices = [("", "Välj möte")] + [
            (str(m.id), f"{m.meeting_date.isoformat()} {m.place}".strip()) for m in meetings
        ]
        unit_choices = [("", "Välj verksamhet")] + [(u.id, u.name) for u in units]
        for row in self.measures:
            row.form.unit.choices = unit_choices

    def validate_measures(self, field: FieldList[FormField[DecidedMeasure]]) -> None:
        label = field.label.text
        rows = list(enumerate(field.entries, start=1))
        for number, row in rows:
            if (row.unit.data or row.due.data) and not row.filled:
                raise ValidationError(f"{label}: rad {number} behöver en åtgärd.")
            if row.filled and not row.unit.data:
                raise ValidationError(f"{label}: ange ansvarig verksamhet på rad {number}.")
        if not any(row.filled for _, row in rows):
            raise ValidationError(f"{label}: ange minst en åtgärd.")

    def to_input(self) -> ClosingInput:
        measures = [
            Measure(
                action=text(row.action),
                unit_id=row.unit.data,
                due=row.due.data.isoformat() if row.due.data else "",
            )
            for row in self.measures.entries
            if row.filled
        ]
        escalate = self.escalate.data == "ja"
        return ClosingInput(
            meeting_id=int(self.meeting.data),
            assessment=self.assessment.data,
            measures=measures,
            escalate=escalate,
            escalate_reason=(self.reason.data or "").strip() if escalate else "",
        )
