"""Passwords and logins (argon2 hashes; lockout after repeated failures)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select

from ..extensions import db
from ..models import User
from . import audit

MAX_FAILURES = 5
LOCKOUT = timedelta(minutes=15)
MIN_PASSWORD_LENGTH = 10


@cache
def _hasher() -> PasswordHasher:
    return PasswordHasher()


class PasswordTooShort(ValueError):
    pass


def find_user(email: str) -> User | None:
    return db.session.scalar(select(User).where(func.lower(User.email) == email.strip().lower()))


def set_password(user: User, password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise PasswordTooShort(f"Lösenordet måste ha minst {MIN_PASSWORD_LENGTH} tecken.")
    user.password_hash = _hasher().hash(password)
    user.failed_logins = 0
    user.locked_until = None
    audit.record("system", "account.password_set", "user", user.id)
    db.session.commit()


def authenticate(email: str, password: str) -> tuple[User | None, str | None]:
    """The user, or None and the reason ("invalid" or "locked"); records the attempt."""
    user = find_user(email)
    now = datetime.now(UTC)
    if user is None or not user.active or not user.password_hash:
        _hasher().hash(password)  # spend the same time as a real check
        audit.record("anonym", "login.failed")
        db.session.commit()
        return None, "invalid"
    if user.locked_until and user.locked_until > now:
        audit.record(user, "login.locked")
        db.session.commit()
        return None, "locked"
    try:
        _hasher().verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        user.failed_logins += 1
        if user.failed_logins >= MAX_FAILURES:
            user.locked_until = now + LOCKOUT
            user.failed_logins = 0
        audit.record(user, "login.failed")
        db.session.commit()
        return None, "invalid"
    user.failed_logins = 0
    user.locked_until = None
    audit.record(user, "login")
    db.session.commit()
    return user, None
