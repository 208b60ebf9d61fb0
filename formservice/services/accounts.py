"""Who someone is, one way in: passwords (argon2 hashes), invitation and reset links, and the
one decision whether a person may start a session (`admission`), which every front door asks
(password and code, OpenID Connect sign-on). The limits on failures are in ratelimit.py, the
second factor in services/second_factor.py."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from sqlalchemy import func, select, update

from .. import access, queue
from ..domain import passwords
from ..domain.passwords import Problem
from ..extensions import db
from ..models import User
from ..tokens import INVITE, RESET, LinkError, make_account_token, read_account_token
from . import audit, directory, outbox, rows_changed, second_factor

MIN_PASSWORD_LENGTH = passwords.MIN_LENGTH
#: Outbox kinds of account e-mail: the link is made when the worker renders the message.
INVITATION, PASSWORD_RESET = "invitation", "password_reset"
ACCOUNT_MAIL = {INVITATION: INVITE, PASSWORD_RESET: RESET}


@cache
def _hasher() -> PasswordHasher:
    return PasswordHasher()


class WeakPassword(ValueError):
    """The password breaks the rule (domain.passwords); `problem` says how."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.kind)
        self.problem = problem


class LinkDead(Exception):
    """An invitation or reset link that cannot be used: `reason` is "invalid", "expired",
    "used" (or superseded by a newer password) or "inactive"."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Admission(enum.Enum):
    """What a front door does with a person whose first factor it has checked."""

    START = "start"  # start the session
    CODE = "code"  # ask for the code from the app (or a recovery code)
    ENROL = "enrol"  # the role needs a second factor the person has not set up: set it up
    INACTIVE = "inactive"  # not (or no longer) in the directory: no session


def find_user(email: str) -> User | None:
    return db.session.scalar(select(User).where(func.lower(User.email) == email.strip().lower()))


def administrators() -> list[User]:
    """The active administrators (whom a person without a role asks)."""
    query = select(User).where(User.active, User.is_admin).order_by(User.name)
    return list(db.session.scalars(query))


def personal_words(user: User) -> tuple[str, ...]:
    """What a password of this person must not be built on."""
    return (user.name, user.email)


def password_problem(user: User, password: str) -> Problem | None:
    return passwords.problem(password, personal_words(user))


def set_password(user: User, password: str, actor: User | str = "system") -> None:
    """Set a password that keeps the rule; every earlier link and session ends."""
    problem = password_problem(user, password)
    if problem is not None:
        raise WeakPassword(problem)
    user.password_hash = _hasher().hash(password)
    user.token_version += 1
    audit.record(actor, "account.password_set", "user", user.id)
    db.session.commit()


def authenticate(email: str, password: str) -> User | None:
    """The active user whose password this is, or None; a failure is recorded (a success is
    recorded when the session starts, `start_session`)."""
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
    return user


def record_locked(email: str) -> None:
    """Record a login refused because the failures with this address are used up (the
    visitor is told the same whether or not it is an account's)."""
    user = find_user(email)
    audit.record(user if user is not None else "anonym", "login.locked")
    db.session.commit()


def requires_second_factor(user: User) -> bool:
    """Whether one of the user's roles is in FORMSERVICE_REQUIRE_2FA."""
    required = current_app.config["FORMSERVICE_REQUIRE_2FA"]
    return bool(required and access.roles(user) & required)


def admission(user: User, second_factor_done: bool = False) -> Admission:
    """May this person start a session, now that a front door has checked who it is?

    Active in the directory; and the second factor done when the person has one (set up
    by choice or because a role in FORMSERVICE_REQUIRE_2FA needs it). A lock after failed
    attempts belongs to the door that counts them (ratelimit.py refuses before a password
    or code is checked), so sign-on through another door is not blocked by a stranger
    guessing passwords."""
    if not user.active:
        return Admission.INACTIVE
    if second_factor_done:
        return Admission.START
    if second_factor.enrolled(user):
        return Admission.CODE
    if requires_second_factor(user):
        return Admission.ENROL
    return Admission.START


def start_session(user: User, method: str) -> None:
    """Record the login (`method`: password, totp, recovery_code, enrolment, oidc, demo)."""
    audit.record(user, "login", "user", user.id, method=method)
    db.session.commit()


# --- sign-on (OpenID Connect) ---------------------------------------------------------------


def signed_on_person(email: str) -> tuple[User | None, str]:
    """The active person of the directory with the address the provider verified, or None
    and why: "unknown" (recorded `login.sign_on_unknown`, without the address) or "inactive"
    (recorded `login.sign_on_refused`). No account is made on the fly."""
    user = find_user(email)
    if user is None:
        audit.record("anonym", "login.sign_on_unknown")
        db.session.commit()
        return None, "unknown"
    if not user.active:
        audit.record(user, "login.sign_on_refused", "user", user.id, reason="inactive")
        db.session.commit()
        return None, "inactive"
    return user, ""


def record_sign_on_refused(reason: str, user: User | None = None) -> None:
    """A sign-on refused before or after the directory was asked (`reason`: a code of
    sign_on.SignOnFailed)."""
    if user is None:
        audit.record("anonym", "login.sign_on_refused", reason=reason)
    else:
        audit.record(user, "login.sign_on_refused", "user", user.id, reason=reason)
    db.session.commit()


def may_use_password(user: User) -> bool:
    """With FORMSERVICE_PASSWORD_LOGIN=false only the break-glass administrators (listed in
    FORMSERVICE_BREAK_GLASS and administrators in the directory) log in with a password."""
    config = current_app.config
    if config["FORMSERVICE_PASSWORD_LOGIN"]:
        return True
    listed = user.email.strip().lower() in config["FORMSERVICE_BREAK_GLASS"]
    return listed and access.ADMIN in access.roles(user)


def record_password_closed(user: User) -> None:
    """A right password from someone who may not use it (FORMSERVICE_PASSWORD_LOGIN=false):
    a failed login like a wrong password."""
    audit.record(user, "login.failed", "user", user.id, reason="password_login")
    db.session.commit()


def record_code_failed(user: User) -> None:
    audit.record(user, "login.code_failed", "user", user.id)
    db.session.commit()


def change_password(user: User, current: str, new: str) -> bool:
    """ "Mitt konto": False (recorded) when `current` is not the password; else set `new`."""
    try:
        _hasher().verify(user.password_hash or "", current)
    except (VerificationError, InvalidHashError):
        audit.record(user, "account.password_change_failed", "user", user.id)
        db.session.commit()
        return False
    set_password(user, new, actor=user)
    return True


# --- invitation and reset links ------------------------------------------------------------


def invite(person: User, actor: User) -> bool:
    """Mail the person a link to choose a password (valid FORMSERVICE_INVITE_DAYS, once);
    False, and nothing sent, for a person no longer active."""
    if not person.active:
        return False
    ids = outbox.write(outbox.rows(INVITATION, [person]))
    audit.record(actor, "account.invited", "user", person.id)
    db.session.commit()
    queue.enqueue_deliveries(ids)
    return True


def request_reset(email: str) -> None:
    """ "Glömt lösenordet?": the same work whether or not anyone has the address. The web
    request writes one outbox row to the address as typed and one anonymous audit event;
    the worker decides: the row is sent, with a link made then, only if an active person
    has the address (`outbox.claim`), else it is deleted unsent."""
    address = email.strip().lower()
    ids = outbox.write(outbox.rows(PASSWORD_RESET, [address]))
    audit.record("anonym", "account.reset_requested")
    db.session.commit()
    queue.enqueue_deliveries(ids)


def link_token(kind: str, email: str) -> str | None:
    """The worker's link for an account e-mail, made when it is sent: for the active person
    with this address, at the person's token version. None (the row goes unsent) for no such
    person, and for a reset asked by someone who may not log in with a password."""
    user = find_user(email)
    if user is None or not user.active:
        return None
    if kind == PASSWORD_RESET and not may_use_password(user):
        return None  # signs on with the organisation's account: a reset link would not help
    return make_account_token(ACCOUNT_MAIL[kind], user.id, user.token_version)


def link_holder(token: str, purpose: str) -> User:
    """The person an invitation or reset link is for, if it can still be used."""
    try:
        link = read_account_token(token, purpose)
    except LinkError as exc:
        raise LinkDead(exc.reason) from exc
    user = db.session.get(User, link.user_id)
    if user is None:
        raise LinkDead("invalid")
    if not user.active:
        raise LinkDead("inactive")
    if user.token_version != link.version:
        raise LinkDead("used")
    return user


def set_password_with_link(token: str, purpose: str, password: str) -> User:
    """Choose a password through an invitation or reset link: the link works once (the
    version moves on in the same conditional UPDATE, so two posts of one link cannot both
    win)."""
    user = link_holder(token, purpose)
    problem = password_problem(user, password)
    if problem is not None:
        raise WeakPassword(problem)
    version = user.token_version
    changed = rows_changed(
        update(User)
        .where(User.id == user.id, User.token_version == version, User.active)
        .values(password_hash=_hasher().hash(password), token_version=version + 1)
        .execution_options(synchronize_session=False)
    )
    if changed != 1:
        db.session.rollback()
        raise LinkDead("used")
    audit.record(user, "account.password_set", "user", user.id, via=purpose)
    db.session.commit()
    db.session.refresh(user)
    return user


def record_unlocked(person: User, actor: User) -> None:
    """An administrator ended the person's lock after failed logins (ratelimit.unlock)."""
    audit.record(actor, "account.unlocked", "user", person.id)
    db.session.commit()


@dataclass(frozen=True)
class DemoAccount:
    """A person the demo's login page offers to sign in as, with what the directory gives
    them (the template names the roles)."""

    user: User
    roles: directory.Roles


#: The order of the demo's accounts: the steering group's, the chefs, then the others.
_DEMO_ORDER = ("secretary_of", "convener_of", "chef_of", "deputy_of")


def demo_accounts() -> list[DemoAccount]:
    """Every active person of the directory with their roles, for the demo's login page
    (demo mode only: `views.auth.login` asks only when FORMSERVICE_DEMO is set)."""
    people = db.session.scalars(select(User).where(User.active).order_by(User.name, User.email))
    found = [DemoAccount(user, directory.roles_of(user)) for user in people]
    return sorted(found, key=_demo_rank)


def _demo_rank(account: DemoAccount) -> int:
    for rank, name in enumerate(_DEMO_ORDER):
        if getattr(account.roles, name):
            return rank
    return len(_DEMO_ORDER) + (0 if account.user.is_secretariat else 1)
