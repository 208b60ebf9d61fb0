"""The authorization matrix: every route × every role, walked against the real app, with the
directory as imported and again after a re-import that removed units, a group and a person."""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime, timedelta
from urllib.parse import urlsplit

import pytest
import yaml
from flask import g
from sqlalchemy import select

from formservice.domain.inputs import FeedbackInput
from formservice.extensions import db
from formservice.models import Digest, GroupMeeting, Measure, OutboxMessage, User
from formservice.services import bus_individ as bus_individ_service
from formservice.services import closing as closing_service
from formservice.services import deviations as deviations_service
from formservice.services import feedback as feedback_service
from formservice.services import reminders
from formservice.services import sip as sip_service
from formservice.services.directory import import_directory
from formservice.tokens import (
    INVITE,
    RESET,
    make_account_token,
    make_measure_token,
    make_supplement_token,
    make_token,
)
from tests.support.accounts import give_password
from tests.support.app import base_config, login, run_worker
from tests.support.paths import DEMO_DIRECTORY

from .helpers import (
    CHEF_A,
    CHEF_B,
    CONVENER,
    DEPUTY_A,
    DEPUTY_B,
    SECRETARY,
    answer_input,
    report_input,
    send_report,
    user,
)
from .meeting_helpers import bus_individ, sip_meeting, stored

GRETA = "greta.skolchef@stad.example"  # chef of Skarpnäcks grundskola, which chairs BUS-individ

ROLES = {
    "anon": None,
    "chef_a": CHEF_A,  # reporting unit; SIP initiator; raised BUS-individ
    "chef_b": CHEF_B,  # receiving unit; called to SIP; BUS-individ participant
    "deputy_b": DEPUTY_B,
    "chair": GRETA,  # chef of the unit that chairs BUS-individ
    "unrelated": "frans.forskolechef@stad.example",
    "other_sec": "olle.annan@stad.example",  # secretary of another BUS group
    "secretary": SECRETARY,
    "convener": CONVENER,
    "secretariat": "bus-avvikelser@storsthlm.example",
    "admin": "ada@stad.example",
    "link_other": None,  # holds a valid answer link, but for another report
}

# route, then the expected outcome per role in the order of ROLES: a status code, login =
# redirected to the login page, skip = the role may do this but doing it would change the state
# under test. A POST carries no form data: 422 means the role got as far as the form's checks.
# {d} the report, {a} its attachment, {o} one of its e-mails that failed, {s} a sent SIP meeting,
# {b} a BUS-individ record, {m} a steering-group meeting, {g} its digest ({gp}, {gd} its PDF and
# DOCX), {y} this year, {t} an answer link for another report and {ta} that report's attachment;
# {p} chef A as a person, {it} and {rt} an invitation and a reset link for chef A; {me} a
# decided measure and {mt} its link. Lines starting with # are comments.
MATRIX = """
GET  /                                      login 302 302 302 302 302 302 302 302 302 302 login
GET  /logga-in                              200 200 200 200 200 200 200 200 200 200 200 200
GET  /avvikelser                            login 200 200 200 200 200 200 200 200 200 403 login
GET  /avvikelser.csv                        login 200 200 200 200 200 200 200 200 200 403 login
GET  /avvikelser/ny                         login 200 200 200 200 200 403 403 403 403 403 login
POST /avvikelser/ny                         login 422 422 422 422 422 403 403 403 403 403 login
GET  /avvikelser/{d}                        login 200 200 200 403 403 403 200 200 200 403 login
GET  /avvikelser/{d}/avvikelse.docx         login 200 200 200 403 403 403 200 200 200 403 login
GET  /avvikelser/{d}/bilagor/{a}            login 200 200 200 403 403 403 200 200 200 403 login
GET  /avvikelser/{d}/svara                  login 403 200 200 403 403 403 403 403 403 403 login
POST /avvikelser/{d}/svara                  login 403 422 422 403 403 403 403 403 403 403 login
GET  /avvikelser/{d}/redigera               login 302 403 403 403 403 403 403 403 403 403 login
POST /avvikelser/{d}/redigera               login 302 403 403 403 403 403 403 403 403 403 login
POST /avvikelser/{d}/skicka                 login 409 403 403 403 403 403 403 403 403 403 login
GET  /avvikelser/{d}/avsluta                login 403 403 403 403 403 403 200 403 403 403 login
POST /avvikelser/{d}/avsluta                login 403 403 403 403 403 403 422 403 403 403 login
POST /avvikelser/{d}/aterkalla              login skip 403 403 403 403 403 403 403 403 403 login
POST /avvikelser/{d}/vidarebefordra         login 403 422 422 403 403 403 403 403 403 403 login
POST /utskick/{o}/forsok-igen               login 403 403 403 403 403 403 302 403 403 403 login
GET  /sip/                                  login 200 200 200 200 200 200 200 200 200 200 login
GET  /sip/ny                                login 200 200 200 200 200 403 403 403 403 403 login
POST /sip/ny                                login 422 422 422 422 422 403 403 403 403 403 login
GET  /sip/{s}                               login 200 200 200 403 403 403 403 403 403 403 login
GET  /sip/{s}/kallelse.pdf                  login 200 200 200 403 403 403 403 403 403 403 login
GET  /sip/{s}/kallelse.docx                 login 200 200 200 403 403 403 403 403 403 403 login
GET  /sip/{s}/redigera                      login 302 403 403 403 403 403 403 403 403 403 login
POST /sip/{s}/redigera                      login 302 403 403 403 403 403 403 403 403 403 login
GET  /sip/{s}/narvaro                       login 200 403 403 403 403 403 403 403 403 403 login
POST /sip/{s}/narvaro                       login 422 403 403 403 403 403 403 403 403 403 login
POST /sip/{s}/dokument                      login 409 403 403 403 403 403 403 403 403 403 login
GET  /sip/{s}/kalender.ics                  login 200 200 200 403 403 403 403 403 403 403 login
# {s} has begun: the initiator may withdraw a meeting only before it (409), others never
POST /sip/{s}/stall-in                      login 409 403 403 403 403 403 403 403 403 403 login
GET  /bus-individ/                          login 200 200 200 200 200 200 200 200 200 200 login
GET  /bus-individ/ny                        login 200 200 200 200 200 403 403 403 403 403 login
POST /bus-individ/ny                        login 422 422 422 422 422 403 403 403 403 403 login
GET  /bus-individ/{b}                       login 200 200 200 200 403 403 403 403 403 403 login
GET  /bus-individ/{b}/protokoll.pdf         login 200 200 200 200 403 403 403 403 403 403 login
GET  /bus-individ/{b}/protokoll.docx        login 200 200 200 200 403 403 403 403 403 403 login
POST /bus-individ/{b}/skapa-dokument        login 302 403 403 403 403 403 403 403 403 403 login
# {b} decided no follow-up meeting: nothing to add to a calendar (404) for those who may see it
GET  /bus-individ/{b}/kalender.ics          login 404 404 404 404 403 403 403 403 403 403 login
GET  /styrgrupp                             login 403 403 403 403 403 200 200 200 403 403 login
GET  /styrgrupp/skarpnack/moten             login 403 403 403 403 403 403 200 200 403 403 login
GET  /styrgrupp/skarpnack/nytt-mote         login 403 403 403 403 403 403 200 403 403 403 login
POST /styrgrupp/skarpnack/nytt-mote         login 403 403 403 403 403 403 422 403 403 403 login
GET  /styrgrupp/moten/{m}                   login 403 403 403 403 403 403 200 200 403 403 login
POST /styrgrupp/moten/{m}/sammanstallning   login 403 403 403 403 403 403 skip 403 403 403 login
GET  /styrgrupp/moten/{m}/kalender.ics      login 403 403 403 403 403 403 200 200 403 403 login
# {m} was two days ago: its secretary is sent back to the meeting (302) or refused (409)
GET  /styrgrupp/moten/{m}/andra             login 403 403 403 403 403 403 302 403 403 403 login
POST /styrgrupp/moten/{m}/andra             login 403 403 403 403 403 403 302 403 403 403 login
POST /styrgrupp/moten/{m}/stall-in          login 403 403 403 403 403 403 409 403 403 403 login
GET  /styrgrupp/sammanstallningar/{g}       login 403 403 403 403 403 403 200 200 403 403 login
GET  /styrgrupp/sammanstallningar/{g}/status  login 403 403 403 403 403 403 200 200 403 403 login
GET  /styrgrupp/sammanstallningar/{gp}      login 403 403 403 403 403 403 200 200 403 403 login
GET  /styrgrupp/sammanstallningar/{gd}      login 403 403 403 403 403 403 200 200 403 403 login
GET  /styrgrupp/utvardering?grupp=skarpnack login 403 403 403 403 403 403 200 200 403 403 login
GET  /statistik?grupp=skarpnack             login 403 403 403 403 403 403 200 200 200 403 login
GET  /statistik.csv?grupp=skarpnack&period={y} login 403 403 403 403 403 403 200 200 200 403 login
GET  /statistik/ar?ar={y}&grupp=skarpnack   login 403 403 403 403 403 403 302 302 302 403 login
GET  /statistik/ar/{y}?grupp=skarpnack      login 403 403 403 403 403 403 200 200 200 403 login
GET  /statistik/ar/{y}.csv?grupp=skarpnack  login 403 403 403 403 403 403 200 200 200 403 login
GET  /statistik/ar/{y}/alla                 login 403 403 403 403 403 403 403 403 200 403 login
GET  /statistik/ar/{y}/alla.csv             login 403 403 403 403 403 403 403 403 200 403 login
GET  /svara/{t}                             200 200 200 200 200 200 200 200 200 200 200 200
POST /svara/{t}                             422 422 422 422 422 422 422 422 422 422 422 422
POST /svara/{t}/vidare                      422 422 422 422 422 422 422 422 422 422 422 422
GET  /svara/{t}/bilagor/{ta}                200 200 200 200 200 200 200 200 200 200 200 200
# --- feedback on the answer (issue 17): {fa} an answered report, {f} one whose answer chef A
# found insufficient, {k} chef B's supplement link for {f}
POST /avvikelser/{fa}/aterkoppling          login 422 403 403 403 403 403 403 403 403 403 login
GET  /avvikelser/{f}/komplettera            login 403 200 200 403 403 403 403 403 403 403 login
POST /avvikelser/{f}/komplettera            login 403 422 422 403 403 403 403 403 403 403 login
GET  /komplettera/{k}                       200 200 200 200 200 200 200 200 200 200 200 200
POST /komplettera/{k}                       422 422 422 422 422 422 422 422 422 422 422 422
GET  /komplettera/{k}/bilagor/{fb}          200 200 200 200 200 200 200 200 200 200 200 200
GET  /komplettera/{k}/bilagor/{a}           404 404 404 404 404 404 404 404 404 404 404 404
# --- decided measures (issue 17): {me} a measure of BUP Farsta, {mt} its link for chef B
GET  /atgarder                              login 200 200 200 200 200 403 403 403 403 403 login
GET  /atgarder/{me}                         login 403 200 200 403 403 403 200 200 403 403 login
POST /atgarder/{me}                         login 403 422 422 403 403 403 403 403 403 403 login
GET  /atgard/{mt}                           200 200 200 200 200 200 200 200 200 200 200 200
POST /atgard/{mt}                           422 422 422 422 422 422 422 422 422 422 422 422
# --- accounts (issue 14): links, Mitt konto, the second step, the administrator's buttons
GET  /glomt-losenord                             200 200 200 200 200 200 200 200 200 200 200 200
POST /glomt-losenord                             422 422 422 422 422 422 422 422 422 422 422 422
GET  /inbjudan/{it}                              200 200 200 200 200 200 200 200 200 200 200 200
POST /inbjudan/{it}                              422 422 422 422 422 422 422 422 422 422 422 422
GET  /aterstall/{rt}                             200 200 200 200 200 200 200 200 200 200 200 200
POST /aterstall/{rt}                             422 422 422 422 422 422 422 422 422 422 422 422
GET  /logga-in/kod                               login 302 302 302 302 302 302 302 302 302 302 login
POST /logga-in/kod                               login 302 302 302 302 302 302 302 302 302 302 login
GET  /mitt-konto                                 login 200 200 200 200 200 200 200 200 200 200 login
POST /mitt-konto/losenord                        login 422 422 422 422 422 422 422 422 422 422 login
GET  /mitt-konto/tvastegsverifiering             login 200 200 200 200 200 200 200 200 200 200 login
POST /mitt-konto/tvastegsverifiering/starta      login 302 302 302 302 302 302 302 302 302 302 login
POST /mitt-konto/tvastegsverifiering/aktivera    login 422 422 422 422 422 422 422 422 422 422 login
POST /mitt-konto/tvastegsverifiering/reservkoder login 302 302 302 302 302 302 302 302 302 302 login
POST /mitt-konto/tvastegsverifiering/stang-av    login 302 302 302 302 302 302 302 302 302 302 login
GET  /ingen-roll                                 login 302 302 302 302 302 302 302 302 302 302 login
GET  /tillganglighet                             200 200 200 200 200 200 200 200 200 200 200 200
GET  /admin                                      login 403 403 403 403 403 403 403 403 403 200 login
POST /admin/personer/{p}/inbjudan                login 403 403 403 403 403 403 403 403 403 302 login
POST /admin/personer/{p}/las-upp                 login 403 403 403 403 403 403 403 403 403 302 login
POST /admin/personer/{p}/tvastegsverifiering     login 403 403 403 403 403 403 403 403 403 302 login
# --- sign-on (issue 15, item 1): public doors, 404 while FORMSERVICE_OIDC_ISSUER is unset
# (as here); with a provider, tests/integration/test_sign_on.py walks them for every role
GET  /logga-in/oidc/start                        404 404 404 404 404 404 404 404 404 404 404 404
GET  /logga-in/oidc                              404 404 404 404 404 404 404 404 404 404 404 404
# ---
POST /logga-ut login login login login login login login login login login login login
# --- operations (issue 15): public health; readiness fails here (no worker heartbeat); the
# metrics need FORMSERVICE_METRICS_TOKEN (unset here), which no role has: 404 for everyone
GET  /healthz                               200 200 200 200 200 200 200 200 200 200 200 200
GET  /readyz                                503 503 503 503 503 503 503 503 503 503 503 503
GET  /metrics                               404 404 404 404 404 404 404 404 404 404 404 404
"""

# --- issue 14: Granskningslogg and Registerutdrag, the administrator's only (walked before the
# logout that ends MATRIX). A POST without data is refused by the form's checks (422).
ADMIN_AUDIT_MATRIX = """
GET  /admin/granskningslogg                 login 403 403 403 403 403 403 403 403 403 200 login
GET  /admin/granskningslogg.csv             login 403 403 403 403 403 403 403 403 403 200 login
GET  /admin/registerutdrag                  login 403 403 403 403 403 403 403 403 403 200 login
POST /admin/registerutdrag                  login 403 403 403 403 403 403 403 403 403 422 login
POST /admin/registerutdrag/utdrag           login 403 403 403 403 403 403 403 403 403 422 login
"""

# Administration (issue 14): the administrator only, logged-in others 403. {p} is a person
# made for the walk (the administrator deactivates and activates them); the units, group and
# huvudman named are the demo directory's (still there, inactive, after the removal).
ADMIN_MATRIX = """
GET  /admin                                 login 403 403 403 403 403 403 403 403 403 200 login
GET  /admin/verksamheter?q=bup&inaktiva=y   login 403 403 403 403 403 403 403 403 403 200 login
GET  /admin/verksamheter/ny                 login 403 403 403 403 403 403 403 403 403 200 login
POST /admin/verksamheter/ny                 login 403 403 403 403 403 403 403 403 403 422 login
GET  /admin/verksamheter/bup-farsta         login 403 403 403 403 403 403 403 403 403 200 login
POST /admin/verksamheter/bup-farsta         login 403 403 403 403 403 403 403 403 403 422 login
GET  /admin/personer?q=ines                 login 403 403 403 403 403 403 403 403 403 200 login
GET  /admin/personer/ny                     login 403 403 403 403 403 403 403 403 403 200 login
POST /admin/personer/ny                     login 403 403 403 403 403 403 403 403 403 422 login
GET  /admin/personer/{p}                    login 403 403 403 403 403 403 403 403 403 200 login
POST /admin/personer/{p}                    login 403 403 403 403 403 403 403 403 403 422 login
POST /admin/personer/{p}/inaktivera         login 403 403 403 403 403 403 403 403 403 302 login
POST /admin/personer/{p}/aktivera           login 403 403 403 403 403 403 403 403 403 302 login
GET  /admin/bus-grupper                     login 403 403 403 403 403 403 403 403 403 200 login
GET  /admin/bus-grupper/ny                  login 403 403 403 403 403 403 403 403 403 200 login
POST /admin/bus-grupper/ny                  login 403 403 403 403 403 403 403 403 403 422 login
GET  /admin/bus-grupper/skarpnack           login 403 403 403 403 403 403 403 403 403 200 login
POST /admin/bus-grupper/skarpnack           login 403 403 403 403 403 403 403 403 403 422 login
GET  /admin/huvudman                        login 403 403 403 403 403 403 403 403 403 200 login
GET  /admin/huvudman/ny                     login 403 403 403 403 403 403 403 403 403 200 login
POST /admin/huvudman/ny                     login 403 403 403 403 403 403 403 403 403 422 login
GET  /admin/huvudman/region-stockholm       login 403 403 403 403 403 403 403 403 403 200 login
POST /admin/huvudman/region-stockholm       login 403 403 403 403 403 403 403 403 403 422 login
GET  /admin/sekretariatet                   login 403 403 403 403 403 403 403 403 403 200 login
GET  /admin/sekretariatet/ny                login 403 403 403 403 403 403 403 403 403 200 login
POST /admin/sekretariatet/ny                login 403 403 403 403 403 403 403 403 403 422 login
GET  /admin/kategorier                      login 403 403 403 403 403 403 403 403 403 200 login
POST /admin/kategorier/ny                   login 403 403 403 403 403 403 403 403 403 422 login
POST /admin/kategorier/ovrigt/namn          login 403 403 403 403 403 403 403 403 403 422 login
POST /admin/kategorier/finns-inte/ta-bort   login 403 403 403 403 403 403 403 403 403 404 login
GET  /admin/katalog                         login 403 403 403 403 403 403 403 403 403 200 login
POST /admin/katalog                         login 403 403 403 403 403 403 403 403 403 422 login
POST /admin/katalog/genomfor                login 403 403 403 403 403 403 403 403 403 422 login
GET  /admin/katalog.yaml                    login 403 403 403 403 403 403 403 403 403 200 login
"""

# Demo mode only (issue 16): these routes exist in an app made with FORMSERVICE_DEMO (any
# visitor of the demo may read its mail sink and sign in as a demo account, {p} here); in one
# made without it they are 404 for every role (`test_the_demo_matrix`).
DEMO_MATRIX = """
GET  /demo/epost                            200 200 200 200 200 200 200 200 200 200 200 200
GET  /demo/epost/finns-inte                 404 404 404 404 404 404 404 404 404 404 404 404
POST /demo/logga-in-som/{p}                 302 302 302 302 302 302 302 302 302 302 302 302
"""

# Routes the matrix does not walk, and why.
NOT_WALKED = {
    ("static", "GET"): "public style sheet and script",
    ("auth.login", "POST"): "every role above logs in through it",
}

# After the re-import (`reorganised`): BUP Farsta, Skarpnäcks grundskola and Lokal BUS
# Skarpnäck are gone. Their former chef, deputy, secretary and convener are still in the
# directory in other roles and now get exactly what a person of the same kind without any tie
# to these cases gets; Greta, no longer in the directory, is logged out. The answer link of
# BUP Farsta's chef is stale.
FORMER = {
    "chef_b": "unrelated",
    "deputy_b": "unrelated",
    "chair": "anon",
    "secretary": "other_sec",
    "convener": "other_sec",
}
STALE_LINK = "410"


def rows() -> list[tuple[str, str, dict[str, str]]]:
    table = []
    lines = (MATRIX + ADMIN_AUDIT_MATRIX + ADMIN_MATRIX).strip().splitlines()
    lines.sort(key=lambda line: "/logga-ut" in line)  # the logout ends the walk: last
    for line in lines:
        if not line.strip() or line.startswith("#"):  # a block's heading
            continue
        method, route, *outcomes = line.split()
        assert len(outcomes) == len(ROLES), route
        table.append((method, route, dict(zip(ROLES, outcomes, strict=True))))
    return table


def expected(outcomes: dict[str, str], route: str, role: str, removed: bool) -> str:
    if not removed:
        return outcomes[role]
    if route.startswith(("/svara/", "/komplettera/", "/atgard/")):
        return STALE_LINK
    return outcomes[FORMER.get(role, role)]


def second_group_data() -> dict:
    """The demo directory plus a second local BUS group with its own secretary."""
    data = yaml.safe_load(DEMO_DIRECTORY.read_text(encoding="utf-8"))
    data["bus_groups"].append(
        {
            "id": "farsta",
            "name": "Lokal BUS Farsta",
            "convener": {"name": "Otto Ordf", "email": "otto.ordf@stad.example"},
            "secretary": {"name": "Olle Annan", "email": "olle.annan@stad.example"},
        }
    )
    data["units"].append(
        {
            "id": "grundskola-farsta",
            "name": "Farsta grundskola",
            "huvudman": "stockholms-stad",
            "type": "grundskola",
            "bus_groups": ["farsta"],
            "chef": {"name": "Fredrik Farsta", "email": "fredrik.farsta@stad.example"},
        }
    )
    return data


def with_second_group() -> None:
    import_directory(second_group_data())
    give_password(db.session.scalars(select(User)))


def reorganised(keep_deputy: bool = True) -> dict:
    """`second_group_data` without Lokal BUS Skarpnäck (its units move to Farsta), BUP Farsta
    and Skarpnäcks grundskola. BUP Farsta's chef and deputy lead BUP Södermalm instead (the
    deputy only with `keep_deputy`); Skarpnäck's secretary and convener lead a new group;
    Greta is in the file no more."""
    data = second_group_data()
    groups = {g["id"]: g for g in data["bus_groups"]}
    skarpnack = groups.pop("skarpnack")
    units = {u["id"]: u for u in data["units"]}
    bup = units.pop("bup-farsta")
    del units["grundskola-skarpnack"]
    data["bus_groups"] = [
        *groups.values(),
        {
            "id": "enskede",
            "name": "Lokal BUS Enskede",
            "convener": skarpnack["convener"],
            "secretary": skarpnack["secretary"],
        },
    ]
    for unit in units.values():
        unit["bus_groups"] = ["farsta"]
    moved = {"id": "bup-sodermalm", "name": "BUP Södermalm", "chef": bup["chef"]}
    moved["deputies"] = bup["deputies"] if keep_deputy else []
    data["units"] = [*units.values(), {**bup, **moved, "bus_groups": ["farsta"]}]
    return data


def pdf_upload(name: str) -> deviations_service.Upload:
    data = b"%PDF-1.4 test " + name.encode()
    return deviations_service.Upload(
        name, "application/pdf", hashlib.sha256(data).hexdigest(), data, 1
    )


@pytest.fixture
def world(directory):
    with_second_group()
    deviation = send_report(uploads=[pdf_upload("underlag.pdf")])
    other = send_report(uploads=[pdf_upload("bilaga.pdf")])
    answered = send_report()
    deviations_service.answer(answered, CHEF_B, answer_input())
    insufficient = send_report(uploads=[pdf_upload("underlag-b.pdf")])
    deviations_service.answer(insufficient, CHEF_B, answer_input())
    verdict = FeedbackInput("insufficient", "Svaret saknar en plan.")
    feedback_service.give(insufficient, user(CHEF_A), verdict)
    past = datetime.now(UTC) - timedelta(days=2)
    sip = sip_meeting(past, state="skickad", held=False, with_files=True)
    record = bus_individ(past.date(), with_files=True)
    meeting = GroupMeeting(
        group_id="skarpnack",
        meeting_date=past.date(),
        place="Stadsdelshuset",
        created_by_id=user(SECRETARY).id,
    )
    db.session.add(meeting)
    db.session.flush()
    digest = Digest(
        meeting_id=meeting.id,
        state="done",
        progress=100,
        case_ids=[deviation.id],
        docx_file_id=stored("sammanstallning.docx").id,
        pdf_file_id=stored("sammanstallning.pdf").id,
        requested_by_id=user(SECRETARY).id,
    )
    failed = db.session.scalar(
        select(OutboxMessage).where(OutboxMessage.deviation_id == deviation.id).limit(1)
    )
    failed.state, failed.last_error = "failed", "SMTP 550"
    db.session.add(digest)
    db.session.commit()
    measure = _closed_with_measure(meeting)
    return {
        "d": deviation.id,
        "a": deviation.attachments[0].id,
        "o": failed.id,
        "s": sip.id,
        "b": record.id,
        "m": meeting.id,
        "g": digest.id,
        "gp": f"{digest.id}/sammanstallning.pdf",
        "gd": f"{digest.id}/sammanstallning.docx",
        "y": date.today().year,
        "t": make_token(other.id, CHEF_B, other.link_version),
        "ta": other.attachments[0].id,
        "fa": answered.id,
        "f": insufficient.id,
        "fb": insufficient.attachments[0].id,
        "k": make_supplement_token(insufficient.id, CHEF_B, insufficient.link_version),
        "p": _walk_person().id,
        "it": make_account_token(INVITE, user(CHEF_A).id, user(CHEF_A).token_version),
        "rt": make_account_token(RESET, user(CHEF_A).id, user(CHEF_A).token_version),
        "me": measure,
        "mt": make_measure_token(measure, CHEF_B),
    }


def _closed_with_measure(meeting: GroupMeeting) -> int:
    """A third report, closed with one measure for BUP Farsta: the measure's id."""
    closed = send_report()
    measure = closing_service.Measure("Ny remissrutin", "bup-farsta", "2027-01-31")
    data = closing_service.ClosingInput(meeting.id, "bekraftad", [measure], False, "")
    closing_service.close(closed, user(SECRETARY), data)
    return db.session.scalar(select(Measure.id).where(Measure.deviation_id == closed.id))


def _walk_person() -> User:
    person = User(email="walt.walk@stad.example", name="Walt Walk", active=True)
    db.session.add(person)
    db.session.commit()
    return person


def _request(client, method: str, url: str):
    g.pop("_login_user", None)  # the fixture's app context outlives requests; a server's not
    return client.open(url, method=method)


@pytest.mark.parametrize("removed", [False, True], ids=["as-imported", "after-removal"])
def test_the_whole_matrix(world, app, removed):
    clients = {}
    for role, email in ROLES.items():  # every session is opened before the directory changes
        clients[role] = client = app.test_client()
        if email:
            g.pop("_login_user", None)
            assert login(client, email).status_code == 302, email
        if role == "link_other":
            assert _request(client, "GET", f"/svara/{world['t']}").status_code == 200
    if removed:
        import_directory(reorganised())
    failures = []
    for role, client in clients.items():
        for method, route, outcomes in rows():
            outcome = expected(outcomes, route, role, removed)
            if outcome == "skip":
                continue
            url = route.format(**world)
            got = _outcome(_request(client, method, url))
            if got != outcome:
                failures.append(f"{role:12} {method} {url}: expected {outcome}, got {got}")
    assert not failures, "\n".join(failures)


def test_the_matrix_walks_every_route(app):
    """A new route fails here until it has its row in MATRIX (or a reason in NOT_WALKED)."""
    adapter = app.url_map.bind("formservice.test")
    ids = {key: 1 for key in ("d", "a", "o", "s", "b", "m", "g", "y", "ta", "p", "fa", "f")}
    ids |= {"gp": "1/sammanstallning.pdf", "gd": "1/sammanstallning.docx", "t": "token"}
    ids |= {"k": "token", "fb": 1}
    ids |= {"p": 1, "it": "token", "rt": "token", "me": 1, "mt": "token"}
    walked = set()
    for method, route, _ in rows():
        endpoint, _ = adapter.match(urlsplit(route.format(**ids)).path, method=method)
        walked.add((endpoint, method))
    routes = {
        (rule.endpoint, method)
        for rule in app.url_map.iter_rules()
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    assert routes - walked - set(NOT_WALKED) == set()


def _demo_rows() -> list[tuple[str, str, dict[str, str]]]:
    table = []
    for line in DEMO_MATRIX.strip().splitlines():
        method, route, *outcomes = line.split()
        table.append((method, route, dict(zip(ROLES, outcomes, strict=True))))
    return table


@pytest.mark.parametrize("demo", [False, True], ids=["not-demo", "demo"])
def test_the_demo_matrix(world, app, new_app, db_url, smtp_sink, tmp_path, demo):
    """The demo's routes as DEMO_MATRIX says in demo mode, and 404 for everyone without it."""
    walked = app
    if demo:
        config = base_config(db_url, smtp_sink, tmp_path) | {"WTF_CSRF_ENABLED": False}
        walked = new_app(config | {"FORMSERVICE_DEMO": True})
        walked.instance_path = str(tmp_path / "demo-instance")
        (tmp_path / "demo-instance").mkdir()
        extra = {r.endpoint for r in walked.url_map.iter_rules()} - {
            r.endpoint for r in app.url_map.iter_rules()
        }
        adapter = walked.url_map.bind("formservice.test")
        listed = {
            adapter.match(route.format(p=1), method=method)[0]
            for method, route, _ in _demo_rows()
            if "finns-inte" not in route
        }
        assert extra == listed | {"demo.message"}
    failures = []
    with walked.app_context():
        for role, email in ROLES.items():
            client = walked.test_client()
            if email:
                g.pop("_login_user", None)
                assert login(client, email).status_code == 302, email
            for method, route, outcomes in _demo_rows():
                url = route.format(**world)
                got = _outcome(_request(client, method, url))
                want = outcomes[role] if demo else "404"
                if got != want:
                    failures.append(f"{role:12} {method} {url}: expected {want}, got {got}")
    assert not failures, "\n".join(failures)


def _outcome(response) -> str:
    if response.status_code == 302 and "/logga-in" in response.headers.get("Location", ""):
        return "login"
    return str(response.status_code)


# --- no e-mail, no reminder, no link after the removal ---------------------------------------

FORMER_PEOPLE = {CHEF_B, DEPUTY_B, SECRETARY, CONVENER, GRETA}
HANNA = "hanna.hab@region.example"  # HC Söderstaden, which stays


def _addresses_after(first_id: int) -> dict[str, set[str]]:
    rows = db.session.scalars(select(OutboxMessage).where(OutboxMessage.id > first_id))
    by_kind: dict[str, set[str]] = {}
    for row in rows:
        by_kind.setdefault(row.kind, set()).add(row.to_email)
    return by_kind


def test_no_mail_or_reminder_for_what_left_the_directory(directory):
    with_second_group()
    to_bup = send_report()  # to BUP Farsta, which goes
    to_hab = send_report(receiving_unit_id="hc-soderstaden")  # to a unit that stays
    later = datetime.now(UTC) + timedelta(days=30)
    sip = sip_meeting(later, state="skickad", held=False, called=("bup-farsta", "hc-soderstaden"))
    record = bus_individ(date.today())  # BUP Farsta takes part, Skarpnäcks grundskola chairs
    first = db.session.scalar(select(db.func.max(OutboxMessage.id)))
    import_directory(reorganised())

    deadline = to_bup.deadline
    for day in (deadline - timedelta(days=7), deadline, deadline + timedelta(days=1)):
        reminders.send_due(day)
    deviations_service.answer(to_hab, HANNA, answer_input())
    deviations_service.withdraw(to_bup, user(CHEF_A))

    sent = _addresses_after(first)
    everyone = set().union(*sent.values())
    assert everyone & FORMER_PEOPLE == set(), sent
    # what stays is still told: the reminders reach HC Söderstaden, the answer chef A
    assert {HANNA} == sent["reminder_before"] == sent["reminder_due"]
    assert CHEF_A in sent["answered"]
    assert "overdue" not in sent  # the removed group's secretary and convener get nothing
    assert "withdrawn" not in sent  # BUP Farsta has no one to tell
    invited = {p.email for p in sip_service.recipients(sip)}
    assert invited == {HANNA}
    told = {p.email for p in bus_individ_service.recipients(record)}
    assert told & FORMER_PEOPLE == set() and CHEF_A in told


def test_mail_written_before_a_person_left_is_not_sent(directory, app, client, smtp_sink):
    """The outbox row stays, marked failed with a reason the secretary reads; no retry."""
    with_second_group()
    report = send_report()  # mail to BUP Farsta's chef and deputy, not yet delivered
    import_directory(reorganised(keep_deputy=False))  # the deputy leaves the directory
    run_worker(app)

    assert smtp_sink.to("bus-avvikelser@storsthlm.example") and not smtp_sink.to(DEPUTY_B)
    row = db.session.scalar(select(OutboxMessage).where(OutboxMessage.to_email == DEPUTY_B))
    assert row.state == "failed"
    link = make_token(report.id, DEPUTY_B, report.link_version)
    stale = client.get(f"/svara/{link}")
    assert stale.status_code == 410
    assert "inte längre chef eller ersättare" in stale.get_data(as_text=True)

    login(client, SECRETARY)  # Skarpnäck's former secretary, now Enskede's
    assert DEPUTY_B not in client.get("/avvikelser").get_data(as_text=True)
    assert client.post(f"/utskick/{row.id}/forsok-igen").status_code == 403


def test_the_secretary_sees_why_and_cannot_retry(directory, app, client, smtp_sink):
    with_second_group()
    send_report()
    data = second_group_data()
    bup = next(u for u in data["units"] if u["id"] == "bup-farsta")
    bup["deputies"] = []  # the deputy leaves the directory; the unit and group stay
    import_directory(data)
    run_worker(app)
    row = db.session.scalar(select(OutboxMessage).where(OutboxMessage.to_email == DEPUTY_B))
    assert row.state == "failed" and not smtp_sink.to(DEPUTY_B)

    login(client, SECRETARY)
    page = client.get("/avvikelser").get_data(as_text=True)
    assert "Mottagaren finns inte längre i katalogen" in page
    assert f"/utskick/{row.id}/forsok-igen" not in page
    retried = client.post(f"/utskick/{row.id}/forsok-igen", follow_redirects=True)
    assert "Utskicket görs inte om" in retried.get_data(as_text=True)
    db.session.refresh(row)
    assert row.state == "failed"


def test_a_draft_to_a_removed_unit_is_not_sent(directory, client):
    with_second_group()
    draft = deviations_service.save(user(CHEF_A), report_input(), send=False).deviation
    import_directory(reorganised())
    login(client, CHEF_A)
    response = client.post(f"/avvikelser/{draft.id}/skicka", follow_redirects=True)
    assert "Mottagande verksamhet finns inte längre i katalogen" in response.get_data(as_text=True)
    db.session.refresh(draft)
    assert draft.state == "utkast" and draft.case_number is None


def test_an_initiator_who_left_the_unit_no_longer_sees_the_child(directory, client):
    """Access to a SIP meeting or BUS-individ record follows the unit, not who wrote it."""
    with_second_group()
    past = datetime.now(UTC) - timedelta(days=2)
    sip = sip_meeting(past, initiator=DEPUTY_A, called=("hc-soderstaden",), with_files=True)
    record = bus_individ(past.date(), with_files=True)
    record.created_by_id = user(DEPUTY_A).id
    db.session.commit()
    data = second_group_data()  # the deputy moves from Familjeenheten to Förskolan Skarpnäck
    units = {u["id"]: u for u in data["units"]}
    erik = units["familjeenheten-skarpnack"].pop("deputies")
    units["forskola-skarpnack"]["deputies"] = erik
    import_directory(data)

    login(client, DEPUTY_A)
    for url in (
        f"/sip/{sip.id}",
        f"/sip/{sip.id}/kallelse.pdf",
        f"/sip/{sip.id}/narvaro",
        f"/bus-individ/{record.id}",
        f"/bus-individ/{record.id}/protokoll.pdf",
    ):
        assert client.get(url).status_code == 403, url
    assert f"/sip/{sip.id}" not in client.get("/sip/").get_data(as_text=True)
    assert f"/bus-individ/{record.id}" not in client.get("/bus-individ/").get_data(as_text=True)


def test_the_menu_forgets_a_removed_group(directory, client):
    """Skarpnäck's secretary, now only a deputy, no longer sees "Styrgrupp" or "Statistik"."""
    with_second_group()
    data = reorganised()
    enskede = data["bus_groups"].pop()
    units = {u["id"]: u for u in data["units"]}
    units["forskola-skarpnack"]["deputies"] = [enskede["secretary"]]
    login(client, SECRETARY)
    assert 'href="/styrgrupp"' in client.get("/avvikelser").get_data(as_text=True)
    import_directory(data)
    g.pop("_login_user", None)
    page = client.get("/avvikelser").get_data(as_text=True)
    assert 'href="/styrgrupp"' not in page and 'href="/statistik"' not in page


# --- "Försök igen" on a failed SIP kallelse or BUS-individ minutes e-mail (issue 12, item 8) --
# The initiating side (chef_a: initiating unit, creator) and the group's secretary; never a
# called or participating unit (chef_b, deputy_b), another group's secretary or anyone else.

RETRY_MATRIX = """
POST /utskick/{fs}/forsok-igen    login 302 403 403 403 403 403 302 403 403 403 login
POST /utskick/{fb}/forsok-igen    login 302 403 403 403 403 403 302 403 403 403 login
POST /utskick/999999/forsok-igen  login 404 404 404 404 404 404 404 404 404 404 login
"""


@pytest.fixture
def failed_deliveries(world):
    from formservice.models import BusIndivid, OutboxMessage, SipMeeting
    from formservice.services import bus_individ as bus_individ_service
    from formservice.services import outbox
    from formservice.services import sip as sip_service

    meeting = db.session.get(SipMeeting, world["s"])
    record = db.session.get(BusIndivid, world["b"])
    sip_rows = outbox.rows(
        "sip_invitation", sip_service.recipients(meeting), None, **sip_service.summary(meeting)
    )
    minutes = bus_individ_service.recipients(record)
    minutes_rows = outbox.rows(
        "bus_individ_minutes", minutes, None, **bus_individ_service.summary(record)
    )
    ids = outbox.write([sip_rows[0], minutes_rows[0]])
    for message in db.session.scalars(select(OutboxMessage).where(OutboxMessage.id.in_(ids))):
        message.state = "failed"
    db.session.commit()
    return {**world, "fs": ids[0], "fb": ids[1]}


def test_retrying_failed_deliveries(failed_deliveries, app):
    failures = []
    for role, email in ROLES.items():
        g.pop("_login_user", None)
        client = app.test_client()
        if email:
            assert login(client, email).status_code == 302, email
        for line in RETRY_MATRIX.strip().splitlines():
            method, route, *outcomes = line.split()
            url = route.format(**failed_deliveries)
            got = _outcome(client.open(url, method=method))
            expected = dict(zip(ROLES, outcomes, strict=True))[role]
            if got != expected:
                failures.append(f"{role:12} {method} {url}: expected {expected}, got {got}")
    assert not failures, "\n".join(failures)
