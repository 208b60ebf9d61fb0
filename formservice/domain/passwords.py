"""The password rule: at least MIN_LENGTH characters, and not guessable by zxcvbn's estimate.

Pure: the caller turns a `Problem` into words (forms/accounts.py)."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from zxcvbn import zxcvbn

MIN_LENGTH = 12
#: zxcvbn's score (0-4) a password needs: 3 is "safely unguessable: moderate protection from
#: an offline slow-hash scenario" (about 10^8 guesses and more).
MIN_SCORE = 3
#: Longer input is cut before the estimate (zxcvbn refuses more, as its time grows with the
#: length); the first 72 characters decide.
ESTIMATE_CHARS = 72
#: Words everyone here would try first: the service, the agreement, the region.
SERVICE_WORDS = ("bus", "formservice", "lösenord", "losenord", "stockholm", "region", "kommun")

#: What made a password weak (the longest weak part, as zxcvbn found it).
TOO_SHORT = "too_short"
REPEAT, SEQUENCE, KEYBOARD, DATE, COMMON, NAME, WORD, PERSONAL, GUESSABLE = (
    "repeat",
    "sequence",
    "keyboard",
    "date",
    "common",
    "name",
    "word",
    "personal",
    "guessable",
)


@dataclass(frozen=True)
class Problem:
    kind: str  # TOO_SHORT, or a reason the estimate gives (REPEAT ... GUESSABLE)


def problem(password: str, personal: tuple[str, ...] = ()) -> Problem | None:
    """None when the password may be used; else what is wrong with it. `personal`: the
    person's name and e-mail address, which make a password easy to guess."""
    if len(password) < MIN_LENGTH:
        return Problem(TOO_SHORT)
    result = zxcvbn(password[:ESTIMATE_CHARS], user_inputs=_inputs(personal))
    if result["score"] >= MIN_SCORE:
        return None
    return Problem(_reason(result["sequence"]))


def _inputs(personal: tuple[str, ...]) -> list[str]:
    """The words of the person's name and address, and the service's own words."""
    words = [*SERVICE_WORDS]
    for text in personal:
        words.append(text.lower())
        words.extend(part for part in re.split(r"[\s@.\-_]+", text.lower()) if len(part) > 2)
    return words


def _reason(sequence: Sequence[Mapping[str, Any]]) -> str:
    """The kind of the longest part zxcvbn matched (its own feedback picks it the same way)."""
    if not sequence:
        return GUESSABLE
    match = max(sequence, key=lambda m: len(m["token"]))
    pattern = match["pattern"]
    if pattern == "repeat":
        return REPEAT
    if pattern == "sequence":
        return SEQUENCE
    if pattern == "spatial":
        return KEYBOARD
    if pattern == "date" or (pattern == "regex" and match.get("regex_name") == "recent_year"):
        return DATE
    if pattern == "dictionary":
        return {
            "passwords": COMMON,
            "user_inputs": PERSONAL,
            "surnames": NAME,
            "male_names": NAME,
            "female_names": NAME,
            "english_wikipedia": WORD,
            "us_tv_and_film": WORD,
        }.get(match["dictionary_name"], GUESSABLE)
    return GUESSABLE
