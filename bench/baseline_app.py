"""The baseline of the web benchmarks: a bare Flask + WTForms (Flask-WTF) app.

One form with the same fields, field types and choices as the deviation form (17 fields and the
CSRF token), rendered by a plain template; a valid POST is answered with a redirect and nothing
is stored. No database, no login, no Redis. It is served by formservice's own gunicorn set-up
(`formservice.server.serve`: gthread, 2 workers x 4 threads, the same access log), so that the
only difference to `formservice web` is the app.

    python -m bench.baseline_app --port 5099 [--workers 2]
"""

from __future__ import annotations

import argparse
from collections.abc import Callable

from flask import Flask, redirect, render_template
from flask_wtf import FlaskForm
from jinja2 import DictLoader
from wtforms import (
    BooleanField,
    DateField,
    HiddenField,
    MultipleFileField,
    RadioField,
    SelectField,
    SelectMultipleField,
    SubmitField,
    TextAreaField,
    widgets,
)
from wtforms.validators import DataRequired, InputRequired, Optional

from formservice.domain.deviation import AGE_GROUPS, DEFAULT_CATEGORIES, GENDERS

UNITS = [
    ("familjeenheten-skarpnack", "Familjeenheten Skarpnäck"),
    ("grundskola-skarpnack", "Skarpnäcks grundskola"),
    ("forskola-skarpnack", "Förskolan Skarpnäck"),
    ("bup-farsta", "BUP Farsta"),
    ("hc-soderstaden", "HC Söderstaden"),
]
YES_NO = [("ja", "Ja"), ("nej", "Nej")]


class Checkboxes(SelectMultipleField):
    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


class BaselineForm(FlaskForm):
    reporting_unit = SelectField("Rapporterande verksamhet", choices=UNITS[:1])
    receiving_unit = SelectField("Mottagande verksamhet", choices=[("", "Välj"), *UNITS])
    event_date = DateField("Datum för händelsen", validators=[InputRequired()])
    categories = Checkboxes(
        "Avvikelsen avser", choices=list(DEFAULT_CATEGORIES), validators=[DataRequired()]
    )
    description = TextAreaField("Beskrivning av avvikelsen", validators=[DataRequired()])
    actions_taken = TextAreaField("Vad har gjorts?", validators=[DataRequired()])
    bus_individ = RadioField("Behandlat i BUS-individ?", choices=YES_NO)
    bus_individ_date = DateField("Datum för BUS-individ", validators=[Optional()])
    proposal = TextAreaField("Förslag till åtgärd", validators=[Optional()])
    child_gender = RadioField("Barnets kön", choices=list(GENDERS.items()))
    age_group = RadioField("Åldersgrupp", choices=list(AGE_GROUPS.items()), validators=[Optional()])
    attachments = MultipleFileField("Bilagor")
    attest = BooleanField("Jag intygar att rapporten är avidentifierad")
    sip_id = HiddenField()
    bus_individ_id = HiddenField()
    send = SubmitField("Skicka avvikelsen")
    save_draft = SubmitField("Spara som utkast")


PAGE = """<!doctype html>
<html lang="sv"><head><meta charset="utf-8"><title>Avvikelse</title></head><body>
<h1>Avvikelse i BUS-samverkan</h1>
<form method="post" enctype="multipart/form-data" novalidate>
{% for field in form %}
<div class="field">{{ field.label }} {{ field() }}
{% for error in field.errors %}<p class="error">{{ error }}</p>{% endfor %}</div>
{% endfor %}
</form></body></html>"""


def create_app(store: Callable[[dict], None] | None = None) -> Flask:
    """The bare app; with `store`, a valid POST's data is passed to it (the floor app)."""
    app = Flask(__name__)
    app.config["SECRET_KEY"] = "baseline-secret"
    app.config["WTF_CSRF_TIME_LIMIT"] = 8 * 3600
    app.jinja_loader = DictLoader({"form.html": PAGE})  # compiled once, cached like a file

    @app.route("/form", methods=["GET", "POST"])
    def form():
        form = BaselineForm()
        if form.validate_on_submit():
            if store is not None:
                store(form.data)
            return redirect("/form?ok=1")
        status = 422 if form.errors else 200
        return render_template("form.html", form=form), status

    return app


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    from formservice import server

    server._Server.load = lambda self: create_app()  # type: ignore[method-assign]  # same settings, another app
    server.serve("127.0.0.1", args.port, args.workers)


if __name__ == "__main__":
    main()
