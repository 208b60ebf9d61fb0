"""Find personal data in free text: personnummer, telefonnummer, e-postadresser.

A finding holds only a kind and a span, never the matched text, so a number
can never end up in a log line or an error message by way of a finding.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache

from personnummer import personnummer

PERSONNUMMER = "personnummer"
TELEFONNUMMER = "telefonnummer"
EPOSTADRESS = "e-postadress"

KIND_LABELS: dict[str, str] = {
    PERSONNUMMER: "personnummer eller samordningsnummer",
    TELEFONNUMMER: "telefonnummer",
    EPOSTADRESS: "e-postadress",
}

_ONE = {
    PERSONNUMMER: "ett personnummer eller samordningsnummer",
    TELEFONNUMMER: "ett telefonnummer",
    EPOSTADRESS: "en e-postadress",
}
_MANY = {
    PERSONNUMMER: "flera personnummer eller samordningsnummer",
    TELEFONNUMMER: "flera telefonnummer",
    EPOSTADRESS: "flera e-postadresser",
}

_MIN_PHONE_DIGITS = 8
_MAX_PHONE_DIGITS = 13
_MAX_PHONE_GROUPS = 6

# Separators allowed between the digits of a phone number: space, no-break space,
# hyphen, en dash and parentheses, at most three in a row (" - ", ") ", " (").
_PHONE_SEP = "[ \u00a0\\-\u2013()]"


@dataclass(frozen=True)
class Finding:
    """Where personal data of one kind was found; deliberately without the text."""

    kind: str
    start: int
    end: int


@dataclass(frozen=True)
class _Patterns:
    personnummer: re.Pattern[str]
    phone: re.Pattern[str]
    email: re.Pattern[str]
    date_prefix: re.Pattern[str]
    parens: re.Pattern[str]


def _digits(least: int, most: int) -> str:
    """A pattern for ``least`` to ``most`` digits, each after up to three separators."""
    return f"(?:{_PHONE_SEP}{{0,3}}[0-9]){{{least},{most}}}"


@cache
def _patterns() -> _Patterns:
    """Compile the scanner's expressions once, on first use."""
    return _Patterns(
        personnummer=re.compile(r"(?<![0-9])(?:18|19|20)?[0-9]{6}[-+]?[0-9]{4}(?![0-9])"),
        phone=re.compile(
            r"(?<![\w.+\-\u2013])"
            rf"(?:\+[1-9]{_digits(6, 12)}|0046{_digits(4, 9)}|\(?0[1-9]{_digits(6, 11)})"
            rf"(?!\w)(?!{_PHONE_SEP}{{1,3}}[1-9])"
        ),
        email=re.compile(
            r"(?<![\w.%+\-])[\w.%+\-]{1,64}@(?:[^\W_](?:[\w\-]{0,61}[^\W_])?\.){1,8}"
            r"[^\W\d_]{2,63}(?![\w\-])"
        ),
        date_prefix=re.compile(
            r"(?:0?[1-9]|[12][0-9]|3[01])[ .\-\u2013/]"
            r"(?:0?[1-9]|1[0-2])[ .\-\u2013/](?:19|20)[0-9]{2}"
        ),
        parens=re.compile(r"[^()]*(?:\([^()]*\)[^()]*)?"),
    )


def find_personal_data(text: str, allowed_domains: Iterable[str] = ()) -> list[Finding]:
    """Every personnummer, phone number and e-mail address in ``text``, in order.

    E-mail addresses in ``allowed_domains`` (or their subdomains) are functional
    mailboxes of organisations and are not reported. Where a digit sequence is
    both a valid personnummer and a plausible phone number it is reported once,
    as a personnummer.
    """
    domains = _normalise_domains(allowed_domains)
    ids = list(_find_personnummer(text))
    phones = list(_outside(_find_phone_numbers(text), ids))
    mails = list(_find_emails(text, domains))
    return sorted([*ids, *phones, *mails], key=lambda f: (f.start, f.end))


def describe(findings: Iterable[Finding]) -> str:
    """A Swedish message naming each kind of personal data found, never a value."""
    counts: dict[str, int] = {}
    for finding in findings:
        counts[finding.kind] = counts.get(finding.kind, 0) + 1
    if not counts:
        return ""
    parts = [(_ONE if counts[kind] == 1 else _MANY)[kind] for kind in KIND_LABELS if kind in counts]
    return f"Texten innehåller {_join_sv(parts)}. Ta bort uppgifter som kan identifiera en person."


def _join_sv(parts: list[str]) -> str:
    """Join ["a", "b", "c"] as "a, b och c"."""
    if len(parts) == 1:
        return parts[0]
    return f"{', '.join(parts[:-1])} och {parts[-1]}"


def _outside(findings: Iterable[Finding], taken: list[Finding]) -> Iterable[Finding]:
    """The findings that overlap none of ``taken`` (sorted, non-overlapping)."""
    starts = [t.start for t in taken]
    for finding in findings:
        index = bisect_right(starts, finding.start)
        if index and taken[index - 1].end > finding.start:
            continue
        if index < len(taken) and taken[index].start < finding.end:
            continue
        yield finding


def _find_personnummer(text: str) -> Iterable[Finding]:
    """Personnummer and samordningsnummer with a valid date and check digit.

    Accepted forms are YYMMDD-NNNN, YYMMDD+NNNN, YYMMDDNNNN, YYYYMMDD-NNNN and
    YYYYMMDDNNNN (a century of 18, 19 or 20), never part of a longer digit run.
    """
    for match in _patterns().personnummer.finditer(text):
        if _is_personnummer(match.group()):
            yield Finding(PERSONNUMMER, match.start(), match.end())


def _is_personnummer(candidate: str) -> bool:
    """Check month, Luhn digit and date (day + 60 for samordningsnummer)."""
    digits = candidate.replace("-", "").replace("+", "")
    short = digits[-10:]
    if not 1 <= int(short[2:4]) <= 12 or _luhn(short[:9]) != int(short[9]):
        return False
    return personnummer.valid(candidate)


def _luhn(digits: str) -> int:
    """The Luhn check digit for a run of digits (weights 2, 1, 2, ...)."""
    total = 0
    for index, char in enumerate(digits):
        value = int(char) * (2 - index % 2)
        total += value - 9 if value > 9 else value
    return -total % 10


def _find_phone_numbers(text: str) -> Iterable[Finding]:
    """Swedish and international phone numbers, by a deliberately simple heuristic.

    A candidate starts with ``0`` and a non-zero digit (07X, 08, 031, 0910, the
    area code optionally in parentheses), with ``0046`` or with ``+`` and a
    country code. Its digits may be split into groups by spaces, hyphens, en
    dashes and parentheses (at most three in a row). It is a phone number when
    it has 8 to 13 digits in at most six groups with balanced parentheses, does
    not follow a letter, digit, ``.``, ``+`` or dash, is not followed by a
    letter, a digit or another group starting with 1-9, and does not begin with
    a date such as 05-11-2026. A following group that starts with 0 is taken as
    the next number, so "070-1234567 08-1234567" gives two findings.

    This keeps out ISO dates (2026-11-22), years, case numbers such as
    BUS-2026-0001 or KS 2026/0123, times (14:30), amounts (1 250 000 kr,
    0,50 kr) and short numbers, as none of them starts with 0 followed by
    eight or more digits. Runs starting with 00 other than 0046 are not phone
    numbers. Zero-led numbers of phone length are flagged even when they are
    something else, such as a bankgiro number 0123-4567 or the tail of an
    account number; for free text that may hold personal data this is the
    safer mistake.
    """
    patterns = _patterns()
    for match in patterns.phone.finditer(text):
        start, end = match.span()
        if text[start] == "(" and ")" not in text[start:end]:
            start += 1
        candidate = text[start:end]
        groups = re.findall(r"[0-9]+", candidate)
        digits = sum(len(g) for g in groups)
        if not _MIN_PHONE_DIGITS <= digits <= _MAX_PHONE_DIGITS:
            continue
        if len(groups) > _MAX_PHONE_GROUPS or not patterns.parens.fullmatch(candidate):
            continue
        if patterns.date_prefix.match(candidate):
            continue
        yield Finding(TELEFONNUMMER, start, end)


def _find_emails(text: str, allowed: tuple[str, ...]) -> Iterable[Finding]:
    """E-mail addresses, except those on an allowed (organisation) domain."""
    for match in _patterns().email.finditer(text):
        domain = match.group().rpartition("@")[2].lower()
        if any(domain == d or domain.endswith("." + d) for d in allowed):
            continue
        yield Finding(EPOSTADRESS, match.start(), match.end())


def _normalise_domains(domains: Iterable[str]) -> tuple[str, ...]:
    """Lower-case domains without a leading "@" or "."; empty entries dropped."""
    if isinstance(domains, str):
        domains = [domains]
    cleaned = (d.strip().lstrip("@.").rstrip(".").lower() for d in domains)
    return tuple(d for d in cleaned if d)
