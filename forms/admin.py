"""The administrator's forms ("Administration"): the directory, the deviation form's
categories and the directory file. Every label here is what the pages show, and what the
directory's changes are called in the preview of a directory file."""

from __future__ import annotations

from typing import Any

import yaml
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    Field,
    Form,
    HiddenField,
    IntegerField,
    StringField,
    SubmitField,
    TextAreaField,
    ValidationError,
)
from wtforms.validators import Optional, StopValidation

from formservice.domain.deadlines import CALENDAR_DAYS, DAY_KINDS
from formservice.domain.directory import (
    HUVUDMAN_TYPES,
    MAX_ANSWER_DAYS,
    MAX_EMAIL,
    MAX_NAME,
    MIN_ANSWER_DAYS,
    UNIT_TYPES,
    GroupInput,
    HuvudmanInput,
    ListQuery,
    PersonInput,
    UnitInput,
)
from formservice.domain.meetings import MAX_MEETINGS_PER_TERM, MEETINGS_PER_HALF

from .fields import CheckboxesField, ChoiceField, MaxLength, RadioChoiceField, Required, given

#: The fields of each kind of row, by the names the directory file and the services use.
LABELS: dict[str, dict[str, str]] = {
    "huvudman": {"name": "Namn", "type": "Typ av huvudman", "active": "Aktiv"},
    "bus_group": {
        "name": "Namn",
        "convener": "Sammankallande",
        "secretary": "Sekreterare",
        "answer_days": "Svarstid i dagar",
        "answer_day_kind": "Svarstid räknas i",
        "bus_individ_convener_unit": "Sammankallande verksamhet för BUS-individ",
        "bus_individ_chair_unit": "Ordförande verksamhet för BUS-individ",
        "meetings_per_term": "Möten per termin",
        "active": "Aktiv",
    },
    "unit": {
        "name": "Namn",
        "huvudman": "Huvudman",
        "type": "Typ av verksamhet",
        "bus_groups": "BUS-grupper",
        "chef": "Ansvarig chef",
        "deputies": "Ersättare",
        "active": "Aktiv",
    },
    "user": {
        "name": "Namn",
        "email": "E-postadress",
        "secretariat": "BUS-sekretariatet",
        "admins": "Systemförvaltare",
    },
}
#: What each kind of row is called in the preview of a directory file.
ENTITIES = {
    "huvudman": "Huvudman",
    "bus_group": "BUS-grupp",
    "unit": "Verksamhet",
    "user": "Person",
}
MAX_FILE_BYTES = 1024 * 1024  # a county's directory is a few hundred kB
PERSON_HINT = "E-postadressen till en person under Personer."


def refuse(form: Form, field_name: str | None, message: str) -> bool:
    """Show a service's refusal on the field it names ("Label: message"); False when the
    form has no such field (the caller shows the message another way)."""
    if field_name is None or field_name not in form:
        return False
    field = form[field_name]
    field.errors = [*field.errors, f"{field.label.text}: {message}"]
    return True


class WholeNumberField(IntegerField):
    """A whole number; the parse error is Swedish and names the field."""

    def process_formdata(self, valuelist: list) -> None:
        text = "".join(valuelist or []).strip()
        if not text:
            self.data = None
            return
        try:
            self.data = int(text)
        except ValueError as exc:
            self.data = None
            raise ValueError(f"{self.label.text}: ange ett heltal.") from exc


class Between:
    def __init__(self, low: int, high: int) -> None:
        self.low, self.high = low, high

    def __call__(self, form: Form, field: Field) -> None:
        if field.data is not None and not self.low <= field.data <= self.high:
            raise ValidationError(
                f"{field.label.text}: ange ett tal från {self.low} till {self.high}."
            )


def _addresses(text: str | None) -> tuple[str, ...]:
    """E-mail addresses, one a line (blank lines skipped)."""
    return tuple(line.strip() for line in (text or "").splitlines() if line.strip())


class SearchForm(Form):
    """The search above a list (a GET form: no CSRF, it changes nothing)."""

    q = StringField("Sök", validators=[Optional(), MaxLength(200)])
    inaktiva = BooleanField("Visa även inaktiva")

    def to_query(self, page: str | None) -> ListQuery:
        number = int(page) if page and page.isdigit() and len(page) < 7 else 1
        text = (self.q.data or "")[:200]
        return ListQuery(text=text, inactive=bool(self.inaktiva.data), page=number)


class ConfirmForm(FlaskForm):
    """A button that changes something (CSRF only)."""


_H = LABELS["huvudman"]


class HuvudmanForm(FlaskForm):
    name = StringField(_H["name"], validators=[Required(), MaxLength(MAX_NAME)])
    type = RadioChoiceField(_H["type"], choices=HUVUDMAN_TYPES, validators=[Required()])
    active = BooleanField(_H["active"], default=True)
    submit = SubmitField("Spara")

    def load(self, data: HuvudmanInput) -> None:
        self.name.data, self.type.data, self.active.data = data.name, data.type, data.active

    def to_input(self) -> HuvudmanInput:
        return HuvudmanInput(
            name=given(self.name.data), type=self.type.data, active=self.active.data
        )


_G = LABELS["bus_group"]


class GroupForm(FlaskForm):
    name = StringField(_G["name"], validators=[Required(), MaxLength(MAX_NAME)])
    convener = StringField(
        _G["convener"],
        validators=[Optional(), MaxLength(MAX_EMAIL)],
        description=PERSON_HINT,
        render_kw={"list": "personer", "autocomplete": "off"},
    )
    secretary = StringField(
        _G["secretary"],
        validators=[Optional(), MaxLength(MAX_EMAIL)],
        description=PERSON_HINT,
        render_kw={"list": "personer", "autocomplete": "off"},
    )
    answer_days = WholeNumberField(
        _G["answer_days"],
        validators=[Optional(), Between(MIN_ANSWER_DAYS, MAX_ANSWER_DAYS)],
        render_kw={"inputmode": "numeric"},
    )
    answer_day_kind = RadioChoiceField(
        _G["answer_day_kind"],
        choices=DAY_KINDS,
        default=CALENDAR_DAYS,
        description="Arbetsdagar räknar inte lördagar, söndagar och helgdagar "
        "(midsommarafton, julafton och nyårsafton räknas som helgdagar).",
    )
    bus_individ_convener_unit = ChoiceField(
        _G["bus_individ_convener_unit"],
        default="",
        description="Verksamheten som kallar till BUS-individ i gruppen.",
    )
    bus_individ_chair_unit = ChoiceField(
        _G["bus_individ_chair_unit"],
        default="",
        description="Verksamheten som är ordförande vid BUS-individ i gruppen.",
    )
    meetings_per_term = WholeNumberField(
        _G["meetings_per_term"],
        default=MEETINGS_PER_HALF,
        validators=[Required(), Between(1, MAX_MEETINGS_PER_TERM)],
        description="Styrgruppens listor föreslår mötesdatum efter detta.",
        render_kw={"inputmode": "numeric"},
    )
    active = BooleanField(_G["active"], default=True)
    submit = SubmitField("Spara")

    def __init__(
        self, *args: Any, units: list[tuple[str, str]], default_days: int, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        options = [("", "Ingen vald"), *units]
        self.bus_individ_convener_unit.choices = options
        self.bus_individ_chair_unit.choices = list(options)
        self.answer_days.description = (
            f"Dagar som mottagande verksamhet har på sig att svara. Lämna tomt för "
            f"tjänstens standard, {default_days} dagar."
        )

    def load(self, data: GroupInput) -> None:
        self.name.data = data.name
        self.convener.data, self.secretary.data = data.convener, data.secretary
        self.answer_days.data = data.answer_days
        self.answer_day_kind.data = data.answer_day_kind
        self.bus_individ_convener_unit.data = data.bus_individ_convener_unit or ""
        self.bus_individ_chair_unit.data = data.bus_individ_chair_unit or ""
        self.meetings_per_term.data = data.meetings_per_term
        self.active.data = data.active

    def to_input(self) -> GroupInput:
        return GroupInput(
            name=given(self.name.data),
            convener=(self.convener.data or "").strip() or None,
            secretary=(self.secretary.data or "").strip() or None,
            bus_individ_convener_unit=self.bus_individ_convener_unit.data or None,
            bus_individ_chair_unit=self.bus_individ_chair_unit.data or None,
            answer_days=self.answer_days.data,
            answer_day_kind=self.answer_day_kind.data,
            meetings_per_term=given(self.meetings_per_term.data),
            active=self.active.data,
        )


_U = LABELS["unit"]


class UnitForm(FlaskForm):
    name = StringField(_U["name"], validators=[Required(), MaxLength(MAX_NAME)])
    huvudman = ChoiceField(_U["huvudman"], default="", validators=[Required()])
    type = ChoiceField(_U["type"], default="", validators=[Required()])
    bus_groups = CheckboxesField(_U["bus_groups"], default=[])
    chef = StringField(
        _U["chef"],
        validators=[Optional(), MaxLength(MAX_EMAIL)],
        description=PERSON_HINT,
        render_kw={"list": "personer", "autocomplete": "off"},
    )
    deputies = TextAreaField(
        _U["deputies"],
        validators=[Optional(), MaxLength(20 * MAX_EMAIL)],
        description="E-postadresser till personer under Personer, en per rad.",
        render_kw={"rows": 3},
    )
    active = BooleanField(
        _U["active"],
        default=True,
        description="En inaktiv verksamhet finns kvar i historiken men får inga nya ärenden.",
    )
    submit = SubmitField("Spara")

    def __init__(
        self,
        *args: Any,
        huvudman: list[tuple[str, str]],
        groups: list[tuple[str, str]],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.huvudman.choices = [("", "Välj huvudman"), *huvudman]
        self.type.choices = [("", "Välj typ"), *UNIT_TYPES.items()]
        self.bus_groups.choices = groups

    def load(self, data: UnitInput) -> None:
        self.name.data, self.huvudman.data, self.type.data = data.name, data.huvudman, data.type
        self.bus_groups.data = list(data.bus_groups)
        self.chef.data = data.chef
        self.deputies.data = "\n".join(data.deputies)
        self.active.data = data.active

    def to_input(self) -> UnitInput:
        return UnitInput(
            name=given(self.name.data),
            huvudman=self.huvudman.data,
            type=self.type.data,
            bus_groups=tuple(self.bus_groups.data or []),
            chef=(self.chef.data or "").strip() or None,
            deputies=_addresses(self.deputies.data),
            active=self.active.data,
        )


_P = LABELS["user"]


class PersonForm(FlaskForm):
    name = StringField(
        _P["name"], validators=[Required(), MaxLength(MAX_NAME)], render_kw={"autocomplete": "off"}
    )
    email = StringField(
        _P["email"],
        validators=[Required(), MaxLength(MAX_EMAIL)],
        render_kw={"autocomplete": "off"},
    )
    submit = SubmitField("Spara")

    def to_input(self) -> PersonInput:
        return PersonInput(name=given(self.name.data), email=given(self.email.data))


class NewPersonForm(PersonForm):
    invite = BooleanField(
        "Skicka inbjudan nu",
        default=True,
        description="Personen får en länk för att välja lösenord.",
    )


class CategoryAddForm(FlaskForm):
    label = StringField("Ny kategori", validators=[Required(), MaxLength(200)])
    submit = SubmitField("Lägg till")


class CategoryRenameForm(FlaskForm):
    label = StringField("Nytt namn", validators=[Required(), MaxLength(200)])
    submit = SubmitField("Byt namn")

    def __init__(self, *args: Any, current: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.label.label.text = f"Nytt namn för {current}"


def check_new_label(field: Field, labels: list[str], own: str | None = None) -> bool:
    """A category's label must differ from the other categories' on the form; adds the
    field's error and answers False when it does not."""
    label = (field.data or "").strip()
    if any(label.casefold() == other.casefold() for other in labels if other != own):
        field.errors = [
            *field.errors,
            f"{field.label.text}: det finns redan en kategori som heter {label}.",
        ]
        return False
    return True


class FileChosen:
    field_flags = {"required": True}

    def __call__(self, form: Form, field: Field) -> None:
        if not field.data:
            field.errors = []
            raise StopValidation(f"{field.label.text}: välj en fil.")


class CatalogUploadForm(FlaskForm):
    file = FileField(
        "Katalogfil",
        validators=[FileChosen()],
        description="En YAML-fil i katalogformatet, till exempel en nedladdad och ändrad katalog.",
    )
    submit = SubmitField("Visa ändringar")

    parsed: object = None
    text: str = ""

    def validate_file(self, field: Field) -> None:
        data = field.data.read(MAX_FILE_BYTES + 1)
        if len(data) > MAX_FILE_BYTES:
            raise ValidationError(f"{field.label.text}: filen får vara högst 1 MB.")
        try:
            self.text = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise ValidationError(
                f"{field.label.text}: filen ska vara en textfil i UTF-8."
            ) from exc
        self.parsed = parse_yaml(self.text, field.label.text)


def parse_yaml(text: str, label: str) -> object:
    """The directory file parsed (safe_load), or a Swedish error naming the line."""
    if "\x00" in text:
        raise ValidationError(f"{label}: filen innehåller ett otillåtet tecken (NUL).")
    try:
        return yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.context_mark or exc.problem_mark  # where the broken part begins
        line = mark.line + 1 if mark else None
        where = f" (fel på rad {line})" if line else ""
        raise ValidationError(f"{label}: filen kan inte läsas som YAML{where}.") from exc
    except yaml.YAMLError as exc:
        raise ValidationError(f"{label}: filen kan inte läsas som YAML.") from exc


class CatalogApplyForm(FlaskForm):
    token = HiddenField(validators=[Required()])
    submit = SubmitField("Genomför")
