"""The directory's vocabulary and the inputs that change it (SPEC §2, §9): pure, no I/O.

The admin pages and the directory file both build these inputs and hand them to
`services.directory`, which applies them with the same functions.
"""

from __future__ import annotations

from dataclasses import dataclass

from .deadlines import CALENDAR_DAYS

#: "Typ av verksamhet": code in the directory file -> what a user reads.
UNIT_TYPES: dict[str, str] = {
    "forskola": "Förskola",
    "grundskola": "Grundskola",
    "gymnasium": "Gymnasium",
    "elevhalsa": "Elevhälsa",
    "socialtjanst": "Socialtjänst",
    "lss": "LSS",
    "bup": "BUP",
    "hab": "HAB",
    "bvc": "BVC",
    "mvc": "MVC",
    "vardcentral": "Vårdcentral",
    "annan": "Annan",
}

#: "Typ av huvudman"
HUVUDMAN_TYPES: dict[str, str] = {
    "kommun": "Kommun",
    "region": "Region",
    "fristaende": "Fristående huvudman",
}
#: Spellings the directory file also accepts, stored as the code they stand for.
HUVUDMAN_TYPE_ALIASES = {"fristående": "fristaende"}

MAX_ID = 80  # the id columns' length
MAX_NAME = 200
MAX_EMAIL = 254
MIN_ANSWER_DAYS, MAX_ANSWER_DAYS = 1, 365


def huvudman_type(value: object) -> str | None:
    """The code of a huvudman type as written in the file, or None when it is unknown."""
    text = str(value) if value is not None else ""
    code = HUVUDMAN_TYPE_ALIASES.get(text, text)
    return code if code in HUVUDMAN_TYPES else None


@dataclass(frozen=True)
class PersonInput:
    name: str
    email: str


@dataclass(frozen=True)
class HuvudmanInput:
    name: str
    type: str
    active: bool = True


@dataclass(frozen=True)
class GroupInput:
    """A local BUS group; people by e-mail address, units by id."""

    name: str
    convener: str | None = None
    secretary: str | None = None
    bus_individ_convener_unit: str | None = None
    bus_individ_chair_unit: str | None = None
    answer_days: int | None = None
    answer_day_kind: str = CALENDAR_DAYS
    meetings_per_term: int = 2
    active: bool = True


@dataclass(frozen=True)
class UnitInput:
    """A unit (verksamhet); people by e-mail address, huvudman and groups by id."""

    name: str
    huvudman: str
    type: str
    bus_groups: tuple[str, ...] = ()
    chef: str | None = None
    deputies: tuple[str, ...] = ()
    active: bool = True


@dataclass(frozen=True)
class ListQuery:
    """A search in one of the admin lists: words in the name (or e-mail address), whether
    inactive rows are shown, and the page (from 1)."""

    text: str = ""
    inactive: bool = False
    page: int = 1


@dataclass(frozen=True)
class Page:
    rows: list
    total: int
    number: int
    size: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.size))

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.number < self.pages
