"""Links in e-mails: built with url_for under FORMSERVICE_BASE_URL (scheme, host, port and
path prefix), in the worker too, where there is no request to take them from."""

from __future__ import annotations

from email.message import EmailMessage
from urllib.parse import urlsplit

import pytest

from formservice import mail
from formservice.models import OutboxMessage
from formservice.tokens import MeasureLink, read_measure_token, read_supplement_token, read_token
from tests.support.app import run_worker

from .helpers import CHEF_B, SECRETARY, send_report

BASES = ["https://kommun.example/bus", "https://kommun.example:8443/bus/", "http://127.0.0.1:8080"]


def link_of(email: EmailMessage) -> str:
    return next(line for line in email.get_content().splitlines() if "://" in line).strip()


def resolve(app, base: str, link: str) -> tuple[str, dict]:
    """The endpoint and arguments the link leads to on a site served under `base`."""
    root = urlsplit(base)
    prefix = root.path.rstrip("/")
    assert link.startswith(f"{root.scheme}://{root.netloc}{prefix}/"), link
    adapter = app.url_map.bind(root.netloc, script_name=prefix or "/", url_scheme=root.scheme)
    return adapter.match(urlsplit(link).path.removeprefix(prefix))


def message(kind: str, deviation_id: int | None, **context) -> OutboxMessage:
    return OutboxMessage(
        kind=kind,
        to_email=CHEF_B,
        deviation_id=deviation_id,
        context={"case_number": "2026-0001", **context},
        message_id=f"<{kind}@formservice.test>",
    )


@pytest.mark.parametrize("base", BASES)
def test_every_kind_of_link_is_under_the_base_url_and_leads_to_its_page(app, base):
    app.config["FORMSERVICE_BASE_URL"] = base
    pages = [
        (
            message("bus_individ_minutes", None, bus_individ_id=7),
            "bus_individ.show",
            {"record_id": 7},
        ),
        (message("sip_invitation", None, sip_id=8), "sip.show", {"sip_id": 8}),
        (message("copy_secretariat", None), "deviations.index", {}),
        (message("copy_secretary", 9), "deviations.show", {"deviation_id": 9}),
    ]
    for outbox_row, endpoint, args in pages:
        assert resolve(app, base, link_of(mail.render(outbox_row))) == (endpoint, args)
    answer = message("new_report", 9, respond=True, link_version=2)
    endpoint, args = resolve(app, base, link_of(mail.render(answer)))
    assert endpoint == "respond.show"
    link = read_token(args["token"])
    assert (link.deviation_id, link.email, link.version) == (9, CHEF_B, 2)
    context = {"supplement": True, "link_version": 3, "supplement_deadline": "2026-12-31"}
    supplement = message("feedback_insufficient", 9, **context)
    endpoint, args = resolve(app, base, link_of(mail.render(supplement)))
    assert endpoint == "feedback.link_show"
    link = read_supplement_token(args["token"])
    assert (link.deviation_id, link.email, link.version) == (9, CHEF_B, 3)
    reminder = message("measure_reminder_due", 9, measure_id=11, due="2027-03-10")
    endpoint, args = resolve(app, base, link_of(mail.render(reminder)))
    assert endpoint == "measures.by_link"
    assert read_measure_token(args["token"]) == MeasureLink(11, CHEF_B)


def test_the_worker_builds_links_under_a_base_url_with_a_path_prefix(directory, smtp_sink):
    base = "https://kommun.example/bus"
    directory.config["FORMSERVICE_BASE_URL"] = base
    deviation = send_report()
    run_worker(directory)  # jobs run in an app context of their own, without a request
    endpoint, args = resolve(directory, base, link_of(smtp_sink.to(CHEF_B)[0]))
    assert endpoint == "respond.show" and read_token(args["token"]).deviation_id == deviation.id
    secretary = resolve(directory, base, link_of(smtp_sink.to(SECRETARY)[0]))
    assert secretary == ("deviations.show", {"deviation_id": deviation.id})
