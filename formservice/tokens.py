"""Signed responder links: bound to one report, one recipient and the report's link version."""

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
