"""Limits on failed logins, per client address and per account (Flask-Limiter on Redis).

Only failed logins count. The account limit is keyed on the submitted e-mail address whether
or not an account has it, so a locked account and an unknown address answer alike, and the
lock lifts by itself. Every web worker shares the counts in Redis; while Redis is down each
worker counts in its own memory instead (never a 500, never no limit at all)."""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Callable

from flask import Flask, current_app, request
from flask.wrappers import Response
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from redis.exceptions import RedisError

#: Failed logins from one client address within the window. High, because a municipality's
#: NAT or proxy puts many people behind one address.
ADDRESS_FAILURES = 100
#: Failed logins with one e-mail address (an account's or not) within the window; after
#: that, nobody logs in with it until the oldest of those failures has left the window.
ACCOUNT_FAILURES = 10
#: The window in seconds; it moves: each failure counts for this long.
WINDOW_SECONDS = 15 * 60

#: The scopes of the two limits.
ADDRESS, ACCOUNT = "address", "account"

limiter = Limiter(
    get_remote_address,  # right behind proxies once ProxyFix sets remote_addr
    strategy="moving-window",
    key_prefix="formservice-login",
    swallow_errors=True,
    in_memory_fallback_enabled=True,
)


def init_app(app: Flask) -> None:
    """Bind the limiter to the app's Redis; the LOGIN_* numbers can be set by tests."""
    config = app.config
    config.setdefault("LOGIN_ADDRESS_FAILURES", ADDRESS_FAILURES)
    config.setdefault("LOGIN_ACCOUNT_FAILURES", ACCOUNT_FAILURES)
    config.setdefault("LOGIN_WINDOW_SECONDS", WINDOW_SECONDS)
    config.setdefault("RATELIMIT_STORAGE_URI", storage_uri(config["FORMSERVICE_REDIS_URL"]))
    config.setdefault(
        "RATELIMIT_STORAGE_OPTIONS", {"socket_connect_timeout": 2, "socket_timeout": 2}
    )
    limiter.init_app(app)


def storage_uri(redis_url: str | None) -> str:
    """Flask-Limiter's name for FORMSERVICE_REDIS_URL (`formservice demo` passes its embedded
    Redis as a unix socket). Without a URL each web process counts in its own memory."""
    if not redis_url:
        return "memory://"
    if redis_url.startswith("unix://"):
        return "redis+" + redis_url
    return redis_url


def limit_login(on_account_locked: Callable[[], None]):
    """Check both limits before each login POST; a failed login (401) counts against both.
    `on_account_locked` runs when the account limit refuses a POST (an error in it is logged
    and the refusal stands)."""
    by_address = limiter.limit(_address_limit, methods=["POST"], deduct_when=_failed, scope=ADDRESS)
    by_account = limiter.limit(
        _account_limit,
        key_func=account_key,
        methods=["POST"],
        deduct_when=_failed,
        scope=ACCOUNT,
        on_breach=lambda _limit: on_account_locked(),
    )
    return lambda view: by_address(by_account(view))


def account_key() -> str:
    """The submitted e-mail address as the login lookup normalises it, hashed with the secret
    key: no address, whether anyone has it or not, is kept in Redis."""
    email = request.form.get("email", "").strip().lower()
    secret = current_app.config["SECRET_KEY"].encode()
    return hmac.new(secret, email.encode(), hashlib.sha256).hexdigest()


def retry_at() -> float:
    """When the limit this request ran into lets an attempt through again (Unix time)."""
    limit = limiter.current_limit
    try:
        if limit is not None:
            return float(limit.reset_at)
    except (RedisError, OSError):  # Redis went away after the check
        pass
    return time.time() + current_app.config["LOGIN_WINDOW_SECONDS"]


def _address_limit() -> str:
    return _per_window(current_app.config["LOGIN_ADDRESS_FAILURES"])


def _account_limit() -> str:
    return _per_window(current_app.config["LOGIN_ACCOUNT_FAILURES"])


def _per_window(amount: int) -> str:
    return f"{amount} per {current_app.config['LOGIN_WINDOW_SECONDS']} second"


def _failed(response: Response) -> bool:
    return response.status_code == 401
