"""The long lists' filters: plain GET forms (no CSRF: they change nothing), their values kept
in the URL. A value that does not parse is left out of the filter and its error names the
field in Swedish."""

from __future__ import annotations

from datetime import date
from typing import Any

from werkzeug.datastructures import MultiDict
from wtforms import BooleanField, Form, StringField, ValidationError

from formservice.domain.deviation import STATE_LABELS
from formservice.domain.lists import (
    DEFAULT_SORT,
    FIRST_CASE_YEAR,
    DeviationFilter,
    RecordFilter,
    case_numbers,
)
from formservice.domain.sip import STATE_LABELS as SIP_STATE_LABELS

from .fields import ChoiceField, DatumField

ALL = ("", "Alla")
CASE_NUMBER_MAX = 20
DEVIATION_SORT_LABELS = {
    "skickad-fallande": "Senast skickad först",
    "skickad-stigande": "Först skickad först",
    "arende-stigande": "Ärendenummer, stigande",
    "arende-fallande": "Ärendenummer, fallande",
    "svarsfrist-stigande": "Svarsfrist, närmast först",
    "svarsfrist-fallande": "Svarsfrist, senast först",
}
DATE_SORT_LABELS = {"datum-fallande": "Senaste först", "datum-stigande": "Äldsta först"}
BUS_INDIVID_STATES = {"utkast": "Utkast", "genomford": "Genomfört"}


class _ListForm(Form):
    """Shared: the period (from–to) and the sort; `filters()` gives what parsed."""

    fran = DatumField("Från")
    till = DatumField("Till")

    def __init__(self, formdata: MultiDict, **choices: list[tuple[str, str]]) -> None:
        super().__init__(formdata)
        for name, values in choices.items():
            getattr(self, name).choices = values
        self.valid = self.validate()
        start, end = self.fran.data, self.till.data
        if not self.till.errors and start and end and end < start:
            self.till.errors = [f"{self.till.label.text}: datumet kan inte ligga före Från."]
            self.valid = False

    def value(self, name: str) -> Any:
        """The field's value, or nothing when it did not parse (the filter is left out)."""
        field = getattr(self, name)
        if field.errors:
            return None
        data = field.data
        return data.strip() if isinstance(data, str) else data

    def period(self) -> tuple[date | None, date | None]:
        return self.value("fran"), self.value("till")

    def query_args(self) -> dict[str, Any]:  # url_for's values
        """The filters that are set, as the URL carries them (for the page links)."""
        args = {}
        for field in self:
            raw = field.raw_data[0] if field.raw_data else ""
            if isinstance(field, BooleanField):
                raw = "j" if field.data else ""
            if raw.strip():
                args[field.name] = raw.strip()
        return args


class DeviationFilterForm(_ListForm):
    arende = StringField(
        "Sök ärendenummer", description="Hela numret (BUS-2026-0042) eller bara numret (42)."
    )
    status = ChoiceField("Status")
    verksamhet = ChoiceField("Verksamhet", description="Rapporterande eller mottagande.")
    grupp = ChoiceField("BUS-grupp")
    kategori = ChoiceField("Kategori")
    obesvarade = BooleanField("Endast obesvarade", description="Obesvarade efter svarsfristen.")
    sortera = ChoiceField("Sortera")

    def __init__(
        self,
        formdata: MultiDict,
        *,
        units: list[tuple[str, str]],
        groups: list[tuple[str, str]],
        categories: list[tuple[str, str]],
    ) -> None:
        super().__init__(
            formdata,
            status=[ALL, *STATE_LABELS.items()],
            verksamhet=[ALL, *units],
            grupp=[ALL, *groups],
            kategori=[ALL, *categories],
            sortera=list(DEVIATION_SORT_LABELS.items()),
        )

    def process(self, *args: Any, **kwargs: Any) -> None:
        super().process(*args, **kwargs)
        self.sortera.data = self.sortera.data or "skickad-fallande"
        for name in ("status", "verksamhet", "grupp", "kategori"):
            getattr(self, name).data = getattr(self, name).data or ""

    def to_filter(self) -> DeviationFilter:
        """What parsed, as the list's filter (a value with an error is left out)."""
        start, end = self.period()
        return DeviationFilter(
            case_number=self.value("arende") or "",
            state=self.value("status") or "",
            unit_id=self.value("verksamhet") or "",
            group_id=self.value("grupp") or "",
            sent_from=start,
            sent_to=end,
            category=self.value("kategori") or "",
            unanswered=bool(self.value("obesvarade")),
            sort=self.value("sortera") or DEFAULT_SORT,
        )

    def validate_arende(self, field: StringField) -> None:
        text = (field.data or "").strip()
        if text and (len(text) > CASE_NUMBER_MAX or case_numbers(text, FIRST_CASE_YEAR) is None):
            raise ValidationError(
                f"{field.label.text}: skriv ett ärendenummer som BUS-2026-0042, "
                "2026-42 eller bara numret (42)."
            )


class RecordFilterForm(_ListForm):
    """The SIP and BUS-individ lists: status, the meeting's period, the unit, the order."""

    status = ChoiceField("Status")
    verksamhet = ChoiceField("Verksamhet")
    sortera = ChoiceField("Sortera")

    def __init__(
        self, formdata: MultiDict, *, states: dict[str, str], units: list[tuple[str, str]]
    ) -> None:
        super().__init__(
            formdata,
            status=[ALL, *states.items()],
            verksamhet=[ALL, *units],
            sortera=list(DATE_SORT_LABELS.items()),
        )

    def process(self, *args: Any, **kwargs: Any) -> None:
        super().process(*args, **kwargs)
        self.sortera.data = self.sortera.data or "datum-fallande"
        self.status.data = self.status.data or ""
        self.verksamhet.data = self.verksamhet.data or ""

    def to_filter(self) -> RecordFilter:
        start, end = self.period()
        return RecordFilter(
            state=self.value("status") or "",
            unit_id=self.value("verksamhet") or "",
            date_from=start,
            date_to=end,
            sort=self.value("sortera") or "datum-fallande",
        )


class PeriodFilterForm(_ListForm):
    """A steering group's meetings: the period and the order."""

    sortera = ChoiceField("Sortera")

    def __init__(self, formdata: MultiDict) -> None:
        super().__init__(formdata, sortera=list(DATE_SORT_LABELS.items()))

    def process(self, *args: Any, **kwargs: Any) -> None:
        super().process(*args, **kwargs)
        self.sortera.data = self.sortera.data or "datum-fallande"

    def to_filter(self) -> RecordFilter:
        start, end = self.period()
        return RecordFilter(date_from=start, date_to=end, sort=self.value("sortera") or "")


SIP_STATES = dict(SIP_STATE_LABELS)


class GroupFilterForm(Form):
    """The steering group's page for a reader of several groups: one group, or all."""

    grupp = ChoiceField("BUS-grupp")

    def __init__(self, formdata: MultiDict, *, groups: list[tuple[str, str]]) -> None:
        super().__init__(formdata)
        self.grupp.choices = [("", "Alla mina grupper"), *groups]
        self.grupp.data = self.grupp.data or ""
        self.valid = self.validate()

    def group_id(self) -> str:
        return "" if self.grupp.errors else (self.grupp.data or "")
