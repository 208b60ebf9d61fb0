"""Sign-on with OpenID Connect (issue 15, item 1) against a real provider: the npm package
oidc-provider run by Node.js (tests/oidc/provider.mjs), the app driven through its test
client and the provider's pages through requests, as a browser would."""

from __future__ import annotations

import re
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import yaml
from flask import Flask, g
from sqlalchemy import select

from formservice import create_app
from formservice.extensions import db
from formservice.models import AuditEvent, User
from formservice.services.directory import import_directory
from tests.oidc_provider import (
    MFA,
    Provider,
    log_out_at_provider,
    running_provider,
    sign_in_at_provider,
)
from tests.support.accounts import password_hash
from tests.support.app import base_config, login, reset_database
from tests.support.paths import DEMO_DIRECTORY

from .helpers import ADMIN, CHEF_A, CHEF_B, user

BASE = "http://formservice.test"
CALLBACK = f"{BASE}/logga-in/oidc"


@pytest.fixture(scope="module")
def provider() -> Iterator[Provider]:
    with running_provider([CALLBACK], [f"{BASE}/logga-in"]) as running:
        yield running


@pytest.fixture(scope="module")
def late_provider() -> Iterator[Provider]:
    """A provider whose clock is ten minutes behind and whose ID tokens live five: they
    have expired by our clock (past the leeway of a minute)."""
    with running_provider(
        [CALLBACK], [f"{BASE}/logga-in"], clock_skew=-600, id_token_ttl=300
    ) as running:
        yield running


def make_app(provider: Provider, sqlite_url: str, smtp_sink, tmp_path, **extra) -> Flask:
    config = base_config(sqlite_url, smtp_sink, tmp_path) | provider.settings(**extra)
    app = create_app(config | {"WTF_CSRF_ENABLED": False})
    app.instance_path = str(tmp_path / "instance")
    app.before_request(_forget_user)
    return app


def _forget_user() -> None:
    """Each request finds its own user, as on a server (the fixture's app context outlives
    requests, and with it Flask-Login's g._login_user)."""
    g.pop("_login_user", None)


@pytest.fixture
def app(provider, sqlite_url, smtp_sink, tmp_path) -> Iterator[Flask]:
    app = make_app(provider, sqlite_url, smtp_sink, tmp_path)
    with app.app_context():
        reset_database(app)
        from formservice.queue import redis_connection

        redis_connection().flushdb()
        import_directory(yaml.safe_load(DEMO_DIRECTORY.read_text(encoding="utf-8")))
        for person in db.session.scalars(select(User)):
            person.password_hash = password_hash()
        db.session.commit()
        yield app
        db.session.remove()
        db.engine.dispose()


def text(response) -> str:
    return response.get_data(as_text=True)


def events(action: str) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def start(client) -> str:
    response = client.get("/logga-in/oidc/start")
    assert response.status_code == 302, text(response)
    return response.headers["Location"]


def callback(client, url: str):
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == CALLBACK
    return client.get(f"{parts.path}?{parts.query}")


def sign_on(client, email: str, **options):
    """The whole round: our start, the provider's login, our callback."""
    agent = requests.Session()
    back = sign_in_at_provider(agent, start(client), email, CALLBACK, **options)
    return callback(client, back)


def test_login_page_offers_the_button_and_the_flow_is_pkce_with_state_and_nonce(app, provider):
    client = app.test_client()
    page = client.get("/logga-in")
    assert "Logga in med organisationens konto" in text(page)
    assert 'name="password"' in text(page)  # FORMSERVICE_PASSWORD_LOGIN defaults to true
    query = parse_qs(urlsplit(start(client)).query)
    assert query["redirect_uri"] == [CALLBACK]
    assert query["client_id"] == ["formservice"]
    assert query["response_type"] == ["code"]
    assert query["code_challenge_method"] == ["S256"] and query["code_challenge"][0]
    assert query["state"][0] and query["nonce"][0]
    assert query["scope"] == ["openid email profile"]


def test_sign_on_starts_the_session_of_the_directory_person(app, provider):
    client = app.test_client()
    response = sign_on(client, CHEF_A.upper())  # the claim is matched case-insensitively
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/avvikelser#att-besvara")
    home = client.get("/avvikelser")
    assert home.status_code == 200 and "Fia Familj" in text(home)
    [event] = events("login")
    assert event.user_id == user(CHEF_A).id and event.detail["method"] == "oidc"
    assert db.session.scalar(select(User).where(User.email == CHEF_A.upper())) is None


def test_logout_ends_the_session_here_and_at_the_provider(app, provider):
    client = app.test_client()
    agent = requests.Session()
    back = sign_in_at_provider(agent, start(client), CHEF_B, CALLBACK)
    assert callback(client, back).status_code == 302
    response = client.post("/logga-ut")
    end = response.headers["Location"]
    assert end.startswith(f"{provider.issuer}/session/end?")
    query = parse_qs(urlsplit(end).query)
    assert query["post_logout_redirect_uri"] == [f"{BASE}/logga-in"]
    assert query["id_token_hint"][0].count(".") == 2
    assert client.get("/avvikelser").status_code == 302  # the session here has ended
    after = log_out_at_provider(agent, end, f"{BASE}/logga-in")
    assert after.startswith(f"{BASE}/logga-in")
    # the provider's session has ended too: signing on again asks for the login form
    again = sign_in_at_provider(agent, start(client), CHEF_B, CALLBACK)
    assert callback(client, again).status_code == 302
    assert len(events("logout")) == 1 and len(events("login")) == 2


def test_unknown_person_gets_a_clear_page_and_no_account(app, provider):
    client = app.test_client()
    before = db.session.query(User).count()
    response = sign_on(client, "okand.person@stad.example")
    assert response.status_code == 403
    assert "finns inte i BUS-katalogen" in text(response)
    assert "Inget konto har skapats" in text(response)
    assert db.session.query(User).count() == before
    [event] = events("login.sign_on_unknown")
    assert "okand" not in str(event.detail) and event.user_id is None
    assert client.get("/avvikelser").status_code == 302


def test_deactivated_person_is_refused(app, provider):
    person = user(CHEF_B)
    person.active = False
    db.session.commit()
    client = app.test_client()
    response = sign_on(client, CHEF_B)
    assert response.status_code == 403
    assert "inte längre aktivt i BUS-katalogen" in text(response)
    [event] = events("login.sign_on_refused")
    assert event.detail["reason"] == "inactive"
    assert client.get("/avvikelser").status_code == 302


def test_unverified_email_is_refused(app, provider):
    response = sign_on(app.test_client(), f"overifierad+{CHEF_A}")
    assert response.status_code == 401
    assert "inte bekräftat din e-postadress" in text(response)
    assert events("login.sign_on_refused")[0].detail["reason"] == "unverified"
    assert events("login") == []


def test_cancelled_at_the_provider(app, provider):
    response = sign_on(app.test_client(), CHEF_A, cancel=True)
    assert response.status_code == 403
    assert "avbröts eller nekades" in text(response)


def test_error_from_the_provider_in_the_callback(app, provider):
    client = app.test_client()
    start(client)
    response = client.get("/logga-in/oidc?error=access_denied&error_description=nej")
    assert response.status_code == 403 and "avbröts eller nekades" in text(response)


def test_bad_state_and_a_callback_from_another_browser(app, provider):
    client = app.test_client()
    agent = requests.Session()
    back = sign_in_at_provider(agent, start(client), CHEF_A, CALLBACK)
    wrong = back.replace("state=", "state=x")
    response = callback(client, wrong)
    assert response.status_code == 401
    assert "påbörjades inte i den här webbläsaren" in text(response)
    # the same answer in a browser that never began a sign-on
    stranger = app.test_client()
    assert callback(stranger, back).status_code == 401
    assert events("login") == []


def test_an_answer_naming_another_issuer_is_refused(app, provider):
    """RFC 9207: the authorization response's `iss` must be our provider (mix-up)."""
    client = app.test_client()
    back = sign_in_at_provider(requests.Session(), start(client), CHEF_A, CALLBACK)
    assert "iss=" in back
    response = callback(client, re.sub(r"iss=[^&]+", "iss=https%3A%2F%2Fevil.example", back))
    assert response.status_code == 401
    assert events("login") == []


def test_replayed_code_is_refused(app, provider):
    """The session cookie from before the callback, replayed with the same code: the state
    matches, but the provider lets a code be used once."""
    client = app.test_client()
    agent = requests.Session()
    back = sign_in_at_provider(agent, start(client), CHEF_A, CALLBACK)
    cookie = client.get_cookie("session").value
    assert callback(client, back).status_code == 302
    replay = app.test_client()
    replay.set_cookie("session", cookie)
    response = callback(replay, back)
    assert response.status_code == 401
    assert events("login.sign_on_refused")[0].detail, text(response)
    assert "tog för lång tid eller har redan använts" in text(response)
    assert events("login.sign_on_refused")[0].detail["reason"] == "expired"


@pytest.mark.parametrize(
    "change",
    [
        {"aud": "annan-klient"},
        {"iss": "http://127.0.0.1:1/annan"},
        {"nonce": "en-annan-nonce"},
        {"foreign_key": True},
        {"exp_offset": -7200},
    ],
    ids=["audience", "issuer", "nonce", "signature", "expired"],
)
def test_a_token_that_fails_a_check_is_refused(app, provider, change):
    client = app.test_client()
    agent = requests.Session()
    back = sign_in_at_provider(agent, start(client), CHEF_A, CALLBACK)
    provider.tamper(**change)
    response = callback(client, back)
    assert response.status_code == 401
    assert "gick inte att kontrollera" in text(response)
    assert events("login.sign_on_refused")[0].detail["reason"] == "token"
    assert events("login") == []
    assert client.get("/avvikelser").status_code == 302


def test_token_expired_by_our_clock(late_provider, sqlite_url, smtp_sink, tmp_path, app):
    """A real provider whose clock is behind: its ID token's exp is past by ours."""
    late = make_app(late_provider, sqlite_url, smtp_sink, tmp_path)
    with late.app_context():
        client = late.test_client()
        agent = requests.Session()
        back = sign_in_at_provider(agent, start(client), CHEF_A, CALLBACK)
        response = callback(client, back)
        assert response.status_code == 401
        assert "gick inte att kontrollera" in text(response)


def test_provider_unreachable_gives_a_page_not_a_500(sqlite_url, smtp_sink, tmp_path, app):
    from tests.support.ports import free_port

    down = Provider(f"http://127.0.0.1:{free_port()}")
    broken = make_app(down, sqlite_url, smtp_sink, tmp_path)
    with broken.app_context():
        response = broken.test_client().get("/logga-in/oidc/start")
        assert response.status_code == 503
        assert "svarar inte just nu" in response.get_data(as_text=True)


def test_second_factor_is_asked_unless_the_provider_attests_it(app, provider):
    """An administrator must have a second factor (FORMSERVICE_REQUIRE_2FA=admin): a sign-on
    without an attested level goes on to setting up the app here; with
    FORMSERVICE_OIDC_ACR_VALUES and the provider's acr for it, the sign-on is both factors."""
    app.config["FORMSERVICE_REQUIRE_2FA"] = frozenset({"admin"})
    client = app.test_client()
    response = sign_on(client, ADMIN)
    assert response.headers["Location"].endswith("/mitt-konto/tvastegsverifiering")
    assert client.get("/admin").status_code == 302
    app.config["FORMSERVICE_OIDC_ACR_VALUES"] = MFA
    client = app.test_client()
    agent = requests.Session()
    url = start(client)
    assert parse_qs(urlsplit(url).query)["acr_values"] == [MFA]
    back = sign_in_at_provider(agent, url, ADMIN, CALLBACK, mfa=True)
    response = callback(client, back)
    assert response.headers["Location"].endswith("/admin")
    assert client.get("/admin").status_code == 200
    # asked for, but the provider says it was a password only: the app's second factor
    client = app.test_client()
    back = sign_in_at_provider(requests.Session(), start(client), ADMIN, CALLBACK)
    assert callback(client, back).headers["Location"].endswith("/mitt-konto/tvastegsverifiering")


def test_password_login_off_leaves_only_break_glass_admins(app, provider):
    app.config["FORMSERVICE_PASSWORD_LOGIN"] = False
    app.config["FORMSERVICE_BREAK_GLASS"] = frozenset({ADMIN})
    client = app.test_client()
    page = text(client.get("/logga-in"))
    assert "Logga in med organisationens konto" in page and 'name="password"' not in page
    assert 'name="password"' in text(client.get("/logga-in?reserv=1"))
    refused = login(client, CHEF_A)
    assert refused.status_code == 401
    assert "får kontot inte logga in med lösenord" in text(refused)
    assert events("login.failed")[0].detail["reason"] == "password_login"
    assert client.get("/avvikelser").status_code == 302
    admitted = login(client, ADMIN)
    assert admitted.status_code == 302 and admitted.headers["Location"].endswith("/admin")
    # sign-on still works for everyone
    other = app.test_client()
    assert sign_on(other, CHEF_A).status_code == 302
    assert other.get("/avvikelser").status_code == 200


def test_responder_links_ask_for_sign_on_when_required(app, provider):
    from formservice.tokens import make_token

    from .helpers import send_report

    deviation = send_report()
    link = f"/svara/{make_token(deviation.id, CHEF_B, deviation.link_version)}"
    client = app.test_client()
    assert client.get(link).status_code == 200  # by default the link works without login
    app.config["FORMSERVICE_RESPONDER_LOGIN"] = "required"
    client = app.test_client()
    response = client.get(link)
    assert response.status_code == 302 and response.headers["Location"] == "/logga-in"
    assert sign_on(client, CHEF_B).headers["Location"] == link
    assert client.get(link).status_code == 200
    someone_else = app.test_client()
    sign_on(someone_else, "hanna.hab@region.example")
    refused = someone_else.get(link)
    assert refused.status_code == 403 and "skickad till en annan person" in text(refused)


ROLES = {
    "anon": None,
    "chef_a": CHEF_A,
    "chef_b": CHEF_B,
    "secretary": "sam.prevent@stad.example",
    "secretariat": "bus-avvikelser@storsthlm.example",
    "admin": ADMIN,
}


def test_the_sign_on_routes_for_every_role(app, provider):
    """The authorization matrix's rows with a provider configured: both doors are public;
    the start sends anyone to the provider, a callback that no sign-on of this browser began
    is refused (401) and leaves the session as it was."""
    for role, email in ROLES.items():
        client = app.test_client()
        if email:
            assert login(client, email).status_code == 302
        begin = client.get("/logga-in/oidc/start")
        assert begin.status_code == 302, role
        assert begin.headers["Location"].startswith(f"{provider.issuer}/auth?"), role
        stray = client.get("/logga-in/oidc?code=abc&state=def")
        assert stray.status_code == 401, role
        expected = 302 if email is None else 200
        assert client.get("/mitt-konto").status_code == expected, role


def test_a_public_client_without_a_secret(provider, sqlite_url, smtp_sink, tmp_path, app):
    """FORMSERVICE_OIDC_CLIENT_SECRET empty: token endpoint authentication `none`, PKCE
    alone binds the code to the browser that began the sign-on."""
    public = make_app(
        provider,
        sqlite_url,
        smtp_sink,
        tmp_path,
        FORMSERVICE_OIDC_CLIENT_ID="formservice-publik",
        FORMSERVICE_OIDC_CLIENT_SECRET="",
    )
    with public.app_context():
        client = public.test_client()
        response = sign_on(client, CHEF_A)
        assert response.status_code == 302, text(response)
        assert client.get("/avvikelser").status_code == 200
