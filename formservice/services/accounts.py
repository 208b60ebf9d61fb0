"""Passwords and logins (argon2 hashes); the limits on failed logins are in ratelimit.py."""

from __future__ import annotations

from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select

from ..extensions import db
from ..models import User
from . import audit

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
    audit.record("system", "account.password_set", "user", user.id)
    db.session.commit()


def authenticate(email: str, password: str) -> User | None:
    """The user whose password this is, or None; records the attempt either way."""
    user = find_user(email)
    if user is None or not user.active or not user.password_hash:
        _hasher().hash(password)  # spend the same time as a real check
        audit.record("anonym", "login.failed")
        db.session.commit()
        return None
    try:
        _hasher().verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        audit.record(user, "login.failed")
        db.session.commit()
        return None
    audit.record(user, "login")
    db.session.commit()
    return user


def record_locked(email: str) -> None:
    """Record a login refused because the failures with this address are used up (the
    visitor is told the same whether or not it is an account's)."""
    user = find_user(email)
    audit.record(user if user is not None else "anonym", "login.locked")
    db.session.commit()
