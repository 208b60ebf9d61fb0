"""Planning or changing a steering-group meeting ("Mötesdatum", "Starttid", "Plats")."""

from __future__ import annotations

from datetime import timedelta

from flask_wtf import FlaskForm
from wtforms import Field, StringField, SubmitField, ValidationError
from wtforms.validators import Optional

from formservice import clock

from .fields import DatumField, MaxLength, Required, TidField, add_error

MAX_YEARS_AWAY = 2


class MeetingForm(FlaskForm):
    meeting_date = DatumField(
        "Mötesdatum", validators=[Required()], description="Skriv datumet som ÅÅÅÅ-MM-DD."
    )
    start_time = TidField(
        "Starttid",
        format=["%H:%M", "%H:%M:%S"],
        validators=[Optional()],
        description="Svensk tid, TT:MM. Utan starttid blir mötet en heldag i kalendern.",
    )
    place = StringField(
        "Plats",
        validators=[Optional(), MaxLength(200)],
        description="Till exempel lokal och adress, eller att mötet hålls digitalt.",
    )
    submit = SubmitField("Spara mötet")

    def validate_meeting_date(self, field: Field) -> None:
        reach = timedelta(days=365 * MAX_YEARS_AWAY)
        if abs(field.data - clock.today()) > reach:
            raise ValidationError(
                f"{field.label.text}: ange ett datum inom {MAX_YEARS_AWAY} år från i dag."
            )

    def refuse_date(self) -> None:
        """The group already meets that day (the service's `MeetingExists`)."""
        label = self.meeting_date.label.text
        add_error(self.meeting_date, f"{label}: gruppen har redan ett möte det datumet.")
