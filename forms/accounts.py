"""Getting in and looking after one's account: "Glömt lösenordet?", "Välj lösenord", "Mitt
konto", the code from the app. Every error names its field in Swedish."""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from wtforms import EmailField, Field, Form, PasswordField, StringField, SubmitField
from wtforms.validators import ValidationError

from formservice.domain import passwords
from formservice.domain.passwords import Problem

from .fields import MaxLength, Required

MAX_PASSWORD = 200

#: Why the estimate found a password weak, said to the person choosing it.
_WEAK_REASONS = {
    passwords.REPEAT: "Upprepningar som ”aaa” eller ”abcabc” gör det lätt att gissa.",
    passwords.SEQUENCE: "Följder som ”abcd” eller ”6543” gör det lätt att gissa.",
    passwords.KEYBOARD: "Mönster på tangentbordet som ”qwerty” gör det lätt att gissa.",
    passwords.DATE: "Datum och årtal gör det lätt att gissa.",
    passwords.COMMON: "Det liknar ett av de vanligaste lösenorden.",
    passwords.NAME: "Namn är lätta att gissa.",
    passwords.WORD: "Ett enstaka vanligt ord är lätt att gissa.",
    passwords.PERSONAL: "Det innehåller ditt namn, din e-postadress eller tjänstens namn.",
    passwords.GUESSABLE: "",
}

PASSWORD_HINT = (
    f"Minst {passwords.MIN_LENGTH} tecken. Ett bra lösenord är långt och svårt att gissa, "
    "till exempel tre eller fyra ord som inte hör ihop."
)


def password_message(problem: Problem) -> str:
    """What is wrong with a password, as a sentence that starts in lower case."""
    if problem.kind == passwords.TOO_SHORT:
        return f"lösenordet måste ha minst {passwords.MIN_LENGTH} tecken."
    reason = _WEAK_REASONS.get(problem.kind, "")
    return " ".join(
        part
        for part in (
            "lösenordet är för lätt att gissa.",
            reason,
            "Välj ett längre lösenord, till exempel tre eller fyra ord som inte hör ihop.",
        )
        if part
    )


class StrongPassword:
    """The password rule (domain.passwords); the form's `personal` words (the person's name
    and address) count as easy to guess."""

    def __call__(self, form: Form, field: Field) -> None:
        problem = passwords.problem(field.data or "", tuple(getattr(form, "personal", ())))
        if problem is not None:
            raise ValidationError(f"{field.label.text}: {password_message(problem)}")


class SameAs:
    def __init__(self, other: str) -> None:
        self.other = other

    def __call__(self, form: Form, field: Field) -> None:
        if field.data != form[self.other].data:
            raise ValidationError(f"{field.label.text}: lösenorden är inte lika.")


class ForgotForm(FlaskForm):
    email = EmailField("E-postadress", validators=[Required(), MaxLength(254)])
    submit = SubmitField("Skicka länk")


class ChoosePasswordForm(FlaskForm):
    """ "Välj lösenord" (from an invitation or reset link)."""

    password = PasswordField(
        "Nytt lösenord",
        validators=[Required(), MaxLength(MAX_PASSWORD), StrongPassword()],
        description=PASSWORD_HINT,
    )
    repeat = PasswordField(
        "Upprepa lösenordet",
        validators=[Required(), MaxLength(MAX_PASSWORD), SameAs("password")],
    )
    submit = SubmitField("Spara lösenord")

    def __init__(self, *args: Any, personal: tuple[str, ...] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.personal = personal


class ChangePasswordForm(ChoosePasswordForm):
    """ "Byt lösenord" under "Mitt konto": the current password first."""

    current = PasswordField("Nuvarande lösenord", validators=[Required(), MaxLength(MAX_PASSWORD)])


class CodeForm(FlaskForm):
    """The second step of logging in."""

    code = StringField(
        "Kod från appen",
        validators=[Required(), MaxLength(40)],
        description=(
            "Sex siffror från autentiseringsappen. Har du inte tillgång till appen kan du "
            "skriva en av dina reservkoder."
        ),
    )
    submit = SubmitField("Logga in")


class EnrolForm(FlaskForm):
    code = StringField(
        "Kod från appen",
        validators=[Required(), MaxLength(40)],
        description="Sex siffror som appen visar när du har lagt till kontot.",
    )
    submit = SubmitField("Aktivera tvåstegsverifiering")


class DisableForm(FlaskForm):
    code = StringField(
        "Kod från appen",
        validators=[Required(), MaxLength(40)],
        description="Bekräfta med en kod från appen eller en reservkod.",
    )
    submit = SubmitField("Stäng av tvåstegsverifiering")
