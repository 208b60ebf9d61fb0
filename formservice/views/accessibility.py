"""Tillgänglighetsredogörelse: the accessibility statement the law on accessibility of
digital public services (DOS-lagen, 2018:1937) asks for, linked from every page's footer."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, current_app, render_template

bp = Blueprint("accessibility", __name__)

#: When the statement was last reviewed (shown on the page; update it with the statement).
STATEMENT_DATE = date(2026, 12, 3)


@bp.route("/tillganglighet")
def statement() -> str:
    return render_template(
        "html/accessibility.html",
        contact=current_app.config["FORMSERVICE_ACCESSIBILITY_CONTACT"],
        statement_date=STATEMENT_DATE,
    )
