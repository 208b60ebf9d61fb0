"""The statistics chooser ("BUS-grupp", "Period", "Från", "Till") and the yearly one ("År").

Plain GET forms (no CSRF: they change nothing); every error names its field in Swedish.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from werkzeug.datastructures import MultiDict
from wtforms import Field, Form, SelectField, StringField, ValidationError
from wtforms.form import BaseForm

from formservice.domain.statistics import (
    Period,
    current_half,
    custom_period,
    parse_period,
    period_choices,
    period_code,
)

from .fields import DatumField, add_error, choice_values, text

CUSTOM = "egen"
FIRST_YEAR, LAST_YEAR = 2000, 2100


class GroupField(SelectField):
    """A BUS group from the list the user may read; the error names the field."""

    def pre_validate(self, form: BaseForm) -> None:
        if self.data not in choice_values(self):
            raise ValidationError(f"{self.label.text}: välj en grupp i listan.")


class StatisticsForm(Form):
    grupp = GroupField("BUS-grupp")
    period = SelectField("Period", validate_choice=False)
    fran = DatumField("Från")
    till = DatumField("Till")

    def __init__(
        self, formdata: MultiDict[str, str], *, groups: list[tuple[str, str]], today: date
    ) -> None:
        super().__init__(formdata)
        self.grupp.choices = groups
        if not self.grupp.data and groups:
            self.grupp.data = groups[0][0]
        self.today = today
        self.custom = formdata.get("period", "").strip() in ("", CUSTOM) and (
            bool(formdata.get("fran")) or bool(formdata.get("till"))
        )
        if self.custom:
            self.period.data = CUSTOM
        self.period.data = (self.period.data or "").strip() or period_code(current_half(today))
        self.period.choices = [
            *period_choices(today, parse_period(self.period.data)),
            (CUSTOM, "Eget datumintervall (ange Från och Till)"),
        ]
        self.chosen: Period | None = None

    def validate_period(self, field: Field) -> None:
        if field.data != CUSTOM and parse_period(field.data) is None:
            raise ValidationError(
                f"{field.label.text}: ange ett halvår eller år som 2026H1, 2026H2 eller 2026 "
                f"(åren {FIRST_YEAR}–{LAST_YEAR}), eller välj Eget datumintervall."
            )

    def validate(self, extra_validators: Mapping[str, Sequence[Any]] | None = None) -> bool:
        valid = super().validate(extra_validators)
        if valid and self.period.data != CUSTOM:
            self.chosen = parse_period(self.period.data)
            if self.chosen is not None:  # validate_period saw to it
                self.period.data = period_code(self.chosen)
        elif valid:
            self.chosen = self._custom_range()
        return valid and self.chosen is not None

    def _custom_range(self) -> Period | None:
        start, end = self.fran, self.till
        for field in (start, end):
            if field.errors:
                continue
            if field.data is None:
                add_error(field, f"{field.label.text}: fyll i ett datum för eget intervall.")
            elif not FIRST_YEAR <= field.data.year <= LAST_YEAR:
                add_error(
                    field,
                    f"{field.label.text}: ange ett datum mellan åren {FIRST_YEAR} och {LAST_YEAR}.",
                )
        if start.errors or end.errors or start.data is None or end.data is None:
            return None
        if end.data < start.data:
            add_error(end, f"{end.label.text}: datumet kan inte ligga före Från-datumet.")
            return None
        return custom_period(start.data, end.data)


class YearForm(Form):
    grupp = GroupField("BUS-grupp")
    ar = StringField("År", description=f"Ett år mellan {FIRST_YEAR} och {LAST_YEAR}.")

    def __init__(self, formdata: MultiDict[str, str], *, groups: list[tuple[str, str]]) -> None:
        super().__init__(formdata)
        self.grupp.choices = groups
        if not self.grupp.data and groups:
            self.grupp.data = groups[0][0]

    def validate_ar(self, field: Field) -> None:
        text = (field.data or "").strip()
        if not (text.isdigit() and FIRST_YEAR <= int(text) <= LAST_YEAR):
            raise ValidationError(
                f"{field.label.text}: ange ett år mellan {FIRST_YEAR} och {LAST_YEAR}."
            )

    @property
    def year(self) -> int:
        return int(text(self.ar))
