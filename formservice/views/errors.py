"""Error pages: always a clear Swedish page, never a stack trace."""

from __future__ import annotations

import logging

from flask import Flask, g, render_template
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException, InternalServerError, ServiceUnavailable

from ..extensions import db, login_manager

log = logging.getLogger(__name__)

MESSAGES = {
    400: ("Felaktig begäran", "Sidan kunde inte visas för att begäran var felaktig."),
    403: ("Åtkomst nekad", "Du har inte behörighet till den här sidan."),
    404: ("Sidan finns inte", "Sidan eller ärendet du söker finns inte."),
    405: ("Otillåten metod", "Sidan kan inte användas på det sättet."),
    413: ("För stor fil", "Filerna är för stora. Välj mindre filer och försök igen."),
    429: (
        "För många försök",
        "Det har gjorts för många inloggningsförsök härifrån. Vänta en kvart och försök igen.",
    ),
    500: ("Något gick fel", "Ett oväntat fel inträffade. Inget av det du skickat har sparats."),
    503: (
        "Tjänsten är tillfälligt otillgänglig",
        "Databasen svarar inte just nu. Inget har sparats. Försök igen om en stund.",
    ),
}


def register_error_handlers(app: Flask) -> None:
    app.register_error_handler(CSRFError, _csrf)
    app.register_error_handler(OperationalError, _database_down)
    app.register_error_handler(HTTPException, _http)
    app.register_error_handler(Exception, _unexpected)


def render_error(code: int, detail: str | None = None) -> tuple[str, int]:
    title, text = MESSAGES.get(code, MESSAGES[400])
    return render_template("html/error.html", code=code, title=title, text=detail or text), code


def _http(exc: HTTPException) -> HTTPException | tuple[str, int]:
    if exc.code is None or exc.code < 400:
        return exc
    return render_error(exc.code)


def _csrf(exc: CSRFError) -> tuple[str, int]:
    return render_error(
        400,
        "Formuläret hade gått ut eller saknade sin säkerhetskod. Ladda om sidan och skicka igen.",
    )


def _database_down(exc: OperationalError) -> tuple[str, int]:
    db.session.rollback()
    log.error("database unavailable: %s", type(exc.orig).__name__)
    # The page must not need the database: the header's user and menu come from it, so the
    # page is drawn as for a visitor (Flask-Login keeps the request's user in g._login_user).
    g._login_user = login_manager.anonymous_user()
    return render_error(ServiceUnavailable.code)


def _unexpected(exc: Exception) -> tuple[str, int]:
    db.session.rollback()
    log.exception("unexpected error: %s", type(exc).__name__)
    return render_error(InternalServerError.code)
