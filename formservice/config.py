"""The one place that reads FORMSERVICE_* settings and applies the embedded defaults."""

from __future__ import annotations

import os
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
    "SMTP_TIMEOUT": (20, _INT),
    "MAIL_FROM": ("bus-formservice@localhost", _str),
    "BASE_URL": ("http://127.0.0.1:5000", _str),
    "SOFFICE": ("soffice", _str),
    "SOFFICE_TIMEOUT": (120, _INT),
    "ANSWER_DAYS": (30, _INT),
    "REMINDER_DAYS_BEFORE": (7, _INT),
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
    "SECURE_COOKIES": (False, _bool),
    "INSTANCE_PATH": (None, _str),
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
    url = config["FORMSERVICE_DATABASE_URL"] or f"sqlite:///{instance_path / 'formservice.db'}"
    config["SQLALCHEMY_DATABASE_URI"] = url
    config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", _engine_options(url))
    config["MAX_CONTENT_LENGTH"] = (config["FORMSERVICE_MAX_UPLOAD_MB"] * 5 + 1) * 1024 * 1024
    config["SESSION_COOKIE_HTTPONLY"] = True
    config["SESSION_COOKIE_SAMESITE"] = "Lax"
    config["SESSION_COOKIE_SECURE"] = config["FORMSERVICE_SECURE_COOKIES"]
    config["PERMANENT_SESSION_LIFETIME"] = 8 * 3600
    config["WTF_CSRF_TIME_LIMIT"] = 8 * 3600


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
