"""Redis dies under the login limits (real gunicorn): logins go on, counted in each worker's
memory meanwhile, and the counts return to Redis when it is back; never a 500."""

from __future__ import annotations

import itertools

import pytest

from tests.integration.helpers import CHEF_A, SECRETARY
from tests.support.accounts import PASSWORD
from tests.support.http import Client
from tests.support.waiting import wait_for

pytestmark = pytest.mark.faults


def post_login(browser: Client, email: str, password: str):
    page = browser.get("/logga-in")
    assert page.status == 200, page.status
    fields = [("csrf_token", Client.csrf(page.text)), ("email", email), ("password", password)]
    return browser.post("/logga-in", fields)


def test_login_works_while_redis_is_down_and_the_limits_return_with_it(fresh):
    stack = fresh
    stack.redis.crash()
    try:
        visitor = Client(stack.base_url)
        for _ in range(3):
            wrong = post_login(visitor, SECRETARY, "fel-lösenord")
            assert wrong.status == 401, (wrong.status, wrong.text[-2000:])
            assert "Fel e-postadress eller lösenord." in wrong.text
        Client(stack.base_url).login(CHEF_A, PASSWORD)  # 302, not 500
    finally:
        stack.redis.start()

    counted = stack.redis.connection()
    unknown = (f"okand{n}@stad.example" for n in itertools.count())

    def failure_counted_in_redis() -> bool:
        assert post_login(Client(stack.base_url), next(unknown), "fel").status == 401
        return bool(counted.keys("LIMITS*formservice-login*"))

    # Flask-Limiter looks for Redis again after 1, 2, 4 … s
    wait_for(failure_counted_in_redis, 60, "failed logins counted in Redis again", interval=1)
    Client(stack.base_url).login(CHEF_A, PASSWORD)
