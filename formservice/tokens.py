"""Signed tokens with a purpose: responder links (bound to one report, one recipient and the
report's link version) and the directory file between its preview and "Genomför"."""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

_SALT = "formservice.responder-link.v1"


@dataclass(frozen=True)
class ResponderLink:
    deviation_id: int
    email: str
    version: int


class LinkError(Exception):
    """The link is not valid; `reason` is "expired" or "invalid"."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=_SALT)


def make_token(deviation_id: int, email: str, version: int) -> str:
    return _serializer().dumps({"d": deviation_id, "e": email.lower(), "v": version})


def read_token(token: str) -> ResponderLink:
    """Verify signature and age; raise LinkError when the link cannot be used."""
    max_age = current_app.config["FORMSERVICE_LINK_MAX_AGE_DAYS"] * 86400
    try:
        data = _serializer().loads(token, max_age=max_age)
    except SignatureExpired as exc:
        raise LinkError("expired") from exc
    except BadSignature as exc:
        raise LinkError("invalid") from exc
    try:
        return ResponderLink(int(data["d"]), str(data["e"]), int(data["v"]))
    except (KeyError, TypeError, ValueError) as exc:
        raise LinkError("invalid") from exc


# --- the directory file between its preview and "Genomför" (admin) ---------------------------

_DIRECTORY_SALT = "formservice.directory-file.v1"
DIRECTORY_FILE_MAX_AGE = 3600  # seconds: a preview older than an hour is uploaded again


@dataclass(frozen=True)
class DirectoryFile:
    text: str
    fingerprint: str  # of the directory the preview was computed on
    user_id: int  # the administrator who saw the preview


def make_directory_token(text: str, fingerprint: str, user_id: int) -> str:
    """The uploaded file's text, signed (not secret: it is the administrator's own file)."""
    serializer = URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=_DIRECTORY_SALT)
    return serializer.dumps({"t": text, "f": fingerprint, "u": user_id})


def read_directory_token(token: str) -> DirectoryFile:
    """Verify signature and age; raise LinkError when the token cannot be used."""
    serializer = URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=_DIRECTORY_SALT)
    try:
        data = serializer.loads(token, max_age=DIRECTORY_FILE_MAX_AGE)
    except SignatureExpired as exc:
        raise LinkError("expired") from exc
    except BadSignature as exc:
        raise LinkError("invalid") from exc
    try:
        return DirectoryFile(str(data["t"]), str(data["f"]), int(data["u"]))
    except (KeyError, TypeError, ValueError) as exc:
        raise LinkError("invalid") from exc
