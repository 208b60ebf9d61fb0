"""States, transitions and the fixed vocabularies of the deviation routine (SPEC §3)."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence

UTKAST = "utkast"
SKICKAD = "skickad"
BESVARAD = "besvarad"
BEHANDLAD = "behandlad"
AVSLUTAD = "avslutad"
ATERKALLAD = "återkallad"

STATE_LABELS = {
    UTKAST: "Utkast",
    SKICKAD: "Skickad",
    BESVARAD: "Besvarad",
    BEHANDLAD: "Behandlad",
    AVSLUTAD: "Avslutad",
    ATERKALLAD: "Återkallad",
}

#: event -> (states it may happen in, state it leads to)
TRANSITIONS: dict[str, tuple[frozenset[str], str]] = {
    "send": (frozenset({UTKAST}), SKICKAD),
    "forward": (frozenset({SKICKAD}), SKICKAD),
    "answer": (frozenset({SKICKAD}), BESVARAD),
    "withdraw": (frozenset({UTKAST, SKICKAD}), ATERKALLAD),
    "put_on_agenda": (frozenset({SKICKAD, BESVARAD}), BEHANDLAD),
    "close": (frozenset({SKICKAD, BESVARAD, BEHANDLAD}), AVSLUTAD),
}

#: The categories of "Avvikelsen avser" on version 1 of the form (SPEC §3): (code, label).
#: Reports store the codes; the labels of each version of the form are rows of the
#: `form_versions` table (services.categories), so a renamed or retired category still shows
#: as it was filed. A code is never reused for another category.
DEFAULT_CATEGORIES = (
    ("overenskommelsen-foljs-inte", "Överenskommelsen följs inte"),
    ("kallad-part-deltog-inte-i-sip-mote", "Kallad part deltog inte i SIP-möte"),
    ("overenskommen-insats-i-sip-utfors-inte", "Överenskommen insats i SIP utförs inte"),
    ("oenighet-om-ansvar-eller-huvudmannaskap", "Oenighet om ansvar eller huvudmannaskap"),
    (
        "remiss-eller-forfragan-obesvarad-eller-avvisad",
        "Remiss eller förfrågan obesvarad eller avvisad",
    ),
    ("brister-i-information-och-kommunikation", "Brister i information och kommunikation"),
    ("vantetid-eller-tillganglighet", "Väntetid eller tillgänglighet"),
    ("ovrigt", "Övrigt"),
)
#: Categories the service itself chooses when it pre-fills a report.
ABSENT_FROM_SIP = "kallad-part-deltog-inte-i-sip-mote"
NO_AGREEMENT = "oenighet-om-ansvar-eller-huvudmannaskap"

GENDERS = {
    "flicka": "Flicka",
    "pojke": "Pojke",
    "annat": "Annat eller uppgift saknas",
}

AGE_GROUPS = {"0-5": "0–5 år", "6-12": "6–12 år", "13-17": "13–17 år"}

AGREES = {"ja": "Ja", "delvis": "Delvis", "nej": "Nej"}


class TransitionError(Exception):
    """The event is not allowed in the report's current state."""

    def __init__(self, state: str, event: str) -> None:
        super().__init__(f"{event!r} is not allowed in state {state!r}")
        self.state = state
        self.event = event


def next_state(state: str, event: str) -> str:
    """The state after `event`, or TransitionError when the event is not allowed."""
    allowed, target = TRANSITIONS[event]
    if state not in allowed:
        raise TransitionError(state, event)
    return target


def can(state: str, event: str) -> bool:
    return state in TRANSITIONS[event][0]


def format_case_number(year: int, number: int) -> str:
    """BUS-ÅÅÅÅ-NNNN; the number widens past 9999 rather than wrapping."""
    return f"BUS-{year:04d}-{number:04d}"


# --- the categories of the form, version by version -----------------------------------------


class CategoryError(ValueError):
    """A change to the form's categories that would break the rules (`next_categories`)."""


def slug(label: str, taken: Iterable[str] = (), fallback: str = "kategori") -> str:
    """A stable code for a new category (or directory id): its label in lower-case ASCII
    words joined by "-", with a number added when a category (even a retired one) already
    has it; `fallback` when the label has no letter or digit in ASCII."""
    ascii_text = unicodedata.normalize("NFKD", label).encode("ascii", "ignore").decode()
    base = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")[:60] or fallback
    used, code, n = set(taken), base, 1
    while code in used:
        n += 1
        code = f"{base}-{n}"
    return code


def next_categories(
    current: Sequence[Mapping[str, str]],
    every_code: Iterable[str],
    *,
    add: Sequence[str] = (),
    rename: Mapping[str, str] | None = None,
    retire: Iterable[str] = (),
) -> list[dict[str, str]]:
    """The categories of the next version of the form: the current ones in their order,
    renamed and retired as asked, then the added ones (with new codes, never one used
    before: `every_code`). Labels must be non-empty and distinct."""
    rename, retire = dict(rename or {}), set(retire)
    codes = [c["code"] for c in current]
    unknown = (set(rename) | retire) - set(codes)
    if unknown:
        raise CategoryError(f"not on the current form: {', '.join(sorted(unknown))}")
    result = [
        {"code": c["code"], "label": rename.get(c["code"], c["label"]).strip()}
        for c in current
        if c["code"] not in retire
    ]
    taken = set(every_code) | set(codes)
    for label in add:
        code = slug(label, taken)
        taken.add(code)
        result.append({"code": code, "label": label.strip()})
    labels = [c["label"] for c in result]
    if not result or "" in labels or len(set(labels)) != len(labels):
        raise CategoryError("the form needs at least one category, each with its own label")
    return result


def statistics_categories(
    versions: Sequence[Sequence[Mapping[str, str]]],
) -> list[tuple[str, str, bool]]:
    """Every category ever on the form (`versions` oldest first) as (code, label, current):
    labelled by the newest version that has it, so a renamed category is one category; the
    current form's in its order, then the retired ones, most recently used on the form first."""
    seen: dict[str, tuple[str, str, bool]] = {}
    for position, version in enumerate(reversed(versions)):
        for category in version:
            seen.setdefault(category["code"], (category["code"], category["label"], position == 0))
    return list(seen.values())
