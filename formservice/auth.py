"""Login wiring and the role checks that views use."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import Flask, abort
from flask_login import current_user, login_required

from .extensions import db, login_manager
from .models import User


def init_login(app: Flask) -> None:
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Logga in för att fortsätta."
    login_manager.login_message_category = "info"
    login_manager.session_protection = "strong"
    login_manager.user_loader(_load_user)


def _load_user(user_id: str) -> User | None:
    user = db.session.get(User, int(user_id)) if user_id.isdigit() else None
    return user if user is not None and user.active else None


def require(check: Callable[[User], bool]) -> Callable:
    """Decorate a view: logged in, and `check(current_user)` holds, else 403."""

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        @login_required
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if not check(current_user):
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator
