"""Chef A's "Återkoppling på svaret" and chef B's "Kompletterande svar" (issue 17)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, Field, StringField, SubmitField, TextAreaField, ValidationError

from formservice.domain.feedback import INSUFFICIENT, SUFFICIENT, motivation_required
from formservice.domain.inputs import FeedbackInput, SupplementInput

from .fields import Deidentified, MaxLength, RadioChoiceField, Required, text

VERDICT_CHOICES = {SUFFICIENT: "Svaret räcker", INSUFFICIENT: "Svaret räcker inte"}


class FeedbackForm(FlaskForm):
    verdict = RadioChoiceField(
        "Återkoppling på svaret", choices=VERDICT_CHOICES, validators=[Required()]
    )
    motivation = TextAreaField(
        "Motivering",
        description="Krävs om svaret inte räcker. Skriv avidentifierat.",
        validators=[MaxLength(5000), Deidentified()],
    )
    submit = SubmitField("Skicka återkoppling")

    def validate_motivation(self, field: Field) -> None:
        """Required for "Svaret räcker inte"."""
        if motivation_required(self.verdict.data or "") and not (field.data or "").strip():
            raise ValidationError(f"{field.label.text}: fyll i varför svaret inte räcker.")

    def to_input(self) -> FeedbackInput:
        return FeedbackInput(
            verdict=self.verdict.data, motivation=(self.motivation.data or "").strip()
        )


class SupplementForm(FlaskForm):
    responder_name = StringField("Svarande chef", validators=[Required(), MaxLength(200)])
    text = TextAreaField(
        "Kompletterande svar", validators=[Required(), MaxLength(20000), Deidentified()]
    )
    attest = BooleanField("Jag intygar att svaret är avidentifierat", validators=[Required()])
    submit = SubmitField("Skicka kompletterande svar")

    def to_input(self) -> SupplementInput:
        return SupplementInput(responder_name=text(self.responder_name), text=text(self.text))
