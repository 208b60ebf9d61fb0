"""Building reports for tests: synthetic content only."""

from __future__ import annotations

from datetime import date

from flask import get_template_attribute
from sqlalchemy import select

from formservice.extensions import db
from formservice.models import User
from formservice.services import deviations as deviations_service

CHEF_A = "fia.familj@stad.example"  # familjeenheten-skarpnack
CHEF_B = "ines.sved@region.example"  # bup-farsta
DEPUTY_A = "erik.ersatt@stad.example"
DEPUTY_B = "per.ersatt@region.example"
SECRETARY = "sam.prevent@stad.example"
CONVENER = "vera.callen@stad.example"
SECRETARIAT = ["bus-avvikelser@storsthlm.example", "bus-avvikelser.hsf@regionstockholm.example"]
UNRELATED_CHEF = "hanna.hab@region.example"
ADMIN = "ada@stad.example"
REMISS = "remiss-eller-forfragan-obesvarad-eller-avvisad"  # category codes of form version 1
VANTETID = "vantetid-eller-tillganglighet"


def failure_shown(code: str | None, args: dict | None) -> str:
    """A stored failure code as the pages show it (templates/html/_status.html)."""
    return str(get_template_attribute("html/_status.html", "failure_text")(code, args))


def user(email: str) -> User:
    return db.session.scalar(select(User).where(User.email == email))


def report_input(**overrides) -> deviations_service.DeviationInput:
    values = dict(
        reporting_unit_id="familjeenheten-skarpnack",
        receiving_unit_id="bup-farsta",
        event_date=date(2026, 10, 1),
        categories=[REMISS],
        description="Remissen besvarades inte inom överenskommen tid.",
        actions_taken="Vi ringde mottagningen två gånger.",
        bus_individ=False,
        bus_individ_date=None,
        proposal="Gemensamt möte.",
        child_gender="flicka",
        age_group="6-12",
    )
    values.update(overrides)
    return deviations_service.DeviationInput(**values)


def form_data(**overrides) -> dict:
    """The deviation form as the browser posts it."""
    data = {
        "reporting_unit": "familjeenheten-skarpnack",
        "receiving_unit": "bup-farsta",
        "event_date": "2026-10-01",
        "categories": [REMISS],
        "description": "Remissen besvarades inte inom överenskommen tid.",
        "actions_taken": "Vi ringde mottagningen två gånger.",
        "bus_individ": "nej",
        "bus_individ_date": "",
        "proposal": "",
        "child_gender": "flicka",
        "age_group": "6-12",
        "attest": "y",
        "send": "Skicka avvikelsen",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def answer_input(**overrides) -> deviations_service.AnswerInput:
    values = dict(
        responder_name="Ines Sved",
        assessment="Remissen hade hamnat fel hos oss.",
        actions_taken="Rutinen för inkommande remisser är ändrad.",
        planned_measures=[{"action": "Ny rutin", "responsible": "BUP Farsta", "due": "2026-12-31"}],
        agrees="ja",
        raise_regional=False,
    )
    values.update(overrides)
    return deviations_service.AnswerInput(**values)


def send_report(**overrides):
    return deviations_service.save(user(CHEF_A), report_input(**overrides), send=True).deviation
