"""The second factor: TOTP (pyotp) and recovery codes.

The TOTP secret is stored encrypted (Fernet, with a key derived from FORMSERVICE_SECRET_KEY by
HKDF): a copy of the database alone does not give the codes. A new secret key makes the stored
secrets unreadable; the person then logs in with a recovery code (hashed with SHA-256 only:
they are random 80-bit values, so no key is needed to keep them unguessable) or an
administrator resets the second factor. Codes are checked for the time step before and after
the current one (clock drift), and a time step is accepted once per person."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from functools import cache

import pyotp
from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app
from sqlalchemy import delete, func, insert, or_, select, update

from .. import clock
from ..extensions import db
from ..models import RecoveryCode, User
from . import audit, rows_changed

ISSUER = "BUS-formservice"
RECOVERY_CODES = 10
#: Recovery codes: 16 characters from 31 that cannot be mistaken for each other (79 bits),
#: shown in groups of four.
_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
_CODE_LENGTH = 16
#: A TOTP code: six digits (spaces allowed when typed).
_TOTP = re.compile(r"\d{6}")


@cache
def _fernet(secret_key: str) -> Fernet:
    derived = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"formservice.totp-secret.v1"
    ).derive(secret_key.encode())
    return Fernet(base64.urlsafe_b64encode(derived))


def _encrypt(secret: str) -> str:
    return _fernet(current_app.config["SECRET_KEY"]).encrypt(secret.encode()).decode()


def _decrypt(stored: str | None) -> str | None:
    if not stored:
        return None
    try:
        return _fernet(current_app.config["SECRET_KEY"]).decrypt(stored.encode()).decode()
    except InvalidToken:  # another secret key: the secret cannot be read
        return None


def enrolled(user: User) -> bool:
    return user.totp_enabled_at is not None


def begin(user: User) -> None:
    """Start setting up the app: a new secret, not in use until a code from it is
    confirmed (`confirm`). Nothing changes for someone who has the app set up."""
    if enrolled(user):
        return
    user.totp_secret = _encrypt(pyotp.random_base32())
    user.totp_last_step = None
    db.session.commit()


def pending_secret(user: User) -> str | None:
    """The secret being set up (shown to the person as text and as a QR code)."""
    return None if enrolled(user) else _decrypt(user.totp_secret)


def provisioning_uri(user: User, secret: str) -> str:
    """The otpauth:// address the app reads from the QR code."""
    return pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name=ISSUER)


def confirm(user: User, code: str) -> list[str] | None:
    """Take the app into use when `code` is right; the new recovery codes (shown once), or
    None when the code is wrong or nothing is being set up."""
    secret = pending_secret(user)
    if secret is None or not _accept_totp(user, secret, code):
        db.session.rollback()
        return None
    user.totp_enabled_at = clock.now()
    codes = _replace_recovery_codes(user)
    audit.record(user, "account.second_factor_enrolled", "user", user.id)
    db.session.commit()
    return codes


def verify(user: User, code: str) -> str | None:
    """Check a code from the app or a recovery code (each used up by this); "totp" or
    "recovery_code" for which one it was, None when neither."""
    if not enrolled(user):
        return None
    secret = _decrypt(user.totp_secret)
    if secret is not None and _accept_totp(user, secret, code):
        db.session.commit()
        return "totp"
    if _use_recovery_code(user, code):
        audit.record(user, "account.recovery_code_used", "user", user.id)
        db.session.commit()
        return "recovery_code"
    db.session.rollback()
    return None


def recovery_codes_left(user: User) -> int:
    query = select(func.count()).where(
        RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None)
    )
    return db.session.scalar(query) or 0


def new_recovery_codes(user: User) -> list[str]:
    """New recovery codes (shown once); the old ones stop working."""
    codes = _replace_recovery_codes(user)
    audit.record(user, "account.recovery_codes_renewed", "user", user.id)
    db.session.commit()
    return codes


def disable(user: User, code: str) -> bool:
    """The person turns the app off, confirming with a code (or a recovery code)."""
    if verify(user, code) is None:
        return False
    _clear(user)
    audit.record(user, "account.second_factor_disabled", "user", user.id)
    db.session.commit()
    return True


def reset(person: User, actor: User) -> None:
    """An administrator removes the person's second factor (a lost phone): at the next login
    the person sets it up again if a role needs it."""
    _clear(person)
    audit.record(actor, "account.second_factor_reset", "user", person.id)
    db.session.commit()


def _clear(user: User) -> None:
    user.totp_secret = None
    user.totp_enabled_at = None
    user.totp_last_step = None
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))


def _accept_totp(user: User, secret: str, code: str) -> bool:
    """Whether `code` is the app's for a time step near now not used before; that step is
    then recorded (one conditional UPDATE: two requests cannot both use it)."""
    typed = re.sub(r"\s", "", code)
    if not _TOTP.fullmatch(typed):
        return False
    totp = pyotp.TOTP(secret)
    current = totp.timecode(clock.now())
    for step in (current - 1, current, current + 1):
        if hmac.compare_digest(totp.generate_otp(step), typed):
            used = rows_changed(
                update(User)
                .where(
                    User.id == user.id,
                    or_(User.totp_last_step.is_(None), User.totp_last_step < step),
                )
                .values(totp_last_step=step)
                .execution_options(synchronize_session=False)
            )
            if used == 1:
                user.totp_last_step = step
            return used == 1
    return False


def _normalise(code: str) -> str:
    return re.sub(r"[^a-z0-9]", "", code.lower())


def _hash(code: str) -> str:
    return hashlib.sha256(_normalise(code).encode()).hexdigest()


def _replace_recovery_codes(user: User) -> list[str]:
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = [_random_code() for _ in range(RECOVERY_CODES)]
    db.session.execute(
        insert(RecoveryCode.__table__),
        [{"user_id": user.id, "code_hash": _hash(code)} for code in codes],
    )
    return ["-".join(code[i : i + 4] for i in range(0, _CODE_LENGTH, 4)) for code in codes]


def _random_code() -> str:
    return "".join(secrets.choice(_ALPHABET) for _ in range(_CODE_LENGTH))


def _use_recovery_code(user: User, code: str) -> bool:
    if len(_normalise(code)) != _CODE_LENGTH:
        return False
    used = rows_changed(
        update(RecoveryCode)
        .where(
            RecoveryCode.user_id == user.id,
            RecoveryCode.code_hash == _hash(code),
            RecoveryCode.used_at.is_(None),
        )
        .values(used_at=clock.now())
        .execution_options(synchronize_session=False)
    )
    return used == 1
