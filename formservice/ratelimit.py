"""Limits on failed logins, per client address and per account, and on reset links asked for
(Flask-Limiter on Redis).

Only failures count: a wrong password, a wrong code from the app, a wrong current password
when changing it; the three share one count per account and one per address. The account
limit is keyed on the submitted e-mail address whether or not an account has it, so a locked
account and an unknown address answer alike, and the lock lifts by itself (or when an
administrator clears it: `unlock`). Every web worker shares the counts in Redis; while Redis
is down each worker counts in its own memory instead (never a 500, never no limit at all)."""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Callable
from typing import Any

from flask import Flask, current_app, request
from flask.wrappers import Response
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from limits import parse
from redis.exceptions import RedisError

#: A view decorator.
Decorator = Callable[[Callable[..., Any]], Callable[..., Any]]

#: Failed logins from one client address within the window. High, because a municipality's
#: NAT or proxy puts many people behind one address.
ADDRESS_FAILURES = 100
#: Failed logins with one e-mail address (an account's or not) within the window; after
#: that, nobody logs in with it until the oldest of those failures has left the window.
ACCOUNT_FAILURES = 10
#: The window in seconds; it moves: each failure counts for this long.
WINDOW_SECONDS = 15 * 60

#: Reset links asked for with one e-mail address (an account's or not) within RESET_WINDOW.
RESET_ACCOUNT_REQUESTS = 3
#: Reset links asked for from one client address within RESET_WINDOW (a NAT again).
RESET_ADDRESS_REQUESTS = 30
RESET_WINDOW_SECONDS = 60 * 60

#: The scopes of the limits: failures per address and per account (shared by the login, the
#: code from the app and the password change), reset links per address and per account.
ADDRESS, ACCOUNT = "address", "account"
RESET_ADDRESS, RESET_ACCOUNT = "reset-address", "reset-account"
KEY_PREFIX = "formservice-login"

limiter = Limiter(
    get_remote_address,  # right behind proxies once ProxyFix sets remote_addr
    strategy="moving-window",
    key_prefix=KEY_PREFIX,
    swallow_errors=True,
    in_memory_fallback_enabled=True,
)


def init_app(app: Flask) -> None:
    """Bind the limiter to the app's Redis; the LOGIN_* numbers can be set by tests."""
    config = app.config
    config.setdefault("LOGIN_ADDRESS_FAILURES", ADDRESS_FAILURES)
    config.setdefault("LOGIN_ACCOUNT_FAILURES", ACCOUNT_FAILURES)
    config.setdefault("LOGIN_WINDOW_SECONDS", WINDOW_SECONDS)
    config.setdefault("RESET_ACCOUNT_REQUESTS", RESET_ACCOUNT_REQUESTS)
    config.setdefault("RESET_ADDRESS_REQUESTS", RESET_ADDRESS_REQUESTS)
    config.setdefault("RESET_WINDOW_SECONDS", RESET_WINDOW_SECONDS)
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


def limit_login(on_account_locked: Callable[[], None]) -> Decorator:
    """Check both limits before each login POST; a failed login (401) counts against both.
    `on_account_locked` runs when the account limit refuses a POST (an error in it is logged
    and the refusal stands)."""
    return limit_failures(account_key, on_account_locked)


def limit_failures(
    key: Callable[[], str], on_account_locked: Callable[[], None] | None = None
) -> Decorator:
    """The failure limits on a POST that checks a secret: a 401 answer counts against the
    client address and against the account `key` names (`key_for_email`), in the buckets
    every such form shares."""
    by_address = limiter.shared_limit(
        _address_limit, ADDRESS, methods=["POST"], deduct_when=_failed
    )
    by_account = limiter.shared_limit(
        _account_limit,
        ACCOUNT,
        key_func=key,
        methods=["POST"],
        deduct_when=_failed,
        on_breach=(lambda _limit: on_account_locked()) if on_account_locked else None,
    )
    return lambda view: by_address(by_account(view))


def limit_sign_on() -> Decorator:
    """Sign-on callbacks that fail a check (401: bad state, a used code, a bad token) count
    against the client address, in the bucket the password door uses. The provider limits
    the guessing of passwords; this limits hammering its token endpoint through us."""
    return limiter.shared_limit(_address_limit, ADDRESS, methods=["GET"], deduct_when=_failed)


def limit_reset_requests() -> Decorator:
    """Reset links asked for: every accepted POST (200) counts, per client address and per
    submitted e-mail address, whether or not an account has it."""
    by_address = limiter.shared_limit(
        lambda: _reset_limit("RESET_ADDRESS_REQUESTS"),
        RESET_ADDRESS,
        methods=["POST"],
        deduct_when=_accepted,
    )
    by_account = limiter.shared_limit(
        lambda: _reset_limit("RESET_ACCOUNT_REQUESTS"),
        RESET_ACCOUNT,
        key_func=account_key,
        methods=["POST"],
        deduct_when=_accepted,
    )
    return lambda view: by_address(by_account(view))


def account_key() -> str:
    """The submitted e-mail address as the login lookup normalises it, hashed with the secret
    key: no address, whether anyone has it or not, is kept in Redis."""
    return key_for_email(request.form.get("email", ""))


def key_for_email(email: str) -> str:
    """The account limit's key for an e-mail address (normalised, HMAC with the secret key)."""
    secret = current_app.config["SECRET_KEY"].encode()
    normalised = email.strip().lower()
    return hmac.new(secret, normalised.encode(), hashlib.sha256).hexdigest()


def is_locked(email: str) -> bool:
    """Whether the failures with this address have used up the account limit just now."""
    try:
        return not limiter.limiter.test(parse(_account_limit()), *_account_args(email))
    except (RedisError, OSError):
        return False


def unlock(email: str) -> bool:
    """Forget the failures counted against this address: the lock ends at once. False when
    the counts could not be reached (Redis down)."""
    try:
        limiter.limiter.clear(parse(_account_limit()), *_account_args(email))
    except (RedisError, OSError):
        return False
    return True


def _account_args(email: str) -> tuple[str, str, str]:
    """The identifiers Flask-Limiter keys the shared account limit with."""
    return (KEY_PREFIX, key_for_email(email), ACCOUNT)


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


def _reset_limit(name: str) -> str:
    config = current_app.config
    return f"{config[name]} per {config['RESET_WINDOW_SECONDS']} second"


def _failed(response: Response) -> bool:
    return response.status_code == 401


def _accepted(response: Response) -> bool:
    return response.status_code == 200
