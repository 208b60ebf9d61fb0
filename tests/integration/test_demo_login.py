"""The demo's login page (issue 16): every demo account with its roles and a "Logga in som …"
button, in demo mode only. Outside it the buttons and the route do not exist, and no request
can bring them: the mode is read from the settings when the app is made."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from formservice import create_app
from formservice.extensions import db
from formservice.models import AuditEvent, User
from tests.support.app import base_config

from .helpers import SECRETARY, user

ACCOUNT = re.compile(r'action="/demo/logga-in-som/(\d+)"')


@pytest.fixture
def demo_app(directory, db_url, smtp_sink, tmp_path):
    """The same database as `directory`, served by an app in demo mode with CSRF on."""
    config = base_config(db_url, smtp_sink, tmp_path) | {
        "FORMSERVICE_DEMO": True,
        "FORMSERVICE_REQUIRE_2FA": "admin",
    }
    app = create_app(config)
    app.instance_path = str(tmp_path / "demo-instance")
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()


def _token(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def test_the_demo_login_page_lists_every_account_with_its_roles(demo_app):
    page = demo_app.test_client().get("/logga-in").get_data(as_text=True)
    active = db.session.scalars(select(User).where(User.active)).all()
    assert {int(i) for i in ACCOUNT.findall(page)} == {person.id for person in active}
    for person in active:
        assert f"Logga in som {person.name}</button>" in page
    assert "Sekreterare, Lokal BUS Skarpnäck" in page
    assert "Sammankallande, Lokal BUS Skarpnäck" in page
    assert "Chef, BUP Farsta" in page and "Ersättare, BUP Farsta" in page
    assert "BUS-sekretariatet" in page and "Systemförvaltare" in page


def test_a_button_signs_in_as_the_person(demo_app):
    client = demo_app.test_client()
    page = client.get("/logga-in").get_data(as_text=True)
    secretary = user(SECRETARY)
    response = client.post(
        f"/demo/logga-in-som/{secretary.id}",
        data={"csrf_token": _token(page)},
        headers={"Referer": "http://localhost/logga-in"},
    )
    assert response.status_code == 302 and response.headers["Location"] == "/avvikelser"
    assert client.get("/avvikelser").status_code == 200
    event = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "login").order_by(AuditEvent.id.desc())
    ).first()
    assert event.user_id == secretary.id and event.detail == {"method": "demo"}


def test_the_button_needs_the_csrf_token(demo_app):
    client = demo_app.test_client()
    response = client.post(f"/demo/logga-in-som/{user(SECRETARY).id}")
    assert response.status_code == 400
    assert client.get("/avvikelser").status_code == 302  # still logged out


def test_the_second_factor_a_role_needs_is_still_asked_for(demo_app):
    client = demo_app.test_client()
    page = client.get("/logga-in").get_data(as_text=True)
    admin = user("ada@stad.example")
    response = client.post(
        f"/demo/logga-in-som/{admin.id}",
        data={"csrf_token": _token(page)},
        headers={"Referer": "http://localhost/logga-in"},
    )
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/mitt-konto/tvastegsverifiering")
    assert client.get("/admin").status_code == 302  # no session before the app is set up


def test_no_account_for_someone_not_in_the_directory(demo_app):
    client = demo_app.test_client()
    page = client.get("/logga-in").get_data(as_text=True)
    person = user("frans.forskolechef@stad.example")
    person.active = False
    db.session.commit()
    for target in (person.id, 999_999):
        response = client.post(
            f"/demo/logga-in-som/{target}",
            data={"csrf_token": _token(page)},
            headers={"Referer": "http://localhost/logga-in"},
        )
        assert response.status_code == 404


@pytest.mark.parametrize(
    "ask",
    [
        {},
        {"query_string": {"demo": "1", "FORMSERVICE_DEMO": "1"}},
        {"headers": {"X-Formservice-Demo": "1", "Cookie": "FORMSERVICE_DEMO=1"}},
        {"data": {"FORMSERVICE_DEMO": "1", "demo": "1"}},
    ],
    ids=["plain", "query", "headers", "form"],
)
def test_outside_demo_mode_there_are_no_buttons_and_no_route(directory, ask):
    client = directory.test_client()
    page = client.get("/logga-in", **{k: v for k, v in ask.items() if k != "data"})
    assert "Logga in som" not in page.get_data(as_text=True)
    assert "Demokonton" not in page.get_data(as_text=True)
    secretary = user(SECRETARY)
    assert client.post(f"/demo/logga-in-som/{secretary.id}", **ask).status_code == 404
    assert client.get("/avvikelser").status_code == 302  # nobody was logged in
    rules = {rule.rule for rule in directory.url_map.iter_rules()}
    assert not any(rule.startswith("/demo") for rule in rules)
