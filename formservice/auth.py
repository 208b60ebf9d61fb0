"""Login wiring and the role checks that views use."""

from __future__ import annotations

from flask import Flask, has_request_context, request
from flask_login import current_user
from sqlalchemy import BindParameter, Select, bindparam, or_, select
from sqlalchemy.exc import SQLAlchemyError

from .extensions import db, login_manager
from .models import BusGroup, User

_LEADS = "formservice.leads_a_group.{}"


def current() -> User:
    """The logged-in user as the model object (views behind `login_required`)."""
    return current_user._get_current_object()


def init_login(app: Flask) -> None:
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Logga in för att fortsätta."
    login_manager.login_message_category = "info"
    login_manager.session_protection = "strong"
    login_manager.user_loader(_load_user)


def _load_user(user_id: str) -> User | None:
    """The logged-in user, and in the same query whether the menu shows the steering group's
    links (`leads_a_group`), which every page asks. The session holds `<id>.<token_version>`
    (`User.get_id`), so a session begun before the password changed ends."""
    uid_text, _, version_text = user_id.partition(".")
    version_text = version_text or "0"  # a session from before versions: version 0
    if not (uid_text.isdigit() and version_text.isdigit()):
        return None
    uid = int(uid_text)
    row = db.session.execute(_USER_AND_LEADS, {"user_id": uid}).first()
    if row is None:
        return None
    user, leads = row
    if not user.active:  # removed from the directory: the session ends
        return None
    if user.token_version != int(version_text):  # the password changed since: it ends
        return None
    if has_request_context():
        request.environ[_LEADS.format(uid)] = leads
    return user


def _leads(user_id: int | BindParameter[int]) -> Select[str]:
    """Active groups the user is secretary or convener of (an inactive group shows nothing)."""
    return select(BusGroup.id).where(
        BusGroup.active, or_(BusGroup.secretary_id == user_id, BusGroup.convener_id == user_id)
    )


_USER_AND_LEADS = select(User, _leads(bindparam("user_id")).exists()).where(
    User.id == bindparam("user_id")
)  # built once: every request loads the user


def leads_a_group(user_id: int) -> bool:
    """Secretary or convener of some BUS group: the menu's "Styrgrupp" and "Statistik".
    Known from loading the user; otherwise asked once and kept for the rest of the request."""
    environ = request.environ if has_request_context() else {}
    key = _LEADS.format(user_id)
    if key not in environ:
        try:
            environ[key] = db.session.scalar(_leads(user_id).limit(1)) is not None
        except SQLAlchemyError:  # an error page while the database is away: no link
            db.session.rollback()
            return False
    return environ[key]
