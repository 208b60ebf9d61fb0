"""The answer "Svar från mottagande verksamhet" (SPEC §3)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    FieldList,
    Form,
    FormField,
    StringField,
    SubmitField,
    TextAreaField,
    ValidationError,
)
from wtforms.validators import Optional

from formservice.domain.deviation import AGREES
from formservice.domain.inputs import AnswerInput

from .fields import YES_NO, DatumField, Deidentified, MaxLength, RadioChoiceField, Required, text

MEASURE_ROWS = 3


class MeasureRow(Form):
    action = StringField("Åtgärd", validators=[Optional(), MaxLength(500), Deidentified()])
    responsible = StringField("Ansvarig", validators=[Optional(), MaxLength(200), Deidentified()])
    due = DatumField("Klart senast", validators=[Optional()])


class AnswerForm(FlaskForm):
    responder_name = StringField("Svarande chef", validators=[Required(), MaxLength(200)])
    assessment = TextAreaField("Verksamhetens bedömning", validators=[Required(), Deidentified()])
    actions_taken = TextAreaField("Vidtagna åtgärder", validators=[Optional(), Deidentified()])
    planned_measures = FieldList(
        FormField(MeasureRow),
        label="Planerade åtgärder",
        min_entries=MEASURE_ROWS,
        max_entries=20,
    )
    agrees = RadioChoiceField(
        "Instämmer ni i beskrivningen?", choices=AGREES, validators=[Required()]
    )
    raise_regional = RadioChoiceField(
        "Bör frågan lyftas till regional nivå?",
        choices=YES_NO,
        validators=[Optional()],
    )
    attest = BooleanField("Jag intygar att svaret är avidentifierat", validators=[Required()])
    submit = SubmitField("Skicka svaret")

    def validate_planned_measures(self, field: FieldList[FormField[MeasureRow]]) -> None:
        for row in field.entries:
            if (row.responsible.data or row.due.data) and not (row.action.data or "").strip():
                raise ValidationError(f"{field.label.text}: varje rad behöver en åtgärd.")

    def to_input(self) -> AnswerInput:
        measures = [
            {
                "action": text(row.action),
                "responsible": (row.responsible.data or "").strip(),
                "due": row.due.data.isoformat() if row.due.data else "",
            }
            for row in self.planned_measures.entries
            if (row.action.data or "").strip()
        ]
        return AnswerInput(
            responder_name=text(self.responder_name),
            assessment=text(self.assessment),
            actions_taken=(self.actions_taken.data or "").strip(),
            planned_measures=measures,
            agrees=self.agrees.data,
            raise_regional=None
            if not self.raise_regional.data
            else self.raise_regional.data == "ja",
        )
