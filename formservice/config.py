"""The one place that reads FORMSERVICE_* settings and applies the embedded defaults."""

from __future__ import annotations

import os
import ssl
from collections.abc import Mapping
from pathlib import Path
from typing import Any

#: Every setting: environment variable suffix -> (config key, default, parser).
_INT = int


def _str(value: str) -> str:
    return value


def _bool(value: str) -> bool:
    return value.strip().lower() in {"1", "true", "yes", "ja", "on"}


SETTINGS: dict[str, tuple[Any, Any]] = {
    "SECRET_KEY": (None, _str),
    "DATABASE_URL": (None, _str),
    "REDIS_URL": (None, _str),
    "SMTP_HOST": ("localhost", _str),
    "SMTP_PORT": (25, _INT),
    "SMTP_USER": (None, _str),
    "SMTP_PASSWORD": (None, _str),
    "SMTP_TLS": ("none", _str),
    "SMTP_CA_FILE": (None, _str),
    "SMTP_TIMEOUT": (20, _INT),
    "MAIL_FROM": ("bus-formservice@localhost", _str),
    "BASE_URL": ("http://127.0.0.1:5000", _str),
    "SOFFICE": ("soffice", _str),
    "SOFFICE_TIMEOUT": (120, _INT),
    "ANSWER_DAYS": (30, _INT),
    "REMINDER_DAYS_BEFORE": (7, _INT),
    "SUPPLEMENT_DAYS": (14, _INT),
    "PATTERN_COUNT": (3, _INT),  # recurring deviations: this many within 12 months
    "LINK_MAX_AGE_DAYS": (45, _INT),
    "MAX_UPLOAD_MB": (20, _INT),
    "DELIVERY_ATTEMPTS": (6, _INT),
    "DELIVERY_BACKOFF_SECONDS": (30, _INT),
    "SWEEP_INTERVAL_SECONDS": (60, _INT),
    "DELIVERY_CLAIM_SECONDS": (300, _INT),
    "TIMEZONE": ("Europe/Stockholm", _str),
    "SIP_NOTICE_DAYS": (21, _INT),
    "RETENTION_MONTHS": (24, _INT),
    "SMALL_CELL_THRESHOLD": (3, _INT),
    "ALLOWED_EMAIL_DOMAINS": ("", _str),
    "DEMO": (False, _bool),
    "SECURE_COOKIES": (None, _bool),  # None: true when BASE_URL is https
    "TRUSTED_PROXIES": (0, _INT),
    "INVITE_DAYS": (7, _INT),
    "REQUIRE_2FA": ("admin", _str),
    "ACCESSIBILITY_CONTACT": ("", _str),
    "INSTANCE_PATH": (None, _str),
    "LOG_FORMAT": ("text", _str),
    "METRICS_TOKEN": ("", _str),
    "OIDC_ISSUER": ("", _str),
    "OIDC_CLIENT_ID": ("", _str),
    "OIDC_CLIENT_SECRET": ("", _str),
    "OIDC_SCOPES": ("openid email profile", _str),
    "OIDC_EMAIL_CLAIM": ("email", _str),
    "OIDC_ACR_VALUES": ("", _str),
    "PASSWORD_LOGIN": (True, _bool),
    "BREAK_GLASS": ("", _str),
    "RESPONDER_LOGIN": ("", _str),
}


def from_environ(environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Read every FORMSERVICE_* setting, falling back to its default."""
    environ = os.environ if environ is None else environ
    config: dict[str, Any] = {}
    for name, (default, parse) in SETTINGS.items():
        raw = environ.get(f"FORMSERVICE_{name}")
        config[f"FORMSERVICE_{name}"] = default if raw in (None, "") else parse(raw)
    return config


def finalize(config: dict[str, Any], instance_path: Path) -> None:
    """Apply the embedded defaults that depend on the instance folder and mode."""
    embedded = config.get("TESTING") or config["FORMSERVICE_DEMO"]
    secret = config["FORMSERVICE_SECRET_KEY"]
    if not secret:
        if not embedded:
            raise RuntimeError(
                "FORMSERVICE_SECRET_KEY must be set (it may be omitted only in demo and test mode)."
            )
        secret = _instance_secret(instance_path)
    config["SECRET_KEY"] = secret
    _check_smtp_tls(config)
    url = config["FORMSERVICE_DATABASE_URL"] or f"sqlite:///{instance_path / 'formservice.db'}"
    config["SQLALCHEMY_DATABASE_URI"] = url
    config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", _engine_options(url))
    config["MAX_CONTENT_LENGTH"] = (config["FORMSERVICE_MAX_UPLOAD_MB"] * 5 + 1) * 1024 * 1024
    config["SESSION_COOKIE_HTTPONLY"] = True
    config["SESSION_COOKIE_SAMESITE"] = "Lax"
    if config["FORMSERVICE_SECURE_COOKIES"] is None:
        base_url = config["FORMSERVICE_BASE_URL"].strip().lower()
        config["FORMSERVICE_SECURE_COOKIES"] = base_url.startswith("https://")
    config["SESSION_COOKIE_SECURE"] = config["FORMSERVICE_SECURE_COOKIES"]
    if config["FORMSERVICE_TRUSTED_PROXIES"] < 0:
        raise RuntimeError("FORMSERVICE_TRUSTED_PROXIES must be 0 or a positive number.")
    _check_log_format(config)
    if config["FORMSERVICE_INVITE_DAYS"] < 1:
        raise RuntimeError("FORMSERVICE_INVITE_DAYS must be 1 or more.")
    if config["FORMSERVICE_SUPPLEMENT_DAYS"] < 1:
        raise RuntimeError("FORMSERVICE_SUPPLEMENT_DAYS must be 1 or more.")
    config["FORMSERVICE_REQUIRE_2FA"] = _roles(config["FORMSERVICE_REQUIRE_2FA"])
    _check_sign_on(config)
    config["PERMANENT_SESSION_LIFETIME"] = 8 * 3600
    config["WTF_CSRF_TIME_LIMIT"] = 8 * 3600


LOG_FORMATS = ("text", "json")


def _check_log_format(config: dict[str, Any]) -> None:
    value = config["FORMSERVICE_LOG_FORMAT"]
    kind = value.strip().lower()
    if kind not in LOG_FORMATS:
        raise RuntimeError(
            f"FORMSERVICE_LOG_FORMAT must be one of {', '.join(LOG_FORMATS)} (got {value!r})."
        )
    config["FORMSERVICE_LOG_FORMAT"] = kind


RESPONDER_LOGIN_MODES = ("", "optional", "required")


def _check_sign_on(config: dict[str, Any]) -> None:
    """OpenID Connect settings that hang together: a misconfiguration stops the start rather
    than leaving nobody able to log in."""
    issuer = config["FORMSERVICE_OIDC_ISSUER"].strip().rstrip("/")
    config["FORMSERVICE_OIDC_ISSUER"] = issuer
    if issuer and not config["FORMSERVICE_OIDC_CLIENT_ID"]:
        raise RuntimeError("FORMSERVICE_OIDC_CLIENT_ID must be set with FORMSERVICE_OIDC_ISSUER.")
    if issuer and "openid" not in config["FORMSERVICE_OIDC_SCOPES"].split():
        raise RuntimeError("FORMSERVICE_OIDC_SCOPES must include openid.")
    if not config["FORMSERVICE_PASSWORD_LOGIN"] and not issuer:
        raise RuntimeError(
            "FORMSERVICE_PASSWORD_LOGIN=false needs FORMSERVICE_OIDC_ISSUER (else only the "
            "break-glass administrators could log in)."
        )
    config["FORMSERVICE_BREAK_GLASS"] = _addresses(config["FORMSERVICE_BREAK_GLASS"])
    mode = config["FORMSERVICE_RESPONDER_LOGIN"].strip().lower()
    if mode not in RESPONDER_LOGIN_MODES:
        raise RuntimeError(
            f"FORMSERVICE_RESPONDER_LOGIN must be empty, optional or required (got {mode!r})."
        )
    config["FORMSERVICE_RESPONDER_LOGIN"] = mode


def _addresses(value: str | frozenset[str] | set[str]) -> frozenset[str]:
    """A comma list of e-mail addresses, lower case."""
    if isinstance(value, frozenset | set):
        return frozenset(part.strip().lower() for part in value)
    return frozenset(part.strip().lower() for part in value.split(",") if part.strip())


SMTP_TLS_MODES = ("none", "starttls", "ssl")

#: The roles FORMSERVICE_REQUIRE_2FA may name (SPEC §2; `sekreterare` and `sammankallande`
#: of a BUS group).
ROLES = ("admin", "bus_sekretariat", "sekreterare", "sammankallande", "chef")


def _roles(value: str | frozenset[str] | set[str]) -> frozenset[str]:
    """The comma list of roles that must log in with a second factor (`none`: no role); a
    misspelt role stops the start rather than leaving an account with one factor."""
    if isinstance(value, frozenset | set):
        names = set(value)
    else:
        names = {part.strip().lower() for part in value.split(",") if part.strip()}
        names.discard("none")
    unknown = sorted(names - set(ROLES))
    if unknown:
        raise RuntimeError(
            f"FORMSERVICE_REQUIRE_2FA may name {', '.join(ROLES)} (got {', '.join(unknown)})."
        )
    return frozenset(names)


def _check_smtp_tls(config: dict[str, Any]) -> None:
    """The TLS mode in lower case and a readable CA file: a misspelt mode would otherwise
    send in clear text, a missing CA file fail every delivery."""
    value = config["FORMSERVICE_SMTP_TLS"]
    mode = value.strip().lower()
    if mode not in SMTP_TLS_MODES:
        raise RuntimeError(
            f"FORMSERVICE_SMTP_TLS must be one of {', '.join(SMTP_TLS_MODES)} (got {value!r})."
        )
    config["FORMSERVICE_SMTP_TLS"] = mode
    ca_file = config["FORMSERVICE_SMTP_CA_FILE"]
    if ca_file:
        try:
            ssl.create_default_context(cafile=ca_file)
        except OSError as exc:  # missing, unreadable, or no PEM certificate in it
            raise RuntimeError(
                f"FORMSERVICE_SMTP_CA_FILE must name a PEM file of CA certificates: "
                f"{ca_file} ({exc.strerror or exc})."
            ) from exc


def _instance_secret(instance_path: Path) -> str:
    """A random key kept in the instance folder, for demo and test mode only."""
    path = instance_path / "secret_key"
    if not path.exists():
        instance_path.mkdir(parents=True, exist_ok=True)
        path.write_text(os.urandom(32).hex())
        path.chmod(0o600)
    return path.read_text().strip()


def _engine_options(url: str) -> dict[str, Any]:
    """Statement parameters stay out of exception texts and logs: they hold case content."""
    if url.startswith("sqlite"):
        return {"connect_args": {"timeout": 30}, "hide_parameters": True}
    return {"pool_pre_ping": True, "pool_size": 5, "max_overflow": 10, "hide_parameters": True}
