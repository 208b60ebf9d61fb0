"""Validators and fields shared by the standard forms; error texts name the field."""

from __future__ import annotations

from typing import Any, Protocol, TypeVar

from flask import current_app
from markupsafe import Markup, escape
from wtforms import (
    DateField,
    Field,
    Form,
    RadioField,
    SelectField,
    SelectMultipleField,
    TimeField,
    ValidationError,
    widgets,
)
from wtforms.fields.choices import SelectFieldBase
from wtforms.form import BaseForm
from wtforms.validators import StopValidation

from formservice import clock
from formservice.domain.deidentify import describe, find_personal_data
from formservice.domain.groups import NeedsChoice, choose_among

MAX_TEXT = 20_000
YES_NO = {"ja": "Ja", "nej": "Nej"}

T = TypeVar("T")


class Named(Protocol):
    """A unit (or a row of one) offered as a choice."""

    @property
    def id(self) -> str: ...

    @property
    def name(self) -> str: ...


def text(field: Field) -> str:
    """A text field's input without surrounding space ("" for none)."""
    return (field.data or "").strip()


def given(data: T | None) -> T:
    """The value of a field its validators require, once the form has validated."""
    if data is None:
        raise ValueError("a required field is empty: the form was not validated")
    return data


def add_error(field: Field, *messages: str) -> None:
    """Add messages to the field's errors (a check outside its validators)."""
    field.errors = [*field.errors, *messages]


def choice_values(field: SelectField | SelectMultipleField) -> list[Any]:
    """The values of the field's choices: a {value: label} dict where the form class declares
    them (WTForms' shorthand), (value, label) pairs where a form sets them from the database."""
    choices = field.choices or ()
    if isinstance(choices, dict):
        return list(choices)
    return [choice[0] for choice in choices]


class Required:
    """Like InputRequired, with a Swedish message that names the field."""

    field_flags = {"required": True}

    def __call__(self, form: Form, field: Field) -> None:
        if field.process_errors:
            raise StopValidation()  # the parse error already says what is wrong
        data = field.data
        empty = data is None or data == [] or (isinstance(data, str) and not data.strip())
        if empty or data is False:
            field.errors = []
            raise StopValidation(f"{field.label.text}: fyll i uppgiften.")


class RequiredIf(Required):
    """Required when another field has the given value (e.g. a date when the answer is ja)."""

    field_flags = {}

    def __init__(self, other: str, value: object) -> None:
        self.other, self.value = other, value

    def __call__(self, form: Form, field: Field) -> None:
        if form[self.other].data == self.value:
            super().__call__(form, field)


def _refuse_nul(field: Field) -> None:
    """A NUL character cannot be stored (PostgreSQL refuses it) and is never meant."""
    if "\x00" in (field.data or ""):
        raise ValidationError(f"{field.label.text}: texten innehåller ett otillåtet tecken (NUL).")


class Deidentified:
    """Refuse text with a personnummer, phone number or private e-mail address (SPEC §7)."""

    def __call__(self, form: Form, field: Field) -> None:
        _refuse_nul(field)
        text = field.data or ""
        if len(text) > MAX_TEXT:
            raise ValidationError(f"{field.label.text}: texten får ha högst {MAX_TEXT} tecken.")
        findings = find_personal_data(text, allowed_domains=allowed_email_domains())
        if findings:
            raise ValidationError(f"{field.label.text}: {describe(findings)}")


class NotInFuture:
    def __call__(self, form: Form, field: Field) -> None:
        if field.data and field.data > clock.today():
            raise ValidationError(f"{field.label.text}: datumet får inte ligga i framtiden.")


class MaxLength:
    def __init__(self, limit: int) -> None:
        self.limit = limit

    def __call__(self, form: Form, field: Field) -> None:
        _refuse_nul(field)
        if field.data and len(field.data) > self.limit:
            raise ValidationError(f"{field.label.text}: högst {self.limit} tecken.")


def allowed_email_domains() -> list[str]:
    raw = current_app.config["FORMSERVICE_ALLOWED_EMAIL_DOMAINS"]
    return [d.strip().lower() for d in raw.split(",") if d.strip()]


class OptionInput:
    """One radio button or checkbox of a choice field, with the very markup of WTForms'
    RadioInput and CheckboxInput (attributes in the same order; checked, disabled and required
    from the field), made with one f-string. WTForms' generic attribute formatter made these
    inputs a sixth of the CPU time of the deviation form page (docs/performance.md); anything
    unusual (attributes passed in, render_kw, a flag with a value) goes to WTForms' widget."""

    def __init__(self, fallback: widgets.Input) -> None:
        self.fallback = fallback
        self.input_type = fallback.input_type

    def __call__(self, field: SelectFieldBase._Option, **kwargs: Any) -> Markup:
        flags = field.flags
        required, disabled = flags.required, flags.disabled
        if kwargs or field.render_kw or required not in (None, True) or disabled is not None:
            return self.fallback(field, **kwargs)
        checked = getattr(field, "checked", field.data)
        return Markup(
            f'<input{" checked" if checked else ""} id="{escape(field.id)}" '
            f'name="{escape(field.name)}"{" required" if required else ""} '
            # An option has _value(), as every field with an input does; the stubs omit it.
            f'type="{self.input_type}" value="{escape(field._value())}">'  # type: ignore[attr-defined]
        )


class CheckboxesField(SelectMultipleField):
    """Several choices as checkboxes, so the form works without JavaScript."""

    widget = widgets.ListWidget(prefix_label=False)
    option_widget = OptionInput(widgets.CheckboxInput())

    def pre_validate(self, form: BaseForm) -> None:
        values = set(choice_values(self))
        for value in self.data or []:
            if value not in values:
                raise ValidationError(f"{self.label.text}: ogiltigt val.")


class _ParsedInput(Field):
    """Empty input is no value; input that does not parse gets `parse_error`, in Swedish and
    naming the field."""

    def parse_error(self) -> str:
        raise NotImplementedError

    def process_formdata(self, valuelist: list) -> None:
        if not "".join(valuelist or []).strip():
            self.data = None
            return
        try:
            super().process_formdata(valuelist)
        except ValueError as exc:
            raise ValueError(self.parse_error()) from exc


class DatumField(_ParsedInput, DateField):
    """A date (ÅÅÅÅ-MM-DD)."""

    def parse_error(self) -> str:
        return f"{self.label.text}: ange ett datum som ÅÅÅÅ-MM-DD."


class ChoiceField(SelectField):
    """A select whose invalid-choice error is Swedish and names the field."""

    def pre_validate(self, form: BaseForm) -> None:
        if self.data not in choice_values(self):
            raise ValidationError(f"{self.label.text}: välj ett av alternativen.")


class RadioChoiceField(RadioField):
    option_widget = OptionInput(widgets.RadioInput())

    def pre_validate(self, form: BaseForm) -> None:
        if self.data is not None and self.data not in choice_values(self):
            raise ValidationError(f"{self.label.text}: välj ett av alternativen.")


class TidField(_ParsedInput, TimeField):
    """A time of day (TT:MM)."""

    def parse_error(self) -> str:
        return f"{self.label.text}: ange en tid som TT:MM, till exempel 09:30."


class BusGroupField(ChoiceField):
    """The local BUS group ("BUS-grupp") of a case whose units serve several (SPEC §2).

    The view offers the groups the units allow (`offer`) where it needs them: for the page,
    and to `check` a form that failed validation anyway, so every error shows at once. A valid
    form is not looked up twice: the service decides the group and refuses a missing or
    impossible choice (`domain.groups`). The page shows the field only when there is more
    than one group, or an error. `case` names what is filed ("rapporten") in the errors."""

    def __init__(
        self,
        label: str = "BUS-grupp",
        validators: list[Any] | None = None,
        *,
        case: str,
        **kwargs: Any,
    ) -> None:
        super().__init__(label, validators, default="", **kwargs)
        self.case = case
        self.offer([])

    def offer(self, possible: list[tuple[str, str]], *, certain: bool = True) -> None:
        """The possible groups as (id, name); `certain`: the units are known, so several
        groups mean the choice is required (else it may be made in advance)."""
        self.possible = list(possible)
        self.choices = [("", "Välj BUS-grupp"), *self.possible]
        self.flags.required = certain and len(self.possible) > 1

    @property
    def shown(self) -> bool:
        return len(self.possible) > 1 or bool(self.errors)

    def pre_validate(self, form: BaseForm) -> None:
        """Nothing here: see the class."""

    def check(self) -> None:
        """Add the error when the choice does not fit the offered groups."""
        result = choose_among({value for value, _ in self.possible}, self.data or None)
        if isinstance(result, NeedsChoice):
            self.refuse(result)

    def refuse(self, needs: NeedsChoice) -> None:
        """Add the Swedish error for a missing or impossible choice (from `check`, or from
        the service's `GroupNotChosen` once the groups are offered again)."""
        self.flags.required = len(self.possible) > 1
        self.errors = [*self.errors, self._problem(needs)]

    def _problem(self, needs: NeedsChoice) -> str:
        label = self.label.text
        if needs.refused is None:
            return f"{label}: välj vilken BUS-grupp {self.case} gäller."
        if len(self.possible) == 1:
            name = self.possible[0][1]
            return f"{label}: {self.case} kan bara gälla {name}. Välj den eller lämna fältet tomt."
        if not self.possible:
            return f"{label}: {self.case} hör inte till någon BUS-grupp. Lämna fältet tomt."
        return f"{label}: välj en av BUS-grupperna i listan."


def selected(field: SelectField) -> str | None:
    """What a select shows as chosen: its value when that is one of the choices, the first
    choice while it has no value (a new form), else None."""
    values = choice_values(field)
    if field.data is None:
        return values[0] if values else None
    return field.data if field.data in values else None
