"""The one password of every test person, and giving it to people."""

from __future__ import annotations

import functools
from collections.abc import Iterable

from sqlalchemy import create_engine, update

from formservice.extensions import db
from formservice.models import User

#: The password of everyone the tests, fault tests and benchmarks log in as.
PASSWORD = "test-lösenord-123"


@functools.cache
def password_hash() -> str:
    """PASSWORD hashed as the app stores it (made once: hashing is slow on purpose)."""
    from argon2 import PasswordHasher

    return PasswordHasher().hash(PASSWORD)


def give_password(users: Iterable[User]) -> None:
    """PASSWORD for `users`, committed (in the app context)."""
    hashed = password_hash()
    for user in users:
        user.password_hash = hashed
    db.session.commit()


def give_password_in(database_url: str, emails: Iterable[str]) -> None:
    """PASSWORD for the people with `emails` in a live stack's database (no app context)."""
    engine = create_engine(database_url)
    try:
        with engine.begin() as conn:
            conn.execute(
                update(User.__table__)
                .where(User.__table__.c.email.in_(list(emails)))
                .values(password_hash=password_hash())
            )
    finally:
        engine.dispose()
