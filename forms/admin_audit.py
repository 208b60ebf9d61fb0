"""The administrator's two readers of what the service holds: "Granskningslogg" (a plain GET
form: it changes nothing but the log of its own reading) and "Registerutdrag" (POST forms:
a child's personnummer or name never goes into an address, where logs and history keep it).
Every error names its field in Swedish."""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from wtforms import Field, Form, HiddenField, StringField, ValidationError
from wtforms.form import BaseForm

from formservice.domain.audit import (
    EVENT_GROUPS,
    EVENT_LABELS,
    OTHER_EVENTS,
    READS_CHOICE,
    RECORD_TYPES,
    ExtractQuery,
    InvalidPersonnummer,
    LogFilter,
    normal_case_number,
    personnummer_forms,
)

from .fields import ChoiceField, DatumField, MaxLength, add_error

MAX_ID = 2**31 - 1
ALL_EVENTS = "Alla händelser"
ALL_READS = "Alla visningar och nedladdningar"


def event_choices(asked: str | None = None) -> dict[str, list[tuple[str, str]]]:
    """The "Händelse" list in groups (optgroups): everything, every view and download, then
    each event by area; an asked-for code that no label knows (yet) last, as itself."""
    groups: dict[str, list[tuple[str, str]]] = {
        "Urval": [("", ALL_EVENTS), (READS_CHOICE, ALL_READS)]
    }
    for group, codes in EVENT_GROUPS.items():
        groups[group] = list(codes.items())
    code = (asked or "").strip()
    if code and code != READS_CHOICE and code not in EVENT_LABELS and _looks_like_code(code):
        groups[OTHER_EVENTS] = [(code, code)]
    return groups


def _looks_like_code(text: str) -> bool:
    """An event code: lower-case letters, digits, "_" and "." (at most 60, as stored)."""
    return len(text) <= 60 and all(c.isascii() and (c.isalnum() or c in "._") for c in text)


class GroupedChoiceField(ChoiceField):
    """A select with option groups; an invalid choice's error names the field."""

    def pre_validate(self, form: BaseForm) -> None:
        # WTForms 3.3 yields Choice objects; types-WTForms (3.2) still says tuples.
        if self.data not in {choice.value for choice in self.iter_choices()}:  # type: ignore[attr-defined]
            raise ValidationError(f"{self.label.text}: välj ett av alternativen.")


class AuditLogForm(Form):
    person = StringField(
        "Person",
        description="E-postadress eller namn på den som gjorde något, helt eller en del.",
        validators=[MaxLength(254)],
    )
    arende = StringField(
        "Ärendenummer",
        description="En avvikelses ärendenummer, till exempel BUS-2026-0001.",
        validators=[MaxLength(40)],
    )
    journal = ChoiceField(
        "Typ av journal",
        choices={"": "Alla", **RECORD_TYPES},
        description="SIP-möte eller BUS-individ: välj typ och ange numret för att se vilka "
        "som har sett ett barns journal.",
    )
    nummer = StringField(
        "Journalens nummer",
        description="Numret som Registerutdrag visar, det som står i journalens adress "
        "(12 i /sip/12).",
        validators=[MaxLength(12)],
    )
    handelse = GroupedChoiceField("Händelse")
    fran = DatumField("Från", description="ÅÅÅÅ-MM-DD")
    till = DatumField("Till", description="ÅÅÅÅ-MM-DD")

    def __init__(self, formdata: Any) -> None:
        super().__init__(formdata)
        self.handelse.choices = event_choices(formdata.get("handelse"))
        self.handelse.data = self.handelse.data or ""
        self.journal.data = self.journal.data or ""

    def validate_arende(self, field: Field) -> None:
        if (field.data or "").strip() and normal_case_number(field.data) is None:
            raise ValidationError(f"{field.label.text}: ange ett ärendenummer som BUS-2026-0001.")

    def validate_nummer(self, field: Field) -> None:
        text = (field.data or "").strip()
        if not text:
            return
        if not (text.isdigit() and 0 < int(text) <= MAX_ID):
            raise ValidationError(f"{field.label.text}: ange ett heltal, till exempel 12.")
        if not self.journal.data:
            raise ValidationError(
                f"{field.label.text}: välj också Typ av journal (SIP-möte eller BUS-individ)."
            )

    def validate_till(self, field: Field) -> None:
        if field.data and self.fran.data and field.data < self.fran.data:
            raise ValidationError(f"{field.label.text}: datumet kan inte ligga före Från-datumet.")

    def to_filter(self) -> LogFilter:
        number = (self.nummer.data or "").strip()
        return LogFilter(
            person=(self.person.data or "").strip(),
            case_number=normal_case_number(self.arende.data or "") or "",
            record_type=self.journal.data or "",
            record_id=int(number) if number else None,
            action=self.handelse.data or "",
            start=self.fran.data,
            end=self.till.data,
        )

    def query_args(self) -> dict[str, str]:
        """The search as query-string arguments (for the pages and the CSV link)."""
        values = {
            "person": (self.person.data or "").strip(),
            "arende": (self.arende.data or "").strip(),
            "journal": self.journal.data or "",
            "nummer": (self.nummer.data or "").strip(),
            "handelse": self.handelse.data or "",
            "fran": self.fran.data.isoformat() if self.fran.data else "",
            "till": self.till.data.isoformat() if self.till.data else "",
        }
        return {key: value for key, value in values.items() if value}


# --- Registerutdrag -------------------------------------------------------------------------

PERSONNUMMER_ERROR = (
    "{label}: ange ett giltigt personnummer eller samordningsnummer med 10 eller 12 siffror "
    "(ÅÅÅÅMMDD-NNNN eller ÅÅMMDD-NNNN)."
)
NAME_MIN = 2


class _ChildFields:
    """The search's two fields and their checks, shared by the search and the download."""

    personnummer: Field
    namn: Field

    def validate_personnummer(self, field: Field) -> None:
        if not (field.data or "").strip():
            if not (self.namn.data or "").strip():
                raise ValidationError(
                    f"{field.label.text}: fyll i barnets personnummer eller namn."
                )
            return
        try:
            personnummer_forms(field.data)
        except InvalidPersonnummer:
            raise ValidationError(PERSONNUMMER_ERROR.format(label=field.label.text)) from None

    def validate_namn(self, field: Field) -> None:
        text = (field.data or "").strip()
        if text and len(text) < NAME_MIN:
            raise ValidationError(f"{field.label.text}: skriv minst {NAME_MIN} tecken.")

    def to_query(self) -> ExtractQuery:
        number = (self.personnummer.data or "").strip()
        return ExtractQuery(
            personnummer_forms=personnummer_forms(number) if number else (),
            name=(self.namn.data or "").strip(),
        )


class ExtractSearchForm(_ChildFields, FlaskForm):
    personnummer = StringField(
        "Barnets personnummer",
        description="10 eller 12 siffror, med eller utan bindestreck. Samordningsnummer går "
        "också bra.",
        validators=[MaxLength(20)],
    )
    namn = StringField(
        "Barnets namn",
        description="Hela namnet eller en del av det.",
        validators=[MaxLength(200)],
    )


class IdListField(Field):
    """Checkboxes with record ids as values (rendered by the template): the chosen ids."""

    def process_data(self, value: Any) -> None:
        self.data = set(value or ())

    def process_formdata(self, valuelist: list[str]) -> None:
        ids = set()
        for value in valuelist:
            text = value.strip()
            if not (text.isdigit() and 0 < int(text) <= MAX_ID):
                self.data = set()
                raise ValueError(f"{self.label.text}: välj bland journalerna i listan.")
            ids.add(int(text))
        self.data = ids


class ExtractForm(_ChildFields, FlaskForm):
    """The download: the search again (hidden), the chosen records and the format."""

    personnummer = HiddenField("Barnets personnummer", validators=[MaxLength(20)])
    namn = HiddenField("Barnets namn", validators=[MaxLength(200)])
    sip = IdListField("Journaler som gäller barnet")
    bus_individ = IdListField("Journaler som gäller barnet")
    format = ChoiceField(
        "Format", choices={"docx": "Word-dokument", "json": "JSON"}, default="docx"
    )

    def validate(self, extra_validators: Any = None) -> bool:
        valid = super().validate(extra_validators)
        refused = self.sip.errors or self.bus_individ.errors
        if not refused and not self.sip.data and not self.bus_individ.data:
            add_error(self.sip, f"{self.sip.label.text}: välj minst en journal.")
            return False
        return valid
