"""Limits on failed logins, per client address and per account, on real Redis (issue 12,
item 5): a crowd behind one address is not locked out, a stranger cannot lock a person out for
good, and an unknown address answers exactly like a locked account."""

from __future__ import annotations

import re
import time

from sqlalchemy import select

from formservice import ratelimit
from formservice.extensions import db
from formservice.models import AuditEvent
from tests.support.accounts import PASSWORD

from .helpers import ADMIN, CHEF_A, CHEF_B, DEPUTY_A, SECRETARY, UNRELATED_CHEF, user

WRONG = "fel-lösenord-1"
NOBODY = "ingen.alls@stad.example"
NAT = "10.20.30.40"  # a municipality's NAT: everybody's address


def attempt(client, email: str, password: str, address: str = NAT):
    return client.post(
        "/logga-in",
        data={"email": email, "password": password},
        environ_base={"REMOTE_ADDR": address},
    )


def message(response) -> str:
    """The page's message (login form or error page), with the minute it names made neutral."""
    page = response.get_data(as_text=True)
    text = re.search(r'role="alert"><p>(.*?)</p>', page) or re.search(
        r"<h1>.*?</h1>\s*<p>(.*?)</p>", page, re.S
    )
    assert text, page
    return re.sub(r"\d\d:\d\d", "HH:MM", text.group(1))


def test_the_numbers_are_the_documented_ones(app):
    assert app.config["LOGIN_ACCOUNT_FAILURES"] == ratelimit.ACCOUNT_FAILURES == 10
    assert app.config["LOGIN_ADDRESS_FAILURES"] == ratelimit.ADDRESS_FAILURES == 100
    assert app.config["LOGIN_WINDOW_SECONDS"] == ratelimit.WINDOW_SECONDS == 15 * 60


def test_many_people_behind_one_address_do_not_lock_each_other_out(client, directory):
    """More than the 30 POSTs that used to lock out a whole NAT (a form sent without a
    password costs no password hash, so the test stays quick)."""
    people = [CHEF_A, CHEF_B, DEPUTY_A, SECRETARY, UNRELATED_CHEF, ADMIN]
    for n in range(25):
        assert attempt(client, people[n % len(people)], "").status_code == 200
    for n, email in enumerate(people):  # a typo each, and an address nobody has
        assert attempt(client, email, WRONG).status_code == 401
        assert attempt(client, f"okand{n}@stad.example", WRONG).status_code == 401
    for email in people:
        assert attempt(client, email, PASSWORD).status_code == 302, email


def test_successful_logins_count_against_neither_limit(client, directory):
    directory.config |= {"LOGIN_ADDRESS_FAILURES": 3, "LOGIN_ACCOUNT_FAILURES": 3}
    for _ in range(4):
        assert attempt(client, CHEF_A, PASSWORD).status_code == 302
    assert attempt(client, CHEF_A, WRONG).status_code == 401
    assert attempt(client, CHEF_A, WRONG).status_code == 401
    assert attempt(client, CHEF_A, PASSWORD).status_code == 302


def test_failures_lock_an_account_for_everyone_and_an_unknown_address_alike(client, directory):
    directory.config["LOGIN_ACCOUNT_FAILURES"] = limit = 4  # fewer than the old lockout's 5
    answers = {}
    for email in (CHEF_A, NOBODY):
        variants = [email, email.upper(), f"  {email} "]  # the same account however written
        failed = [
            attempt(client, variants[n % 3], WRONG, address=f"192.0.2.{n}") for n in range(limit)
        ]
        assert {r.status_code for r in failed} == {401}
        assert {message(r) for r in failed} == {"Fel e-postadress eller lösenord."}
        answers[email] = attempt(client, email, PASSWORD, address="198.51.100.7")

    locked, unknown = answers[CHEF_A], answers[NOBODY]
    assert locked.status_code == unknown.status_code == 429
    assert message(locked) == message(unknown)
    assert "inloggningsförsök med den här e-postadressen" in message(locked)
    assert re.search(r"Försök igen klockan \d\d:\d\d\.", locked.get_data(as_text=True))
    assert 0 < int(locked.headers["Retry-After"]) <= ratelimit.WINDOW_SECONDS + 60
    # others log in, from the same address too
    assert attempt(client, CHEF_B, PASSWORD, address="198.51.100.7").status_code == 302
    assert client.get("/logga-in").status_code == 200

    events = db.session.execute(
        select(AuditEvent.action, AuditEvent.user_id).where(AuditEvent.action == "login.locked")
    ).all()
    assert sorted(events, key=lambda e: e.user_id or 0) == [
        ("login.locked", None),
        ("login.locked", user(CHEF_A).id),
    ]


def test_the_account_lock_lifts_after_the_window(client, directory):
    directory.config |= {"LOGIN_ACCOUNT_FAILURES": 3, "LOGIN_WINDOW_SECONDS": 2}
    for _ in range(3):
        assert attempt(client, CHEF_A, WRONG).status_code == 401
    assert attempt(client, CHEF_A, PASSWORD).status_code == 429
    time.sleep(2.5)
    assert attempt(client, CHEF_A, PASSWORD).status_code == 302


def test_too_many_failures_from_one_address_stop_only_that_address(client, directory):
    directory.config |= {"LOGIN_ADDRESS_FAILURES": 4}
    for email in (NOBODY, CHEF_B, DEPUTY_A, "annan@stad.example"):
        assert attempt(client, email, WRONG, address="203.0.113.9").status_code == 401
    refused = attempt(client, CHEF_A, PASSWORD, address="203.0.113.9")
    assert refused.status_code == 429
    assert "inloggningsförsök härifrån" in message(refused)
    assert attempt(client, CHEF_A, PASSWORD, address="203.0.113.10").status_code == 302
