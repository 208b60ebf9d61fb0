"""Signed links, one helper for every kind: a purpose (its own salt, so a link made for one
purpose is never accepted for another), an expiry, and a version that the database bumps to
make a used or stale link dead.

- Responder links (`respond`): one report, one recipient and the report's link version.
- Supplement links (`supplement`): the same payload for B's one "Kompletterande svar" after
  "Svaret räcker inte"; a salt of their own, so an answer link never opens the supplement.
- Account links (`invite`, `reset`): one person and the person's `token_version`, which is
  bumped when a link is used or the password changes.
- Measure links (`measure`): one decided measure and one recipient, the responsible unit's
  chef or deputy; the measure's state makes a used link dead (it is reported once).
- The directory file between its preview and "Genomför" (`directory`): the administrator's
  own file, signed (not secret), bound to the administrator and the directory it was
  previewed against.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

#: Purposes and their salts. The responder salt is the one links were made with before.
_SALTS = {
    "respond": "formservice.responder-link.v1",
    "supplement": "formservice.supplement-link.v1",
    "invite": "formservice.account-link.invite.v1",
    "reset": "formservice.account-link.reset.v1",
    "directory": "formservice.directory-file.v1",
    "measure": "formservice.measure-link.v1",
}
#: How long a password reset link lives (short: it is asked for, used at once).
RESET_MAX_AGE_SECONDS = 60 * 60
#: The purposes of account links.
INVITE, RESET = "invite", "reset"


@dataclass(frozen=True)
class ResponderLink:
    deviation_id: int
    email: str
    version: int


@dataclass(frozen=True)
class AccountLink:
    purpose: str
    user_id: int
    version: int


class LinkError(Exception):
    """The link is not valid; `reason` is "expired" or "invalid"."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _serializer(purpose: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=_SALTS[purpose])


def sign(purpose: str, payload: dict[str, Any]) -> str:
    """A signed, timestamped token for `purpose`."""
    return _serializer(purpose).dumps(payload)


def verify(token: str, purpose: str, max_age_seconds: int) -> dict[str, Any]:
    """The payload of a token made for `purpose` no longer than `max_age_seconds` ago."""
    try:
        data = _serializer(purpose).loads(token, max_age=max_age_seconds)
    except SignatureExpired as exc:
        raise LinkError("expired") from exc
    except BadSignature as exc:
        raise LinkError("invalid") from exc
    if not isinstance(data, dict):
        raise LinkError("invalid")
    return data


def make_token(deviation_id: int, email: str, version: int) -> str:
    return sign("respond", {"d": deviation_id, "e": email.lower(), "v": version})


def read_token(token: str) -> ResponderLink:
    """Verify signature and age; raise LinkError when the link cannot be used."""
    max_age = current_app.config["FORMSERVICE_LINK_MAX_AGE_DAYS"] * 86400
    data = verify(token, "respond", max_age)
    try:
        return ResponderLink(int(data["d"]), str(data["e"]), int(data["v"]))
    except (KeyError, TypeError, ValueError) as exc:
        raise LinkError("invalid") from exc


def make_supplement_token(deviation_id: int, email: str, version: int) -> str:
    """The link for chef B's supplementary answer, at the report's link version."""
    return sign("supplement", {"d": deviation_id, "e": email.lower(), "v": version})


def read_supplement_token(token: str) -> ResponderLink:
    """Verify signature and age (`FORMSERVICE_LINK_MAX_AGE_DAYS`) of a supplement link."""
    max_age = current_app.config["FORMSERVICE_LINK_MAX_AGE_DAYS"] * 86400
    data = verify(token, "supplement", max_age)
    try:
        return ResponderLink(int(data["d"]), str(data["e"]), int(data["v"]))
    except (KeyError, TypeError, ValueError) as exc:
        raise LinkError("invalid") from exc


@dataclass(frozen=True)
class MeasureLink:
    measure_id: int
    email: str


def make_measure_token(measure_id: int, email: str) -> str:
    """The link a measure's reminder carries: the measure and its recipient."""
    return sign("measure", {"m": measure_id, "e": email.lower()})


def read_measure_token(token: str) -> MeasureLink:
    """Verify signature and age (`FORMSERVICE_LINK_MAX_AGE_DAYS`, as responder links)."""
    max_age = current_app.config["FORMSERVICE_LINK_MAX_AGE_DAYS"] * 86400
    data = verify(token, "measure", max_age)
    try:
        return MeasureLink(int(data["m"]), str(data["e"]))
    except (KeyError, TypeError, ValueError) as exc:
        raise LinkError("invalid") from exc


def make_account_token(purpose: str, user_id: int, version: int) -> str:
    """An invitation or reset link's token for one person at the person's token version."""
    return sign(purpose, {"u": user_id, "v": version})


def read_account_token(token: str, purpose: str) -> AccountLink:
    """Verify signature and age (`FORMSERVICE_INVITE_DAYS` for an invitation, an hour for a
    reset); the version is the caller's to compare with the person's."""
    data = verify(token, purpose, account_link_max_age(purpose))
    try:
        return AccountLink(purpose, int(data["u"]), int(data["v"]))
    except (KeyError, TypeError, ValueError) as exc:
        raise LinkError("invalid") from exc


def account_link_max_age(purpose: str) -> int:
    """Seconds an account link of `purpose` lives."""
    if purpose == INVITE:
        return current_app.config["FORMSERVICE_INVITE_DAYS"] * 86400
    return RESET_MAX_AGE_SECONDS


# --- the directory file between its preview and "Genomför" (admin) ---------------------------

DIRECTORY_FILE_MAX_AGE = 3600  # seconds: a preview older than an hour is uploaded again


@dataclass(frozen=True)
class DirectoryFile:
    text: str
    fingerprint: str  # of the directory the preview was computed on
    user_id: int  # the administrator who saw the preview


def make_directory_token(text: str, fingerprint: str, user_id: int) -> str:
    """The uploaded file's text, signed (not secret: it is the administrator's own file)."""
    return sign("directory", {"t": text, "f": fingerprint, "u": user_id})


def read_directory_token(token: str) -> DirectoryFile:
    """Verify signature and age; raise LinkError when the token cannot be used."""
    data = verify(token, "directory", DIRECTORY_FILE_MAX_AGE)
    try:
        return DirectoryFile(str(data["t"]), str(data["f"]), int(data["u"]))
    except (KeyError, TypeError, ValueError) as exc:
        raise LinkError("invalid") from exc
