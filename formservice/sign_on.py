"""OpenID Connect sign-on with the organisation's provider (Authlib's Flask client).

Authorization code flow with PKCE (S256); Authlib keeps `state`, `nonce`, the code verifier
and the redirect address in the session under the state's key, checks `state` on the way
back and the ID token's signature (the provider's JWKS), `iss` (the discovery document's
issuer), `aud`, `exp`, `iat` and `nonce`. This module adds what Authlib leaves to the
application: the discovery document must name the configured issuer, the ID token must be
there at all, the e-mail claim is taken from the ID token (or from userinfo for the same
`sub`), `email_verified` must not be false, and `acr` must be one asked for when
FORMSERVICE_OIDC_ACR_VALUES is set. Any failure is a `SignOnFailed` with a reason code the
view turns into a Swedish page; nothing here touches the database.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import requests
from authlib.common.errors import AuthlibBaseError
from authlib.integrations.base_client import MismatchingStateError, OAuthError
from authlib.integrations.flask_client import OAuth
from flask import Flask, current_app, request
from joserfc.errors import JoseError
from werkzeug.wrappers import Response

#: The callback's path under FORMSERVICE_BASE_URL (registered at the provider).
CALLBACK_PATH = "/logga-in/oidc"
#: Seconds to wait for the provider (discovery, keys, token, userinfo).
TIMEOUT = 10
#: Clock skew allowed on `exp` and `iat`, in seconds.
LEEWAY = 60
_EXTENSION = "formservice.sign_on"


class SignOnFailed(Exception):
    """The sign-on did not prove who someone is; `reason` is a code: denied (the person or
    the provider said no), state (no such sign-on begun in this session), expired (the code
    was used already or too late: invalid_grant), token (the ID token failed a check),
    unverified (email_verified false), no_email, unavailable (the provider did not
    answer)."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason


@dataclass(frozen=True)
class Identity:
    """Who the provider says signed on: the e-mail claim, whether the level asked for
    (acr) was met, and the ID token (the hint for logging out at the provider)."""

    email: str
    acr_met: bool
    id_token: str


def configured(app: Flask | None = None) -> bool:
    """Whether sign-on is set up (FORMSERVICE_OIDC_ISSUER)."""
    config = (app or current_app).config
    return bool(config["FORMSERVICE_OIDC_ISSUER"])


def init_app(app: Flask) -> None:
    """Register the provider as Authlib client `oidc`, one registry per app."""
    if not configured(app):
        return
    config = app.config
    oauth = OAuth(app)
    oauth.register(
        name="oidc",
        client_id=config["FORMSERVICE_OIDC_CLIENT_ID"],
        client_secret=config["FORMSERVICE_OIDC_CLIENT_SECRET"] or None,
        server_metadata_url=config["FORMSERVICE_OIDC_ISSUER"] + "/.well-known/openid-configuration",
        client_kwargs={
            "scope": config["FORMSERVICE_OIDC_SCOPES"],
            "code_challenge_method": "S256",
            "default_timeout": TIMEOUT,
        },
    )
    app.extensions[_EXTENSION] = oauth


def _client() -> Any:
    return current_app.extensions[_EXTENSION].oidc


def redirect_uri() -> str:
    """{FORMSERVICE_BASE_URL}/logga-in/oidc: the address registered at the provider, the
    same behind any proxy."""
    return current_app.config["FORMSERVICE_BASE_URL"].rstrip("/") + CALLBACK_PATH


def acr_values() -> list[str]:
    return current_app.config["FORMSERVICE_OIDC_ACR_VALUES"].split()


def metadata() -> dict[str, Any]:
    """The provider's discovery document (fetched once per process), checked to be the
    configured issuer's."""
    try:
        data = _client().load_server_metadata()
    except (requests.RequestException, ValueError) as exc:
        raise SignOnFailed("unavailable", type(exc).__name__) from exc
    issuer = current_app.config["FORMSERVICE_OIDC_ISSUER"]
    if str(data.get("issuer", "")).rstrip("/") != issuer:
        raise SignOnFailed("unavailable", "discovery names another issuer")
    return data


def begin() -> Response:
    """The redirect to the provider's authorization endpoint."""
    metadata()
    extra: dict[str, str] = {}
    if acr_values():
        extra["acr_values"] = " ".join(acr_values())
    try:
        return _client().authorize_redirect(redirect_uri(), **extra)
    except (requests.RequestException, RuntimeError) as exc:
        raise SignOnFailed("unavailable", type(exc).__name__) from exc


def finish() -> Identity:
    """The provider's answer on the callback, checked; who signed on. An `iss` in the
    answer (RFC 9207, against mix-up) must be the configured issuer."""
    data = metadata()
    answered_by = request.args.get("iss")
    if answered_by is not None and answered_by.rstrip("/") != str(data["issuer"]).rstrip("/"):
        raise SignOnFailed("token", "authorization response from another issuer")
    try:
        token = _client().authorize_access_token(leeway=LEEWAY)
    except MismatchingStateError as exc:
        raise SignOnFailed("state") from exc
    except OAuthError as exc:
        reason = "expired" if exc.error == "invalid_grant" else "denied"
        raise SignOnFailed(reason, exc.error or "") from exc
    except (AuthlibBaseError, JoseError) as exc:  # the ID token's signature or claims
        raise SignOnFailed("token", getattr(exc, "error", type(exc).__name__)) from exc
    except (requests.RequestException, ValueError) as exc:
        raise SignOnFailed("unavailable", type(exc).__name__) from exc
    claims = token.get("userinfo")
    if not claims or "id_token" not in token:
        raise SignOnFailed("token", "no ID token")
    return Identity(
        email=_email(dict(claims), token),
        acr_met=_acr_met(claims.get("acr")),
        id_token=token["id_token"],
    )


def _email(claims: dict[str, Any], token: dict[str, Any]) -> str:
    """The e-mail claim of the ID token, else of userinfo for the same subject; refused
    when the provider says it is not verified."""
    name = current_app.config["FORMSERVICE_OIDC_EMAIL_CLAIM"]
    if not claims.get(name) and metadata().get("userinfo_endpoint"):
        try:
            extra = dict(_client().userinfo(token=token))
        except (requests.RequestException, ValueError, AuthlibBaseError, JoseError) as exc:
            raise SignOnFailed("unavailable", type(exc).__name__) from exc
        if extra.get("sub") != claims.get("sub"):
            raise SignOnFailed("token", "userinfo for another subject")
        claims = {**extra, **claims}
    value = claims.get(name)
    if not isinstance(value, str) or "@" not in value:
        raise SignOnFailed("no_email")
    if "email_verified" in claims and claims["email_verified"] is not True:
        raise SignOnFailed("unverified")
    return value.strip().lower()


def _acr_met(acr: Any) -> bool:
    """Whether the provider attests one of the levels asked for (none asked: False)."""
    wanted = acr_values()
    return bool(wanted) and acr in wanted


def logout_url(id_token: str | None) -> str | None:
    """The provider's end_session_endpoint with id_token_hint and post_logout_redirect_uri
    (our login page), or None when the provider has none or does not answer."""
    try:
        if not metadata().get("end_session_endpoint"):
            return None
    except SignOnFailed:
        return None
    after = current_app.config["FORMSERVICE_BASE_URL"].rstrip("/") + "/logga-in"
    params: dict[str, str] = {"client_id": current_app.config["FORMSERVICE_OIDC_CLIENT_ID"]}
    result = _client().create_logout_url(
        post_logout_redirect_uri=after, id_token_hint=id_token, **params
    )
    return result["url"]
