"""The long lists' filters and sort orders, as codes (the URL's values): pure, no database."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from datetime import date, datetime

from .deviation import format_case_number

FIRST_CASE_YEAR = 2000
_FULL = re.compile(r"(?:BUS-?)?(\d{4})-(\d{1,9})")
_NUMBER = re.compile(r"\d{1,9}")

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


def case_numbers(text: str, this_year: int) -> list[str] | None:
    """What "Sök ärendenummer" finds, as whole case numbers (looked up in the unique index,
    never a scan): "BUS-2026-0042", "2026-42" -> that case; "42" -> case 42 of every year
    from FIRST_CASE_YEAR; None when the text is neither."""
    text = text.strip().upper()
    if full := _FULL.fullmatch(text):
        return [format_case_number(int(full.group(1)), int(full.group(2)))]
    if _NUMBER.fullmatch(text):
        years = range(FIRST_CASE_YEAR, this_year + 2)
        return [format_case_number(year, int(text)) for year in years]
    return None


# --- keyset cursors -----------------------------------------------------------------------

#: The sort columns' kinds, for reading a cursor back from the URL.
SORT_KINDS = {
    "sent_at": "datetime",
    "deadline": "date",
    "case_number": "str",
    "meeting_at": "datetime",
    "meeting_date": "date",
    "name": "str",
}

Position = tuple[object, int]


def format_cursor(value: object, row_id: int) -> str:
    """The last row of a page as the next page's `efter`: its sort value and its id."""
    text = "" if value is None else value.isoformat() if hasattr(value, "isoformat") else value
    return f"{text}~{row_id}"


def parse_cursor(text: str | None, kind: str) -> Position | None:
    """`efter` back as (sort value, id); None for anything that is not one (then the page
    number decides, as without a cursor)."""
    value, sep, row_id = (text or "").strip().rpartition("~")
    if not sep or not row_id.isdigit() or len(row_id) > 12 or len(value) > 40:
        return None
    if value == "":
        return None, int(row_id)
    try:
        if kind == "datetime":
            moment = datetime.fromisoformat(value)
            return (moment, int(row_id)) if moment.tzinfo else None
        if kind == "date":
            return date.fromisoformat(value), int(row_id)
    except ValueError:
        return None
    return value, int(row_id)
