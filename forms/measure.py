"""A decided measure reported "Genomförd" with "Kommentar" (issue 17)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import SubmitField, TextAreaField

from .fields import Deidentified, MaxLength, Required


class MeasureDoneForm(FlaskForm):
    comment = TextAreaField(
        "Kommentar",
        validators=[Required(), MaxLength(2000), Deidentified()],
        description="Beskriv kort vad som har gjorts. Skriv inga personuppgifter.",
    )
    submit = SubmitField("Genomförd")

    def text(self) -> str:
        """The comment as stored."""
        return (self.comment.data or "").strip()
