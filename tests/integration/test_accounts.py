"""Getting in without a terminal (issue 14, item 2): invitation and reset links, "Glömt
lösenordet?", the password rule, "Mitt konto", "Lås upp"; and where each role lands (item 4)
and the accessibility statement (item 5). Real databases, Redis, worker and SMTP sink."""

from __future__ import annotations

import logging
import re

import pytest
from itsdangerous import TimestampSigner
from sqlalchemy import event, select

from formservice import ratelimit
from formservice.extensions import db
from formservice.models import AuditEvent, OutboxMessage, User
from formservice.services import accounts
from formservice.tokens import INVITE, RESET, make_account_token
from tests.support.accounts import PASSWORD
from tests.support.app import login, run_worker

from .helpers import ADMIN, CHEF_A, CHEF_B, SECRETARIAT, SECRETARY, user

NEW_PASSWORD = "Blåbär-cykel-ekorre-73"
NOBODY = "ingen.alls@stad.example"
LINK = re.compile(r"http://formservice\.test(/(?:inbjudan|aterstall)/[^\s]+)")


def events(action: str) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def mailed_link(sink, to: str) -> str:
    """The path of the one account link mailed to `to`."""
    messages = sink.to(to)
    assert len(messages) == 1, [m["Subject"] for m in sink.messages]
    found = LINK.findall(messages[0].get_content())
    assert len(found) == 1
    return found[0]


def choose(client, path: str, password: str = NEW_PASSWORD, repeat: str | None = None):
    return client.post(path, data={"password": password, "repeat": repeat or password})


def page_text(response) -> str:
    return response.get_data(as_text=True)


# --- invitation ---------------------------------------------------------------------------


def test_an_invitation_is_mailed_and_its_link_works_once(directory, client, smtp_sink, caplog):
    caplog.set_level(logging.DEBUG)
    chef = user(CHEF_B)
    chef.password_hash = None  # a new person: no password yet
    db.session.commit()
    login(client, ADMIN)
    response = client.post(f"/admin/personer/{chef.id}/inbjudan")
    assert response.status_code == 302
    [invited] = events("account.invited")
    assert (invited.actor, invited.object_id) == (ADMIN, str(chef.id))
    run_worker(directory)

    path = mailed_link(smtp_sink, CHEF_B)
    assert path.startswith("/inbjudan/")
    body = smtp_sink.to(CHEF_B)[0].get_content()
    assert "Ines" not in body and "Sved" not in body  # no name, only the link
    assert "7 dagar" in body

    client.post("/logga-ut")
    opened = client.get(path)  # a mail scanner opening the link changes nothing
    assert opened.status_code == 200 and "Välj lösenord" in page_text(opened)
    assert client.get(path).status_code == 200
    db.session.refresh(chef)
    assert chef.password_hash is None

    saved = choose(client, path)
    assert saved.status_code == 302 and saved.headers["Location"].endswith("/logga-in")
    assert login(client, CHEF_B, NEW_PASSWORD).status_code == 302
    [set_event] = events("account.password_set")
    assert set_event.detail == {"via": "invite"} and set_event.object_id == str(chef.id)

    client.post("/logga-ut")
    again = client.get(path)
    assert again.status_code == 410 and "redan använts" in page_text(again)
    assert choose(client, path, "Ett-annat-lösenord-99").status_code == 410
    assert login(client, CHEF_B, NEW_PASSWORD).status_code == 302  # unchanged

    logged = caplog.text
    assert path.split("/")[-1] not in logged and NEW_PASSWORD not in logged


def test_an_invitation_expires_after_the_invite_days(directory, client, monkeypatch):
    directory.config["FORMSERVICE_INVITE_DAYS"] = 2
    chef = user(CHEF_B)
    path = f"/inbjudan/{make_account_token(INVITE, chef.id, chef.token_version)}"
    assert client.get(path).status_code == 200
    real = TimestampSigner.get_timestamp
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda s: real(s) + 2 * 86400 + 5)
    expired = client.get(path)
    assert expired.status_code == 410 and "gått ut" in page_text(expired)
    assert choose(client, path).status_code == 410


def test_a_link_for_one_purpose_is_not_taken_for_another(directory, client):
    chef = user(CHEF_B)
    invite = make_account_token(INVITE, chef.id, chef.token_version)
    assert client.get(f"/aterstall/{invite}").status_code == 400
    assert client.get(f"/inbjudan/{invite}x").status_code == 400


def test_an_inactive_person_gets_no_invitation_and_the_links_die(directory, client, smtp_sink):
    chef = user(CHEF_B)
    links = [
        f"/inbjudan/{make_account_token(INVITE, chef.id, chef.token_version)}",
        f"/aterstall/{make_account_token(RESET, chef.id, chef.token_version)}",
    ]
    accounts.invite(chef, user(ADMIN))  # written before the person left the directory
    chef.active = False
    db.session.commit()
    login(client, ADMIN)
    client.post(f"/admin/personer/{chef.id}/inbjudan")
    assert len(events("account.invited")) == 1  # only the one before
    client.post("/logga-ut")
    client.post("/glomt-losenord", data={"email": CHEF_B})
    run_worker(directory)
    assert smtp_sink.to(CHEF_B) == []
    for path in links:
        dead = client.get(path)
        assert dead.status_code == 410 and "inte längre aktivt" in page_text(dead)
        assert choose(client, path).status_code == 410
    db.session.refresh(chef)
    assert chef.password_hash is not None and chef.token_version == 0


# --- "Glömt lösenordet?" ----------------------------------------------------------------------


def _statements_of(app, client, email: str) -> tuple[object, list[str]]:
    """The response and the SQL the web request ran (without parameter values)."""
    seen: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        seen.append(re.sub(r"\s+", " ", statement))

    engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        response = client.post("/glomt-losenord", data={"email": email})
    finally:
        event.remove(engine, "before_cursor_execute", record)
    return response, seen


def test_forgot_answers_and_works_alike_for_known_and_unknown_addresses(
    directory, client, smtp_sink
):
    assert client.get("/glomt-losenord").status_code == 200
    known, known_sql = _statements_of(directory, client, CHEF_A)
    unknown, unknown_sql = _statements_of(directory, client, NOBODY)
    assert known.status_code == unknown.status_code == 200
    assert known.get_data() == unknown.get_data()  # the same page, byte for byte
    assert "Kontrollera din e-post" in page_text(known)
    assert known_sql == unknown_sql  # the same work: nobody is looked up in the request
    assert len(events("account.reset_requested")) == 2
    assert {e.user_id for e in events("account.reset_requested")} == {None}

    run_worker(directory)
    path = mailed_link(smtp_sink, CHEF_A)
    assert path.startswith("/aterstall/")
    assert smtp_sink.to(NOBODY) == []
    typed = db.session.scalars(select(OutboxMessage.to_email))
    assert NOBODY not in set(typed)  # an address nobody has leaves no trace in the outbox
    body = smtp_sink.to(CHEF_A)[0].get_content()
    assert "Fia" not in body and "en timme" in body

    assert choose(client, path).status_code == 302
    assert login(client, CHEF_A, NEW_PASSWORD).status_code == 302
    assert login(client, CHEF_A, PASSWORD).status_code == 401
    client.post("/logga-ut")
    assert client.get(path).status_code == 410  # used


def test_without_password_login_the_links_lead_to_sign_on(directory, client, smtp_sink):
    """FORMSERVICE_PASSWORD_LOGIN=false: an invitation says to sign on with the
    organisation's account and its link sets no password; "Glömt lösenordet?" mails only a
    break-glass administrator, the one who may still use a password."""
    directory.config["FORMSERVICE_PASSWORD_LOGIN"] = False
    directory.config["FORMSERVICE_BREAK_GLASS"] = frozenset({ADMIN})
    chef = user(CHEF_B)
    accounts.invite(chef, user(ADMIN))
    for address in (CHEF_A, ADMIN):
        client.post("/glomt-losenord", data={"email": address})
    run_worker(directory)

    [invitation] = smtp_sink.to(CHEF_B)
    assert invitation["Subject"] == "Välkommen till BUS-formservice"
    assert "lösenord" not in invitation.get_content()
    path = mailed_link(smtp_sink, CHEF_B)
    before = chef.password_hash
    for response in (client.get(path), choose(client, path)):
        assert response.status_code == 200
        assert "Logga in med organisationens konto" in page_text(response)
        assert 'name="password"' not in page_text(response)
    db.session.refresh(chef)
    assert chef.password_hash == before and events("account.password_set") == []

    assert smtp_sink.to(CHEF_A) == []  # would get a link they cannot use
    assert mailed_link(smtp_sink, ADMIN).startswith("/aterstall/")
    assert "Välj lösenord" in page_text(client.get(mailed_link(smtp_sink, ADMIN)))


def test_a_reset_link_lives_an_hour(directory, client, monkeypatch):
    chef = user(CHEF_A)
    path = f"/aterstall/{make_account_token(RESET, chef.id, chef.token_version)}"
    real = TimestampSigner.get_timestamp
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda s: real(s) + 59 * 60)
    assert client.get(path).status_code == 200
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda s: real(s) + 61 * 60)
    assert client.get(path).status_code == 410


def test_a_new_password_kills_earlier_links(directory, client):
    chef = user(CHEF_A)
    first = f"/aterstall/{make_account_token(RESET, chef.id, chef.token_version)}"
    second = f"/aterstall/{make_account_token(RESET, chef.id, chef.token_version)}"
    assert choose(client, first).status_code == 302
    assert client.get(second).status_code == 410


def test_forgot_is_rate_limited_alike_for_known_and_unknown(directory, client):
    directory.config["RESET_ACCOUNT_REQUESTS"] = 2
    answers = {}
    for email in (CHEF_A, NOBODY):
        for _ in range(2):
            assert client.post("/glomt-losenord", data={"email": email}).status_code == 200
        answers[email] = client.post("/glomt-losenord", data={"email": email.upper()})
    assert answers[CHEF_A].status_code == answers[NOBODY].status_code == 429
    assert answers[CHEF_A].get_data() == answers[NOBODY].get_data()
    assert "för många länkar för den här e-postadressen" in page_text(answers[CHEF_A])
    assert client.post("/glomt-losenord", data={"email": CHEF_B}).status_code == 200
    # an invalid form is not a request for a link: it does not count
    assert client.post("/glomt-losenord", data={"email": ""}).status_code == 422


def test_forgot_per_address_limit(directory, client):
    directory.config["RESET_ADDRESS_REQUESTS"] = 3
    for n in range(3):
        assert (
            client.post("/glomt-losenord", data={"email": f"x{n}@stad.example"}).status_code == 200
        )
    assert client.post("/glomt-losenord", data={"email": CHEF_A}).status_code == 429
    other = client.post(
        "/glomt-losenord", data={"email": CHEF_A}, environ_base={"REMOTE_ADDR": "192.0.2.8"}
    )
    assert other.status_code == 200


# --- the password rule ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("password", "says"),
    [
        ("kort-123", "Nytt lösenord: lösenordet måste ha minst 12 tecken."),
        ("Password1234", "Nytt lösenord: lösenordet är för lätt att gissa. Det liknar"),
        ("aaaaaaaaaaaaaaa", "Nytt lösenord: lösenordet är för lätt att gissa. Upprepningar"),
        ("fia.familj@stad.example", "Det innehåller ditt namn, din e-postadress"),
    ],
    ids=["short", "common", "repeat", "own-address"],
)
def test_a_weak_password_is_refused_naming_the_field(directory, client, password, says):
    chef = user(CHEF_A)
    path = f"/aterstall/{make_account_token(RESET, chef.id, chef.token_version)}"
    refused = choose(client, path, password)
    assert refused.status_code == 422
    assert says in page_text(refused)
    db.session.refresh(chef)
    assert chef.token_version == 0  # the link still works
    different = choose(client, path, NEW_PASSWORD, NEW_PASSWORD + "x")
    assert "Upprepa lösenordet: lösenorden är inte lika." in page_text(different)


def test_the_service_keeps_the_rule_too(directory):
    with pytest.raises(accounts.WeakPassword):
        accounts.set_password(user(CHEF_A), "Password1234")
    accounts.set_password(user(CHEF_A), NEW_PASSWORD)
    assert accounts.authenticate(CHEF_A, NEW_PASSWORD) is not None


# --- "Mitt konto" ---------------------------------------------------------------------------


def test_changing_the_password_ends_other_sessions(directory, app):
    here, elsewhere = app.test_client(), app.test_client()
    login(here, CHEF_A)
    login(elsewhere, CHEF_A)
    assert here.get("/mitt-konto").status_code == 200
    wrong = here.post(
        "/mitt-konto/losenord",
        data={"current": "fel-lösenord-1", "password": NEW_PASSWORD, "repeat": NEW_PASSWORD},
    )
    assert wrong.status_code == 401
    assert "Nuvarande lösenord: lösenordet stämmer inte." in page_text(wrong)
    assert len(events("account.password_change_failed")) == 1
    weak = here.post(
        "/mitt-konto/losenord",
        data={"current": PASSWORD, "password": "Password1234", "repeat": "Password1234"},
    )
    assert weak.status_code == 422 and "Nytt lösenord: lösenordet är för lätt" in page_text(weak)

    changed = here.post(
        "/mitt-konto/losenord",
        data={"current": PASSWORD, "password": NEW_PASSWORD, "repeat": NEW_PASSWORD},
    )
    assert changed.status_code == 302
    assert here.get("/mitt-konto").status_code == 200  # this session goes on
    from flask import g

    g.pop("_login_user", None)
    assert elsewhere.get("/mitt-konto").status_code == 302  # the other one ended
    assert events("account.password_set")[0].actor == CHEF_A


def test_wrong_current_passwords_count_as_failed_logins(directory, client):
    directory.config["LOGIN_ACCOUNT_FAILURES"] = 2
    login(client, CHEF_A)
    for _ in range(2):
        wrong = client.post(
            "/mitt-konto/losenord",
            data={"current": "fel-lösenord-1", "password": NEW_PASSWORD, "repeat": NEW_PASSWORD},
        )
        assert wrong.status_code == 401
    locked = client.post(
        "/mitt-konto/losenord",
        data={"current": PASSWORD, "password": NEW_PASSWORD, "repeat": NEW_PASSWORD},
    )
    assert locked.status_code == 429


# --- "Lås upp" ------------------------------------------------------------------------------


def test_the_administrator_unlocks_a_locked_account(directory, app):
    directory.config["LOGIN_ACCOUNT_FAILURES"] = 3
    visitor, admin = app.test_client(), app.test_client()
    for _ in range(3):
        assert login(visitor, CHEF_A, "fel-lösenord-1").status_code == 401
    assert login(visitor, CHEF_A).status_code == 429
    assert ratelimit.is_locked(CHEF_A)
    status = app.jinja_env.globals["account_status"](user(CHEF_A))
    assert status["locked"] and status["has_password"] and not status["second_factor"]

    login(admin, ADMIN)
    assert admin.post(f"/admin/personer/{user(CHEF_A).id}/las-upp").status_code == 302
    [unlocked] = events("account.unlocked")
    assert (unlocked.actor, unlocked.object_id) == (ADMIN, str(user(CHEF_A).id))
    assert not ratelimit.is_locked(CHEF_A)
    assert login(visitor, CHEF_A).status_code == 302


def test_the_person_page_partial_shows_the_buttons(directory, app):
    from flask import render_template

    login(app.test_client(), ADMIN)
    with app.test_request_context():
        html = render_template("html/admin/_person_account.html", person=user(CHEF_A))
    assert "Skicka inbjudan" in html and f"/admin/personer/{user(CHEF_A).id}/inbjudan" in html
    assert "Lås upp" not in html  # not locked
    chef = user(CHEF_A)
    chef.active = False
    db.session.commit()
    with app.test_request_context():
        html = render_template("html/admin/_person_account.html", person=chef)
    assert "Skicka inbjudan" not in html and "inaktiv" in html


# --- where each role lands (item 4) ---------------------------------------------------------


@pytest.mark.parametrize(
    ("email", "lands"),
    [
        (ADMIN, "/admin"),
        (CHEF_A, "/avvikelser#att-besvara"),
        (SECRETARY, "/avvikelser"),
        (SECRETARIAT[0], "/avvikelser"),
    ],
    ids=["admin", "chef", "secretary", "secretariat"],
)
def test_each_role_lands_where_it_works(directory, client, email, lands):
    response = login(client, email)
    assert response.status_code == 302 and response.headers["Location"] == lands
    page = client.get(lands.split("#")[0])
    assert page.status_code == 200
    assert client.get("/").headers["Location"] == lands


def test_the_menu_shows_what_the_role_can_do(directory, client):
    login(client, ADMIN)
    menu = page_text(client.get("/admin")).split('aria-label="Huvudmeny"')[1].split("</nav>")[0]
    assert "Administration" in menu and "Mitt konto" in menu
    for item in ("Avvikelser", "Ny avvikelse", "SIP", "BUS-individ", "Styrgrupp", "Statistik"):
        assert f">{item}<" not in menu
    client.post("/logga-ut")
    login(client, SECRETARY)
    menu = page_text(client.get("/avvikelser")).split('aria-label="Huvudmeny"')[1]
    menu = menu.split("</nav>")[0]
    assert ">Avvikelser<" in menu and ">Styrgrupp<" in menu and ">Statistik<" in menu
    assert ">Ny avvikelse<" not in menu and ">Administration<" not in menu


def test_someone_without_a_role_lands_on_a_calm_page(directory, client):
    from tests.support.accounts import password_hash

    db.session.add(
        User(email="ny.person@stad.example", name="Ny Person", password_hash=password_hash())
    )
    db.session.commit()
    response = login(client, "ny.person@stad.example")
    assert response.headers["Location"] == "/ingen-roll"
    page = client.get("/ingen-roll")
    assert page.status_code == 200
    text = page_text(page)
    assert "Du har ingen roll ännu" in text and "Ada Admin" in text and ADMIN in text
    assert client.get("/").headers["Location"] == "/ingen-roll"


# --- the accessibility statement (item 5) ---------------------------------------------------


def test_the_accessibility_statement_is_public_and_linked_from_every_page(directory, client):
    directory.config["FORMSERVICE_ACCESSIBILITY_CONTACT"] = "tillganglighet@stad.example"
    page = client.get("/tillganglighet")
    assert page.status_code == 200
    text = page_text(page)
    for must in (
        "mailto:tillganglighet@stad.example",
        "Myndigheten för digital förvaltning (DIGG)",
        "https://www.digg.se/tdosanmalan",
        "WCAG 2.1",
        "axe-core",
        "uppdaterades senast den",
    ):
        assert must in text, must
    assert 'href="/tillganglighet"' in page_text(client.get("/logga-in"))
    login(client, CHEF_A)
    assert 'href="/tillganglighet"' in page_text(client.get("/avvikelser"))
    assert 'href="/tillganglighet"' in page_text(client.get("/finns-inte"))  # the 404 page


def test_the_statement_without_a_contact_setting(directory, client):
    text = page_text(client.get("/tillganglighet"))
    assert "Kontakta systemförvaltaren för BUS-formservice" in text
