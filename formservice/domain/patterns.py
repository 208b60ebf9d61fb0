"""Recurring deviations (issue 17, item 3), pure: when one receiving unit gets `threshold`
deviations within twelve months from the same reporting unit, or in the same category, the
group's secretary and convener are told once; again only when the pattern grows (a case
joins it that was not in it when they were last told)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date

from dateutil.relativedelta import relativedelta

#: What the cases of a pattern share besides the receiving unit.
FROM_UNIT, CATEGORY = "verksamhet", "kategori"
WINDOW = relativedelta(months=12)


@dataclass(frozen=True)
class Case:
    """What the rule reads of one sent deviation."""

    id: int
    case_number: str
    group_id: str
    reporting_unit_id: str
    receiving_unit_id: str
    categories: tuple[str, ...]
    sent_on: date


@dataclass(frozen=True)
class Pattern:
    """`receiving_unit_id` got the cases `case_ids` (oldest first) from the same reporting
    unit (`kind` FROM_UNIT, `key` its id) or in one category (CATEGORY, the code)."""

    group_id: str
    receiving_unit_id: str
    kind: str
    key: str
    case_ids: tuple[int, ...]
    case_numbers: tuple[str, ...]

    @property
    def identity(self) -> tuple[str, str, str, str]:
        return self.group_id, self.receiving_unit_id, self.kind, self.key


def window_start(today: date) -> date:
    """The first day of the twelve months that end today."""
    return today - WINDOW + relativedelta(days=1)


def find(cases: Iterable[Case], today: date, threshold: int) -> list[Pattern]:
    """Every pattern among the cases sent in the twelve months up to `today`, in a stable
    order (group, receiving unit, kind, key)."""
    start = window_start(today)
    found: dict[tuple[str, str, str, str], list[Case]] = defaultdict(list)
    for case in sorted(cases, key=lambda c: (c.sent_on, c.id)):
        if not start <= case.sent_on <= today:
            continue
        base = (case.group_id, case.receiving_unit_id)
        found[(*base, FROM_UNIT, case.reporting_unit_id)].append(case)
        for code in dict.fromkeys(case.categories):
            found[(*base, CATEGORY, code)].append(case)
    return [
        Pattern(*identity, tuple(c.id for c in members), tuple(c.case_number for c in members))
        for identity, members in sorted(found.items())
        if len(members) >= max(threshold, 1)
    ]


def to_notify(
    patterns: Iterable[Pattern], notified: Mapping[tuple[str, str, str, str], Iterable[int]]
) -> list[Pattern]:
    """The patterns never told, and those a case joined since they were last told."""
    return [p for p in patterns if not set(p.case_ids) <= set(notified.get(p.identity, ()))]
