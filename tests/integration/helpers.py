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


def add_farsta_group(secretary: str) -> None:
    """The demo directory plus a second local BUS group (Farsta) whose secretary is
    `secretary`, with a unit of its own; everyone new gets the test password."""
    import yaml

    from formservice.services.directory import import_directory
    from tests.support.accounts import give_password
    from tests.support.paths import DEMO_DIRECTORY

    data = yaml.safe_load(DEMO_DIRECTORY.read_text(encoding="utf-8"))
    data["bus_groups"].append(
        {
            "id": "farsta",
            "name": "Lokal BUS Farsta",
            "convener": {"name": "Olle Ordf", "email": "olle.ordf@stad.example"},
            "secretary": {"name": "Stina Sekreterare", "email": secretary},
        }
    )
    data["units"].append(
        {
            "id": "forskola-farsta",
            "name": "Förskolan Farsta",
            "huvudman": "stockholms-stad",
            "type": "forskola",
            "bus_groups": ["farsta"],
            "chef": {"name": "Fredrik Farsta", "email": "fredrik.farsta@stad.example"},
        }
    )
    import_directory(data)
    give_password(db.session.scalars(select(User).where(User.password_hash.is_(None))))


def send_report(**overrides):
    return deviations_service.save(user(CHEF_A), report_input(**overrides), send=True).deviation
