"""The second factor for the powerful roles (issue 14, item 3) and the one admission decision:
TOTP set up under "Mitt konto" (or before anything else when a role needs it), the two-step
login, recovery codes, limits on wrong codes, the administrator's reset."""

from __future__ import annotations

import logging
import re
import time

import pyotp
import pytest
from flask import g
from sqlalchemy import select

from formservice import create_app
from formservice.extensions import db
from formservice.models import AuditEvent, RecoveryCode
from formservice.services import accounts, second_factor
from formservice.services.accounts import Admission
from tests.support.app import login

from .helpers import ADMIN, CHEF_A, SECRETARIAT, user

SECRET_TEXT = re.compile(r'<code class="secret">([A-Z2-7 ]+)</code>')
QR = re.compile(r'<img class="qr" src="data:image/svg\+xml')
CODES = re.compile(r"<li><code>([a-z0-9-]{19})</code></li>")


@pytest.fixture
def two_factor(directory):
    """The production default: administrators must have a second factor."""
    directory.config["FORMSERVICE_REQUIRE_2FA"] = frozenset({"admin"})
    # Each request finds its own user, as on a server (the fixture's app context outlives
    # requests, and with it Flask-Login's g._login_user); the tests switch between clients.
    directory.before_request(_forget_user)
    return directory


def _forget_user() -> None:
    g.pop("_login_user", None)


def text(response) -> str:
    return response.get_data(as_text=True)


def events(action: str) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def fresh(client) -> None:
    g.pop("_login_user", None)  # the fixture's app context outlives requests; a server's not


def enrol(client) -> tuple[str, list[str]]:
    """Set up the app from the page as a person would: the secret as shown, a code from it."""
    page = client.get("/mitt-konto/tvastegsverifiering")
    assert page.status_code == 200 and "Ställ in appen" in text(page)
    assert client.post("/mitt-konto/tvastegsverifiering/starta").status_code == 302
    page = text(client.get("/mitt-konto/tvastegsverifiering"))
    assert QR.search(page), "the QR code is drawn here, as a data: URI"
    secret = SECRET_TEXT.search(page).group(1).replace(" ", "")
    wrong = client.post("/mitt-konto/tvastegsverifiering/aktivera", data={"code": "000000"})
    assert wrong.status_code == 422 and "Kod från appen: koden stämmer inte." in text(wrong)
    done = client.post(
        "/mitt-konto/tvastegsverifiering/aktivera", data={"code": pyotp.TOTP(secret).now()}
    )
    assert done.status_code == 200 and "Dina reservkoder" in text(done)
    codes = CODES.findall(text(done))
    assert len(codes) == second_factor.RECOVERY_CODES
    return secret, codes


def next_code(secret: str) -> str:
    """The app's code for the next time step: accepted (clock drift), and not yet used."""
    return pyotp.TOTP(secret).at(time.time() + 30)


def test_the_setting_names_roles_and_defaults_to_admin(app):
    assert create_app({"TESTING": True})
    default = create_app({"TESTING": True, "FORMSERVICE_DATABASE_URL": "sqlite://"})
    assert default.config["FORMSERVICE_REQUIRE_2FA"] == frozenset({"admin"})
    both = create_app(
        {
            "TESTING": True,
            "FORMSERVICE_DATABASE_URL": "sqlite://",
            "FORMSERVICE_REQUIRE_2FA": "admin, BUS_sekretariat",
        }
    )
    assert both.config["FORMSERVICE_REQUIRE_2FA"] == frozenset({"admin", "bus_sekretariat"})
    with pytest.raises(RuntimeError, match="FORMSERVICE_REQUIRE_2FA"):
        create_app({"TESTING": True, "FORMSERVICE_REQUIRE_2FA": "admin,chefer"})


def test_an_administrator_without_the_app_sets_it_up_before_anything_else(two_factor, client):
    response = login(client, ADMIN)
    assert response.status_code == 302
    assert response.headers["Location"] == "/mitt-konto/tvastegsverifiering"
    for path in ("/admin", "/avvikelser", "/mitt-konto"):  # not logged in yet
        assert "/logga-in" in client.get(path).headers["Location"], path
    assert events("login") == []

    secret, codes = enrol(client)
    admin = user(ADMIN)
    assert admin.totp_secret and secret not in admin.totp_secret  # stored encrypted
    assert second_factor.pending_secret(admin) is None and second_factor.enrolled(admin)
    stored = set(db.session.scalars(select(RecoveryCode.code_hash)))
    assert len(stored) == 10 and not {c.replace("-", "") for c in codes} & stored  # hashed
    assert [e.detail for e in events("login")] == [{"method": "enrolment"}]
    assert len(events("account.second_factor_enrolled")) == 1
    fresh(client)
    assert client.get("/admin").status_code == 200  # logged in now


def test_logging_in_with_a_code(two_factor, client, caplog):
    caplog.set_level(logging.DEBUG)
    login(client, ADMIN)
    secret, codes = enrol(client)
    client.post("/logga-ut")
    fresh(client)

    response = login(client, ADMIN)
    assert response.headers["Location"] == "/logga-in/kod"
    assert client.get("/logga-in/kod").status_code == 200
    assert "/logga-in" in client.get("/admin").headers["Location"]  # the password alone: no
    wrong = client.post("/logga-in/kod", data={"code": "123456"})
    assert wrong.status_code == 401 and "Kod från appen: koden stämmer inte" in text(wrong)
    assert len(events("login.code_failed")) == 1

    code = next_code(secret)
    ok = client.post("/logga-in/kod", data={"code": code[:3] + " " + code[3:]})
    assert ok.status_code == 302 and ok.headers["Location"] == "/admin"
    assert events("login")[-1].detail == {"method": "totp"}
    fresh(client)
    assert client.get("/admin").status_code == 200

    client.post("/logga-ut")  # the same code again: refused (a step is used once)
    fresh(client)
    login(client, ADMIN)
    assert client.post("/logga-in/kod", data={"code": code}).status_code == 401

    for value in (secret, code, *codes):
        assert value not in caplog.text


def test_a_recovery_code_works_once(two_factor, client):
    login(client, ADMIN)
    _, codes = enrol(client)
    client.post("/logga-ut")
    fresh(client)
    login(client, ADMIN)
    used = client.post("/logga-in/kod", data={"code": codes[0].upper().replace("-", " ")})
    assert used.status_code == 302
    assert events("account.recovery_code_used") and second_factor.recovery_codes_left(
        user(ADMIN)
    ) == (second_factor.RECOVERY_CODES - 1)
    client.post("/logga-ut")
    fresh(client)
    login(client, ADMIN)
    assert client.post("/logga-in/kod", data={"code": codes[0]}).status_code == 401
    assert client.post("/logga-in/kod", data={"code": codes[1]}).status_code == 302


def test_wrong_codes_are_limited_like_wrong_passwords(two_factor, client):
    two_factor.config["LOGIN_ACCOUNT_FAILURES"] = 3
    login(client, ADMIN)
    secret, _ = enrol(client)
    client.post("/logga-ut")
    fresh(client)
    login(client, ADMIN)
    for _ in range(3):
        assert client.post("/logga-in/kod", data={"code": "000000"}).status_code == 401
    locked = client.post("/logga-in/kod", data={"code": next_code(secret)})
    assert locked.status_code == 429
    assert "inloggningsförsök med den här e-postadressen" in text(locked)
    # the same count as passwords: the password door is locked too
    assert login(two_factor.test_client(), ADMIN).status_code == 429
    assert [e.user_id for e in events("login.locked")] == [user(ADMIN).id] * 2  # both doors


def test_the_administrator_resets_a_second_factor(two_factor, app):
    chef_client, admin_client = app.test_client(), app.test_client()
    login(chef_client, CHEF_A)  # a chef may set up the app by choice
    enrol(chef_client)
    chef_client.post("/logga-ut")
    fresh(chef_client)
    assert login(chef_client, CHEF_A).headers["Location"] == "/logga-in/kod"

    login(admin_client, ADMIN)
    enrol(admin_client)
    fresh(admin_client)
    chef = user(CHEF_A)
    assert admin_client.post(f"/admin/personer/{chef.id}/tvastegsverifiering").status_code == 302
    [reset] = events("account.second_factor_reset")
    assert (reset.actor, reset.object_id) == (ADMIN, str(chef.id))
    db.session.refresh(chef)
    assert not second_factor.enrolled(chef) and chef.totp_secret is None
    assert db.session.scalar(select(RecoveryCode).where(RecoveryCode.user_id == chef.id)) is None

    fresh(chef_client)
    other = app.test_client()
    assert login(other, CHEF_A).headers["Location"] == "/avvikelser#att-besvara"  # no role needs it


def test_a_chef_may_turn_the_app_off_but_an_administrator_may_not(two_factor, app):
    chef_client = app.test_client()
    login(chef_client, CHEF_A)
    secret, _ = enrol(chef_client)
    fresh(chef_client)
    wrong = chef_client.post("/mitt-konto/tvastegsverifiering/stang-av", data={"code": "000000"})
    assert wrong.status_code == 401
    off = chef_client.post(
        "/mitt-konto/tvastegsverifiering/stang-av", data={"code": next_code(secret)}
    )
    assert off.status_code == 302 and not second_factor.enrolled(user(CHEF_A))
    assert len(events("account.second_factor_disabled")) == 1

    admin_client = app.test_client()
    login(admin_client, ADMIN)
    secret, _ = enrol(admin_client)
    fresh(admin_client)
    page = text(admin_client.get("/mitt-konto/tvastegsverifiering"))
    assert "Stäng av tvåstegsverifiering" not in page
    refused = admin_client.post(
        "/mitt-konto/tvastegsverifiering/stang-av", data={"code": next_code(secret)}
    )
    assert refused.status_code == 302 and second_factor.enrolled(user(ADMIN))


def test_new_recovery_codes_replace_the_old(two_factor, client):
    login(client, CHEF_A)
    _, old = enrol(client)
    fresh(client)
    renewed = client.post("/mitt-konto/tvastegsverifiering/reservkoder")
    new = CODES.findall(text(renewed))
    assert len(new) == 10 and not set(new) & set(old)
    chef = user(CHEF_A)
    assert second_factor.verify(chef, old[0]) is None
    assert second_factor.verify(chef, new[0]) == "recovery_code"


def test_the_admission_decision(two_factor):
    """The one decision every front door asks (sign-on will call it with its own answer)."""
    two_factor.config["FORMSERVICE_REQUIRE_2FA"] = frozenset({"admin", "bus_sekretariat"})
    admin, chef, mailbox = user(ADMIN), user(CHEF_A), user(SECRETARIAT[0])
    assert accounts.admission(admin) is Admission.ENROL
    assert accounts.admission(mailbox) is Admission.ENROL
    assert accounts.admission(chef) is Admission.START
    assert accounts.admission(admin, second_factor_done=True) is Admission.START
    second_factor.begin(chef)
    assert accounts.admission(chef) is Admission.START  # begun, not yet in use
    secret = second_factor.pending_secret(chef)
    assert second_factor.confirm(chef, pyotp.TOTP(secret).now())
    assert accounts.admission(chef) is Admission.CODE
    chef.active = False
    assert accounts.admission(chef, second_factor_done=True) is Admission.INACTIVE
    db.session.rollback()


def test_a_new_secret_key_leaves_the_recovery_codes(two_factor, client):
    """The secret is encrypted with a key from FORMSERVICE_SECRET_KEY: with another key the
    app's codes cannot be checked, the recovery codes (hashed, no key) still work."""
    login(client, CHEF_A)
    secret, codes = enrol(client)
    two_factor.config["SECRET_KEY"] = "another-secret-key"
    chef = user(CHEF_A)
    assert second_factor.verify(chef, next_code(secret)) is None
    assert second_factor.verify(chef, codes[2]) == "recovery_code"


def test_a_half_done_login_expires(two_factor, client, monkeypatch):
    from formservice.views import auth

    login(client, ADMIN)
    monkeypatch.setattr(auth, "PENDING_SECONDS", -1)
    assert "/logga-in" in client.get("/logga-in/kod").headers["Location"]
    assert "/logga-in" in client.get("/mitt-konto/tvastegsverifiering").headers["Location"]


def test_half_way_through_a_login_the_settings_are_closed(two_factor, client):
    """A password alone never reaches the management of a second factor already set up."""
    login(client, ADMIN)
    enrol(client)
    client.post("/logga-ut")
    login(client, ADMIN)  # the password; the code not yet
    for path in ("/mitt-konto/tvastegsverifiering", "/mitt-konto"):
        assert "/logga-in" in client.get(path).headers["Location"], path
    for path in ("starta", "reservkoder", "stang-av"):
        response = client.post(f"/mitt-konto/tvastegsverifiering/{path}", data={"code": "1"})
        assert "/logga-in" in response.headers["Location"], path
    assert second_factor.enrolled(user(ADMIN))
