"""Which local BUS group a case belongs to (SPEC §2: region units serve several groups).

A deviation belongs to a group both units share; a SIP meeting or a BUS-individ record to a
group of the unit that initiated it. When more than one group is possible, the person filing
the case chooses; nobody's choice is taken that the units do not allow.
"""

from __future__ import annotations

from collections.abc import Set
from dataclasses import dataclass


@dataclass(frozen=True)
class NeedsChoice:
    """More than one group is possible and none was chosen, or the choice is not possible."""

    possible: frozenset[str]
    refused: str | None = None  # the impossible choice, when one was made


class GroupNotChosen(ValueError):
    """Raised by the services when a case's group needs a choice it did not get."""

    def __init__(self, needs: NeedsChoice) -> None:
        super().__init__(f"choose one of {sorted(needs.possible)}")
        self.needs = needs


def possible_groups(own: Set[str], other: Set[str] = frozenset()) -> frozenset[str]:
    """The groups a case of the unit with groups `own` may belong to: those it shares with
    the other unit (the receiving one), else its own, else the other unit's."""
    shared = own & other
    return frozenset(shared or own or other)


def choose(own: Set[str], other: Set[str], choice: str | None) -> str | NeedsChoice | None:
    """The case's group: the chosen one if possible, the only possible one when nothing was
    chosen, None when neither unit has a group; otherwise `NeedsChoice`."""
    return choose_among(possible_groups(own, other), choice)


def choose_among(possible: Set[str], choice: str | None) -> str | NeedsChoice | None:
    """`choose` when the possible groups are known already."""
    possible = frozenset(possible)
    if choice:
        return choice if choice in possible else NeedsChoice(possible, choice)
    if len(possible) > 1:
        return NeedsChoice(possible)
    return next(iter(possible), None)


def settle(own: Set[str], other: Set[str], choice: str | None) -> str | None:
    """`choose` for the services: raise `GroupNotChosen` instead of returning `NeedsChoice`."""
    result = choose(own, other, choice)
    if isinstance(result, NeedsChoice):
        raise GroupNotChosen(result)
    return result
