"""Sign-on with the organisation's account (OpenID Connect): the button's start and the
provider's callback at {FORMSERVICE_BASE_URL}/logga-in/oidc. The checks are in sign_on.py,
the person and the audit in services/accounts.py; the session starts through `admit` like
the password door's."""

from __future__ import annotations

from flask import abort, render_template, request, session
from flask.typing import ResponseReturnValue

from ... import ratelimit, sign_on
from ...services import accounts
from ...sign_on import SignOnFailed
from . import RESUME, admit, bp

#: The session key of where to go after signing on (the login page's `next`).
NEXT = "oidc_next"

#: What the person is told, by reason, with the status of the page. 401s count against the
#: client address (ratelimit.limit_sign_on).
FAILED: dict[str, tuple[str, int]] = {
    "denied": (
        "Inloggningen med organisationens konto avbröts eller nekades. "
        "Du är inte inloggad. Försök igen, eller kontakta din it-support.",
        403,
    ),
    "state": (
        "Inloggningen kunde inte slutföras: den påbörjades inte i den här webbläsaren eller "
        "har redan använts. Börja om från inloggningssidan.",
        401,
    ),
    "expired": (
        "Inloggningen tog för lång tid eller har redan använts. Börja om från inloggningssidan.",
        401,
    ),
    "token": (
        "Inloggningen kunde inte slutföras: svaret från organisationens "
        "inloggningstjänst gick inte att kontrollera. Börja om från inloggningssidan.",
        401,
    ),
    "unverified": (
        "Organisationens inloggningstjänst har inte bekräftat din e-postadress, så vi kan "
        "inte se vem du är i BUS-katalogen. Kontakta din it-support.",
        401,
    ),
    "no_email": (
        "Organisationens inloggningstjänst skickade ingen e-postadress, så vi kan inte se "
        "vem du är i BUS-katalogen. Kontakta din it-support.",
        401,
    ),
    "unavailable": (
        "Organisationens inloggningstjänst svarar inte just nu. Försök igen om en stund.",
        503,
    ),
    "unknown": (
        "Du är inloggad hos din organisation, men din e-postadress finns inte i "
        "BUS-katalogen. Inget konto har skapats. Be systemförvaltaren lägga till dig.",
        403,
    ),
    "inactive": (
        "Ditt konto är inte längre aktivt i BUS-katalogen, så du kan inte logga in. "
        "Kontakta systemförvaltaren om det är fel.",
        403,
    ),
}


@bp.route("/logga-in/oidc/start")
def oidc_start() -> ResponseReturnValue:
    """ "Logga in med organisationens konto": to the provider (PKCE, state and nonce kept in
    the session by Authlib)."""
    if not sign_on.configured():
        abort(404)
    next_url = request.args.get("next") or session.get(RESUME) or ""
    try:
        response = sign_on.begin()
    except SignOnFailed as exc:
        return _failed(exc.reason)
    session[NEXT] = next_url
    return response


@bp.route("/logga-in/oidc")
@ratelimit.limit_sign_on()
def oidc_callback() -> ResponseReturnValue:
    """The provider's answer: checked, matched to the directory by the verified e-mail, and
    let in through `admit` (the second factor counts as done when the provider attested the
    level asked for in FORMSERVICE_OIDC_ACR_VALUES)."""
    if not sign_on.configured():
        abort(404)
    next_url = session.pop(NEXT, None)
    try:
        identity = sign_on.finish()
    except SignOnFailed as exc:
        accounts.record_sign_on_refused(exc.reason)
        return _failed(exc.reason)
    user, refusal = accounts.signed_on_person(identity.email)
    if user is None:
        return _failed(refusal)
    return admit(user, "oidc", next_url, identity.id_token, second_factor_done=identity.acr_met)


def _failed(reason: str) -> ResponseReturnValue:
    text, status = FAILED[reason]
    return render_template("html/auth/sign_on_failed.html", text=text), status
