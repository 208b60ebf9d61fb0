"""States, transitions and the fixed vocabularies of the deviation routine (SPEC §3)."""

from __future__ import annotations

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

CATEGORIES = (
    "Överenskommelsen följs inte",
    "Kallad part deltog inte i SIP-möte",
    "Överenskommen insats i SIP utförs inte",
    "Oenighet om ansvar eller huvudmannaskap",
    "Remiss eller förfrågan obesvarad eller avvisad",
    "Brister i information och kommunikation",
    "Väntetid eller tillgänglighet",
    "Övrigt",
)

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
