"""The password rule (domain.passwords) and its Swedish words (forms.accounts)."""

from __future__ import annotations

import pytest

from forms.accounts import password_message
from formservice.domain import passwords


@pytest.mark.parametrize(
    ("password", "kind"),
    [
        ("elva-tecken", passwords.TOO_SHORT),
        ("Password1234", passwords.COMMON),
        ("aaaaaaaaaaaaaa", passwords.REPEAT),
        ("abcdefghijklmn", passwords.SEQUENCE),
        ("qwertyuiop[]", passwords.KEYBOARD),
        ("Fia Familj 1982", passwords.PERSONAL),
        ("fia.familj@stad.example", passwords.PERSONAL),
    ],
)
def test_weak_passwords_and_why(password, kind):
    problem = passwords.problem(password, ("Fia Familj", "fia.familj@stad.example"))
    assert problem is not None and problem.kind == kind


@pytest.mark.parametrize(
    "password",
    [
        "Blåbär-cykel-ekorre-73",
        "ett långt lösenord 42",
        "korvgubbe på tåget",
        "x" * 7 + "Qz!9#kL2pW",
    ],
)
def test_long_unguessable_passwords_pass(password):
    assert passwords.problem(password, ("Fia Familj", "fia.familj@stad.example")) is None


def test_very_long_passwords_are_estimated_on_their_start():
    assert passwords.problem("Blåbär-cykel-ekorre-73" * 10) is None


def test_the_explanation_is_swedish_and_says_why():
    assert password_message(passwords.Problem(passwords.TOO_SHORT)) == (
        "lösenordet måste ha minst 12 tecken."
    )
    text = password_message(passwords.Problem(passwords.PERSONAL))
    assert text.startswith("lösenordet är för lätt att gissa. Det innehåller ditt namn")
    assert "tre eller fyra ord" in text
