"""The long lists' filters and sort orders, as codes (the URL's values): pure, no database."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date

#: Sort codes (the URL's `sortera`) -> (column name, descending).
DEVIATION_SORTS: dict[str, tuple[str, bool]] = {
    "skickad-fallande": ("sent_at", True),
    "skickad-stigande": ("sent_at", False),
    "arende-stigande": ("case_number", False),
    "arende-fallande": ("case_number", True),
    "svarsfrist-stigande": ("deadline", False),
    "svarsfrist-fallande": ("deadline", True),
}
DEFAULT_SORT = "skickad-fallande"
DATE_SORTS: dict[str, bool] = {"datum-fallande": True, "datum-stigande": False}


@dataclass(frozen=True)
class DeviationFilter:
    """The deviation list's filters, as codes (empty: not filtered)."""

    case_number: str = ""
    state: str = ""
    unit_id: str = ""
    group_id: str = ""
    sent_from: date | None = None
    sent_to: date | None = None
    category: str = ""
    unanswered: bool = False
    sort: str = DEFAULT_SORT

    def as_detail(self) -> dict[str, str]:
        """The filters that are set, for the audit event of an export (codes and dates)."""
        return {k: str(v) for k, v in asdict(self).items() if v not in ("", None, False)}


@dataclass(frozen=True)
class RecordFilter:
    """The SIP and BUS-individ lists' filters: status, the meeting's period, a unit."""

    state: str = ""
    unit_id: str = ""
    date_from: date | None = None
    date_to: date | None = None
    sort: str = "datum-fallande"
