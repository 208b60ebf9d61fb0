"""Statistics pages, CSV exports and the yearly follow-up, on both databases (SPEC §6)."""

from __future__ import annotations

import csv
import io
import time
from datetime import UTC, date, datetime, timedelta
from html.parser import HTMLParser

import pytest
from sqlalchemy import event, insert, select

from formservice import clock
from formservice.domain.deviation import DEFAULT_CATEGORIES
from formservice.extensions import db
from formservice.models import AuditEvent, Deviation, SipMeeting
from formservice.services import categories
from formservice.services import statistics_report as reports
from tests.support.app import login

from .helpers import CHEF_A, CONVENER, SECRETARIAT, SECRETARY, add_farsta_group, user
from .meeting_helpers import bus_individ, sip_meeting

TODAY = date(2026, 11, 22)
OTHER_SECRETARY = "stina.sekr@stad.example"
REMISS = "Remiss eller förfrågan obesvarad eller avvisad"
CODES = {label: code for code, label in DEFAULT_CATEGORIES}  # reports store codes
VANTETID = "Väntetid eller tillgänglighet"
H1 = "period=2026H1"
FAM_BUP = "Familjeenheten Skarpnäck → BUP Farsta"
FAM_HC = "Familjeenheten Skarpnäck → HC Söderstaden"
HIDDEN = ("<3", "dolt")


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.fixture(autouse=True)
def fixed_today(monkeypatch):
    monkeypatch.setattr(clock, "today", lambda: TODAY)


@pytest.fixture
def groups(directory):
    """The demo directory plus a second group (Farsta) with its own secretary and unit."""
    add_farsta_group(OTHER_SECRETARY)
    return directory


def deviation(
    sent_at: datetime,
    categories: list[str],
    *,
    state: str = "skickad",
    answered_at: datetime | None = None,
    deadline: date | None = None,
    reporting: str = "familjeenheten-skarpnack",
    receiving: str = "bup-farsta",
    group_id: str = "skarpnack",
) -> Deviation:
    report = Deviation(
        state=state,
        reporting_unit_id=reporting,
        receiving_unit_id=receiving,
        group_id=group_id,
        created_by_id=user(CHEF_A).id,
        event_date=sent_at.date(),
        categories=[CODES[label] for label in categories],
        description="Syntetisk testavvikelse.",
        actions_taken="Inget.",
        bus_individ=False,
        child_gender="flicka",
        sent_at=sent_at,
        answered_at=answered_at,
        deadline=deadline or (sent_at.date() + timedelta(days=30)),
    )
    db.session.add(report)
    db.session.commit()
    return report


def seed() -> None:
    """Known figures for Skarpnäck 2026 H1, with data either side of the local boundaries."""
    # SIP in H1: flicka 3 (first 2, follow-up 1), pojke 2 (first 1, follow-up 1), annat 0.
    sip_meeting(utc(2026, 6, 30, 21, 59), gender="flicka")  # 23:59 on 30 June locally: H1
    sip_meeting(utc(2026, 2, 2, 9), gender="flicka")
    sip_meeting(utc(2026, 3, 3, 9), gender="flicka", meeting_type="uppfoljning")
    sip_meeting(utc(2026, 4, 4, 9), gender="pojke")
    sip_meeting(utc(2026, 5, 5, 9), gender="pojke", meeting_type="uppfoljning")
    # 00:30 on 1 July locally although 30 June in UTC: H2.
    sip_meeting(utc(2026, 6, 30, 22, 30), gender="pojke", meeting_type="uppfoljning")
    sip_meeting(utc(2026, 3, 3, 9), gender="annat", group_id="farsta")  # another group
    sip_meeting(utc(2026, 3, 9, 9), gender="annat", state="skickad")  # not held
    meeting = sip_meeting(utc(2026, 8, 8, 9), gender="flicka")  # H2, short notice
    meeting.short_notice = True
    db.session.commit()
    bus_individ(date(2026, 5, 5), gender="annat")
    bus_individ(date(2026, 7, 1), gender="pojke", agreement_reached=False)
    # Deviations. 23:30 UTC on New Year's Eve is 00:30 on 1 January locally: 2026 H1.
    deviation(
        utc(2025, 12, 31, 23, 30),
        [REMISS],
        state="besvarad",
        answered_at=utc(2026, 1, 5, 10),
        deadline=date(2026, 1, 31),
    )  # answered after 4 days, in time
    deviation(
        utc(2026, 2, 1, 9),
        [REMISS, VANTETID],
        state="behandlad",
        answered_at=utc(2026, 3, 20, 10),
        deadline=date(2026, 3, 3),
    )  # answered after 47 days, late
    deviation(utc(2026, 3, 1, 9), [REMISS], receiving="hc-soderstaden")  # unanswered, overdue
    deviation(utc(2026, 4, 1, 9), [VANTETID], state="återkallad")  # withdrawn: not overdue
    deviation(utc(2026, 6, 30, 22, 30), ["Övrigt"], reporting="grundskola-skarpnack")  # H2
    deviation(utc(2025, 12, 31, 22, 30), [REMISS])  # 23:30 on 31 December locally: 2025
    deviation(utc(2026, 3, 3, 9), [REMISS], group_id="farsta", reporting="forskola-farsta")


class Figures(HTMLParser):
    """Each table (by id, else its figure's caption) as rows of cell texts; each dl by id."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self.lists: dict[str, dict[str, str]] = {}
        self._caption: str | None = None
        self._text: list[str] | None = None
        self._rows: list[list[str]] | None = None
        self._dl: dict[str, str] | None = None
        self._dt = ""
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag in ("figcaption", "th", "td", "dt", "dd"):
            self._text = []
        elif tag == "table":
            self._rows = self.tables.setdefault(attrs.get("id") or self._caption or "?", [])
        elif tag == "tr" and self._rows is not None:
            self._rows.append([])
        elif tag == "dl" and attrs.get("id"):
            self._dl = self.lists.setdefault(attrs["id"], {})

    def handle_endtag(self, tag):
        text = " ".join("".join(self._text or []).split())
        if tag == "figcaption":
            self._caption = text
        elif tag in ("th", "td") and self._rows:
            self._rows[-1].append(text)
        elif tag == "table":
            self._rows = None
        elif tag == "dt":
            self._dt = text
        elif tag == "dd" and self._dl is not None:
            self._dl[self._dt] = text
        elif tag == "dl":
            self._dl = None
        if tag in ("figcaption", "th", "td", "dt", "dd"):
            self._text = None

    def handle_data(self, data):
        if self._text is not None:
            self._text.append(data)

    def pairs(self, key: str) -> dict[str, str]:
        return {row[0]: row[1] for row in self.tables[key][1:]}


def figures(response) -> Figures:
    return Figures(response.get_data(as_text=True))


def csv_rows(response) -> list[list[str]]:
    data = response.get_data()
    assert data.startswith(b"\xef\xbb\xbf")  # UTF-8 with BOM for Excel
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig")), delimiter=";"))


def values(rows: list[list[str]], section: str) -> dict[str, str]:
    return {row[3]: row[4] for row in rows[1:] if row[2] == section}


# --- the period page --------------------------------------------------------------------


def test_secretary_sees_the_exact_figures_of_the_half_year(client, groups):
    seed()
    login(client, SECRETARY)
    response = client.get(f"/statistik?grupp=skarpnack&{H1}")
    assert response.status_code == 200
    page = figures(response)
    assert page.pairs("SIP-möten efter barnets kön") == {
        "Flicka": "3",
        "Pojke": "2",
        "Annat eller uppgift saknas": "0",
    }
    assert page.tables["sip-kon-typ"][1:] == [
        ["Flicka", "2", "1", "3"],
        ["Pojke", "1", "1", "2"],
        ["Annat eller uppgift saknas", "0", "0", "0"],
        ["Totalt", "3", "2", "5"],
    ]
    assert page.pairs("BUS-individ efter barnets kön")["Annat eller uppgift saknas"] == "1"
    categories = page.pairs("Avvikelser efter kategori")
    assert (categories[REMISS], categories[VANTETID], categories["Övrigt"]) == ("3", "2", "0")
    assert page.pairs("Avvikelser efter verksamhetspar (rapporterande → mottagande)") == {
        FAM_BUP: "3",
        FAM_HC: "1",
    }
    states = page.pairs("Avvikelser efter status i dag")
    assert states == {
        "Skickad": "1",
        "Besvarad": "1",
        "Behandlad": "1",
        "Avslutad": "0",
        "Återkallad": "1",
    }
    assert page.lists["avv-svar"] == {
        "Besvarade": "2",
        "Besvarade i tid": "1 (50,0 %)",
        "Mediantid till svar": "25,5 dagar",
        "Obesvarade efter svarsfristen": "1",
    }
    assert "Små tal döljs" not in response.get_data(as_text=True)


def test_the_second_half_year_starts_at_local_midnight(client, groups):
    seed()
    login(client, CONVENER)
    page = figures(client.get("/statistik?grupp=skarpnack&period=2026H2"))
    assert page.pairs("SIP-möten efter barnets kön")["Pojke"] == "1"
    assert page.pairs("Avvikelser efter kategori")["Övrigt"] == "1"
    assert page.pairs("Avvikelser efter kategori")[REMISS] == "0"


def test_a_custom_range_counts_whole_local_days(client, groups):
    seed()
    login(client, SECRETARY)
    page = figures(client.get("/statistik?grupp=skarpnack&fran=2026-01-01&till=2026-01-01"))
    assert page.pairs("Avvikelser efter kategori")[REMISS] == "1"  # sent 23:30 UTC on 31 Dec
    page = figures(client.get("/statistik?grupp=skarpnack&fran=2026-06-30&till=2026-06-30"))
    assert page.pairs("SIP-möten efter barnets kön")["Flicka"] == "1"


def test_csv_is_always_suppressed_and_audited(client, groups):
    seed()
    login(client, SECRETARY)
    response = client.get(f"/statistik.csv?grupp=skarpnack&{H1}")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = csv_rows(response)
    assert rows[0] == ["BUS-grupp", "Period", "Avsnitt", "Uppgift", "Värde"]
    assert rows[1] == ["Lokal BUS Skarpnäck", "2026 H1 (jan–jun)", "SIP-möten", "Totalt", "5"]
    # Boys: one first meeting, one follow-up, 2 in all: "<3" for all three would say both
    # are 1, so the table's small counts are hidden without saying they are small.
    assert values(rows, "SIP-möten efter kön") == {
        "Flicka": "dolt",
        "Pojke": "dolt",
        "Annat eller uppgift saknas": "0",
    }
    assert values(rows, "SIP-möten efter typ") == {"Första SIP-möte": "dolt", "Uppföljning": "dolt"}
    assert values(rows, "BUS-individ")["Totalt"] == "<3"
    categories = values(rows, "Avvikelser efter kategori")
    assert (categories[REMISS], categories[VANTETID], categories["Övrigt"]) == ("3", "<3", "0")
    # 3 + "<3" = 4 would give the small pair away: the 3 and the total are hidden too.
    assert values(rows, "Avvikelser efter verksamhetspar") == {FAM_BUP: "dolt", FAM_HC: "<3"}
    assert values(rows, "Avvikelser")["Totalt"] == "dolt"
    assert values(rows, "Svarstider") == {
        "Besvarade": "<3",
        "Besvarade i tid": "<3",
        "Andel besvarade i tid (%)": "",  # rests on fewer than 3 answers
        "Mediansvarstid (dagar)": "",
        "Obesvarade efter svarsfristen": "<3",
    }
    event_ = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "statistics.exported"))
    assert event_ is not None and event_.detail["group"] == "skarpnack"
    assert event_.actor == SECRETARY


def test_secretariat_sees_any_group_and_all_groups_suppressed(client, groups):
    seed()
    login(client, SECRETARIAT[0])
    response = client.get(f"/statistik?grupp=skarpnack&{H1}")
    assert response.status_code == 200
    page = figures(response)
    assert page.pairs("SIP-möten efter barnets kön") == {
        "Flicka": "dolt",
        "Pojke": "dolt",
        "Annat eller uppgift saknas": "0",
    }
    assert page.lists["avv-svar"]["Mediantid till svar"] == "–"
    assert "Små tal döljs" in response.get_data(as_text=True)
    every = figures(client.get(f"/statistik?grupp=alla&{H1}"))
    assert every.pairs("SIP-möten efter barnets kön")["Annat eller uppgift saknas"] in HIDDEN
    assert every.pairs("Avvikelser efter kategori")[REMISS] == "4"  # Farsta's report counts
    default = client.get("/statistik")
    assert default.status_code == 200 and "Alla grupper" in default.get_data(as_text=True)


def test_the_threshold_is_a_setting(client, groups, app):
    seed()
    app.config["FORMSERVICE_SMALL_CELL_THRESHOLD"] = 4
    login(client, SECRETARY)
    rows = csv_rows(client.get(f"/statistik.csv?grupp=skarpnack&{H1}"))
    assert values(rows, "SIP-möten efter kön")["Flicka"] == "<4"


def test_who_may_not_see_statistics(client, groups):
    login(client, CHEF_A)
    assert client.get("/statistik").status_code == 403
    assert client.get("/statistik.csv").status_code == 403
    assert client.get("/statistik/ar/2026").status_code == 403
    client.post("/logga-ut")
    login(client, OTHER_SECRETARY)
    assert client.get("/statistik?grupp=farsta").status_code == 200
    assert client.get("/statistik?grupp=skarpnack").status_code == 403
    assert client.get("/statistik.csv?grupp=skarpnack").status_code == 403
    assert client.get("/statistik?grupp=alla").status_code == 403
    assert client.get("/statistik/ar/2026?grupp=skarpnack").status_code == 403
    assert client.get("/statistik/ar/2026/alla").status_code == 403


def test_statistics_link_in_the_menu_only_for_those_who_may(client, groups):
    login(client, CHEF_A)
    assert 'href="/statistik"' not in client.get("/avvikelser").get_data(as_text=True)
    client.post("/logga-ut")
    login(client, SECRETARY)
    assert 'href="/statistik"' in client.get("/avvikelser").get_data(as_text=True)


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("period=2026H3", "Period: ange ett halvår eller år"),
        ("period=1999", "Period: ange ett halvår eller år"),
        ("fran=2026-02-30&till=2026-03-01", "Från: ange ett datum som ÅÅÅÅ-MM-DD."),
        ("fran=2026-03-01", "Till: fyll i ett datum för eget intervall."),
        ("fran=2026-03-01&till=2026-02-01", "Till: datumet kan inte ligga före Från-datumet."),
        ("fran=9999-12-31&till=9999-12-31", "Från: ange ett datum mellan åren 2000 och 2100."),
        ("period=egen", "Från: fyll i ett datum för eget intervall."),
        ("grupp=finns-inte", "BUS-grupp: välj en grupp i listan."),
    ],
)
def test_bad_input_is_a_form_error_naming_the_field(client, groups, query, message):
    login(client, SECRETARY)
    for path in ("/statistik", "/statistik.csv"):
        response = client.get(f"{path}?{query}")
        assert response.status_code == 422
        page = response.get_data(as_text=True)
        assert message in page and "Formuläret innehåller fel" in page


# --- the year -----------------------------------------------------------------------------


def test_yearly_follow_up_for_the_secretary(client, groups):
    seed()
    login(client, SECRETARY)
    response = client.get("/statistik/ar/2026?grupp=skarpnack")
    assert response.status_code == 200
    page = figures(response)
    assert page.pairs("SIP-möten efter barnets kön") == {
        "Flicka": "4",
        "Pojke": "3",
        "Annat eller uppgift saknas": "0",
    }
    assert page.pairs("BUS-individ efter barnets kön")["Pojke"] == "1"
    totals = {row[0]: row[1:] for row in page.tables["ar-avv-totalt"][1:]}
    assert totals["Skickade avvikelser"] == ["4", "1", "5"]
    assert totals["Mediantid till svar (dagar)"] == ["25,5", "–", "25,5"]
    assert totals["Obesvarade efter svarsfristen"] == ["1", "1", "2"]
    pairs = {row[0]: row[1:] for row in page.tables["ar-avv-par"][1:]}
    assert pairs[FAM_BUP] == ["3", "0", "3"]
    assert pairs["Skarpnäcks grundskola → BUP Farsta"] == ["0", "1", "1"]
    assert page.lists["ar-process-sip"] == {
        "Genomförda SIP-möten": "7",
        "Första SIP-möte": "4",
        "Uppföljning": "3",
        "Kallade med kortare kallelsetid": "1 (14,3 %)",
    }
    agreement = page.pairs("BUS-individ: nåddes en överenskommelse?")
    assert agreement == {
        "Överenskommelse nåddes": "1",
        "Ingen överenskommelse": "1",
        "Uppgift saknas": "0",
    }


def test_yearly_csv_is_suppressed(client, groups):
    seed()
    login(client, SECRETARY)
    rows = csv_rows(client.get("/statistik/ar/2026.csv?grupp=skarpnack"))
    assert values(rows, "SIP-möten efter kön")["Flicka"] == "4"
    assert values(rows, "Processen för SIP")["Med kortare kallelsetid"] == "<3"
    halves = [row for row in rows if row[2] == "Avvikelser" and row[3] == "Totalt"]
    # H1: four states of one case each ("<3" four times and 4 in all would say each is 1);
    # H2 + H1 = the year would then give the hidden H1 total away.
    assert [(row[1], row[4]) for row in halves] == [
        ("2026 H1 (jan–jun)", "dolt"),
        ("2026 H2 (jul–dec)", "dolt"),
        ("Helår 2026", "dolt"),
    ]


def test_yearly_form_and_bad_years(client, groups):
    login(client, SECRETARY)
    response = client.get("/statistik/ar?ar=2026&grupp=skarpnack")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/statistik/ar/2026?grupp=skarpnack")
    for path in ("/statistik/ar?ar=tjugo", "/statistik/ar/1999", "/statistik/ar/2101.csv"):
        bad = client.get(path)
        assert bad.status_code == 422
        assert "År: ange ett år mellan 2000 och 2100." in bad.get_data(as_text=True)


def test_all_groups_compilation_for_the_secretariat(client, groups):
    seed()
    login(client, SECRETARIAT[0])
    response = client.get("/statistik/ar/2026/alla")
    assert response.status_code == 200
    table = figures(response).tables["sammanstallning"]
    assert table[0] == ["", "SIP-möten", "BUS-individ", "Avvikelser"]
    rows = {row[0]: row[1:] for row in table[2:]}
    assert list(rows) == ["Lokal BUS Farsta", "Lokal BUS Skarpnäck", "Totalt, alla grupper"]
    export = client.get("/statistik/ar/2026/alla.csv")
    rows_csv = csv_rows(export)
    page_rows = [["" if cell == "–" else cell for cell in row] for row in rows.values()]
    assert [row[1:] for row in rows_csv[1:]] == page_rows  # the same figures
    column = {name: i for i, name in enumerate(rows_csv[0][1:])}
    skarpnack, farsta, total = (
        rows["Lokal BUS Skarpnäck"],
        rows["Lokal BUS Farsta"],
        rows["Totalt, alla grupper"],
    )
    # Farsta's one meeting is hidden, so Skarpnäck's 7 (= 8 - Farsta) and enough of the
    # genders to keep it so.
    assert total[column["SIP-möten: Totalt"]] == "8"
    assert skarpnack[column["SIP-möten: Flicka"]] == "4"
    assert skarpnack[column["SIP-möten: Totalt"]] == "dolt"
    assert farsta[column["SIP-möten: Totalt"]] in HIDDEN
    assert skarpnack[column["Avvikelser: Totalt"]] == "dolt"  # 6 - "<3" would give it
    assert farsta[column["Avvikelser: Totalt"]] == "<3"
    assert total[column["Avvikelser: Totalt"]] == "6"
    assert total[column["Avvikelser: Obesvarade efter svarsfristen"]] == "3"  # Farsta's counts too
    assert skarpnack[column["Avvikelser: Mediansvarstid (dagar)"]] == "–"  # rests on 2 answers
    assert rows_csv[0][0] == "BUS-grupp" and rows_csv[-1][0] == "Totalt, alla grupper"
    assert db.session.scalar(
        select(AuditEvent.object_id).where(AuditEvent.action == "statistics.exported")
    ) == ("arssammanstallning-alla-grupper-2026.csv")
    assert client.get("/statistik/ar/1999/alla").status_code == 422


def test_secretary_may_not_see_the_compilation(client, groups):
    login(client, SECRETARY)
    assert client.get("/statistik/ar/2026/alla").status_code == 403
    assert client.get("/statistik/ar/2026/alla.csv").status_code == 403


# --- size -----------------------------------------------------------------------------------


def _count_queries(func) -> int:
    seen: list[str] = []

    def listen(conn, cursor, statement, *args):
        seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", listen)
    try:
        func()
    finally:
        event.remove(db.engine, "before_cursor_execute", listen)
    return len(seen)


def test_the_number_of_queries_does_not_grow_with_the_data(groups):
    def report():
        categories.forget()  # as in a new request: the form's versions are read once more
        reports.yearly_report("skarpnack", 2026, "Europe/Stockholm", TODAY)

    seed()
    db.session.expire_all()
    few = _count_queries(report)
    for n in range(20):
        deviation(utc(2026, 5, 1 + n, 9), [REMISS], answered_at=utc(2026, 6, 1, 9))
        sip_meeting(utc(2026, 5, 1 + n, 9), gender="pojke")
    db.session.expire_all()
    assert _count_queries(report) == few


@pytest.mark.slow
def test_ten_thousand_cases_and_five_thousand_meetings_stay_fast(groups):
    """10 000 deviations and 5 000 held SIP meetings: the yearly report in a few seconds."""
    chef = user(CHEF_A).id
    start = utc(2026, 1, 1, 9)
    db.session.execute(
        insert(Deviation),
        [
            {
                "state": "besvarad" if n % 2 else "skickad",
                "reporting_unit_id": "familjeenheten-skarpnack",
                "receiving_unit_id": ("bup-farsta", "hc-soderstaden")[n % 2],
                "group_id": "skarpnack",
                "created_by_id": chef,
                "event_date": date(2026, 1, 1),
                "categories": [CODES[REMISS], CODES[VANTETID]][: 1 + n % 2],
                "description": "x",
                "actions_taken": "x",
                "bus_individ": False,
                "child_gender": "flicka",
                "sent_at": start + timedelta(minutes=50 * n),
                "answered_at": start + timedelta(minutes=50 * n, days=3) if n % 2 else None,
                "deadline": date(2026, 12, 1),
                "link_version": 1,
                "form_version": 1,
                "proposal": "",
            }
            for n in range(10_000)
        ],
    )
    initiator = sip_meeting(start, gender="flicka").initiator_user_id
    db.session.execute(
        insert(SipMeeting),
        [
            {
                "state": "genomford",
                "meeting_type": ("forsta", "uppfoljning")[n % 2],
                "group_id": "skarpnack",
                "child_gender": ("flicka", "pojke", "annat")[n % 3],
                "child_over_15": False,
                "guardians": [],
                "consent": {},
                "invitees": [],
                "meeting_at": start + timedelta(minutes=100 * n),
                "initiator_unit_id": "familjeenheten-skarpnack",
                "initiator_user_id": initiator,
                "short_notice": n % 10 == 0,
                "held_at": start + timedelta(minutes=100 * n),
            }
            for n in range(4_999)
        ],
    )
    db.session.commit()
    began = time.perf_counter()
    report = reports.yearly_report("skarpnack", 2026, "Europe/Stockholm", TODAY)
    compiled = reports.compilation(2026, "Europe/Stockholm", TODAY)
    elapsed = time.perf_counter() - began
    assert report["deviations"][2]["total"] == 10_000
    assert report["sip"]["total"] == 5_000
    assert compiled["total"]["deviations"]["answered"] == 5_000
    assert elapsed < 5, f"{elapsed:.2f} s"


# --- complementary suppression: nothing hidden can be worked out -----------------------------


def derivable(whole: str, parts: list[str]) -> bool:
    """Would a reader with a calculator find a hidden count in whole = Σ parts? One hidden
    figure in the sum gives itself away; so do hidden counts at the least (or, all "<3", the
    most) they can be when the rest of the sum is shown."""
    figures = [whole, *parts]
    hidden = [f for f in figures if f in HIDDEN]
    if len(hidden) == 1:
        return True
    if not hidden or whole in HIDDEN:
        return False
    rest = int(whole) - sum(int(p) for p in parts if p not in HIDDEN)
    small = parts.count("<3")
    least = small + (parts.count("dolt") * (3 if small else 1))
    return rest == least or (small == len(hidden) and rest == 2 * small)


def concrete_case() -> None:
    """One unit pair with one report beside a pair with five; one boy beside five girls at
    first SIP meetings; one boy beside four girls at BUS-individ: all in 2026 H1."""
    for day in range(1, 6):
        deviation(utc(2026, 3, day, 9), [REMISS])
        sip_meeting(utc(2026, 3, day, 9), gender="flicka")
    deviation(utc(2026, 3, 9, 9), [REMISS], receiving="hc-soderstaden")
    sip_meeting(utc(2026, 3, 9, 9), gender="pojke")
    for day in range(1, 5):
        bus_individ(date(2026, 4, day), gender="flicka")
    bus_individ(date(2026, 4, 9), gender="pojke")


def test_no_hidden_count_can_be_worked_out_from_the_secretariats_figures(client, groups):
    concrete_case()
    login(client, SECRETARIAT[0])
    rows = csv_rows(client.get(f"/statistik.csv?grupp=skarpnack&{H1}"))
    page = figures(client.get(f"/statistik?grupp=skarpnack&{H1}"))
    sip_table = page.tables["sip-kon-typ"][1:]
    shown = {
        "pairs": values(rows, "Avvikelser efter verksamhetspar"),
        "pairs on the page": page.pairs(
            "Avvikelser efter verksamhetspar (rapporterande → mottagande)"
        ),
        "SIP by gender": values(rows, "SIP-möten efter kön"),
        "SIP by gender on the page": page.pairs("SIP-möten efter barnets kön"),
        "BUS-individ by gender": values(rows, "BUS-individ efter kön"),
    }
    assert shown["pairs"][FAM_HC] == shown["pairs on the page"][FAM_HC] == "<3"
    assert shown["SIP by gender"]["Pojke"] in HIDDEN
    assert shown["BUS-individ by gender"]["Pojke"] == "<3"
    totals = {
        "pairs": values(rows, "Avvikelser")["Totalt"],
        "pairs on the page": values(rows, "Avvikelser")["Totalt"],
        "SIP by gender": values(rows, "SIP-möten")["Totalt"],
        "SIP by gender on the page": sip_table[-1][-1],
        "BUS-individ by gender": values(rows, "BUS-individ")["Totalt"],
    }
    for name, parts in shown.items():
        assert not derivable(totals[name], list(parts.values())), (name, parts, totals[name])
    for row in sip_table:  # each gender's row of meeting types, and the total row
        assert not derivable(row[-1], row[1:-1]), row
    for column in list(zip(*sip_table, strict=True))[1:]:
        assert not derivable(column[-1], list(column[:-1])), column

    yearly = csv_rows(client.get("/statistik/ar/2026.csv?grupp=skarpnack"))
    by_half = {(r[1], r[2], r[3]): r[4] for r in yearly[1:]}
    h1, h2, year = "2026 H1 (jan–jun)", "2026 H2 (jul–dec)", "Helår 2026"
    for period, section, label in list(by_half):
        if period != year or section.startswith(("SIP", "BUS", "Processen")):
            continue
        if label.startswith(("Andel", "Median")):
            continue
        halves = [by_half.get((h, section, label), "0") for h in (h1, h2)]
        assert not derivable(by_half[(year, section, label)], halves), (section, label)

    compiled = csv_rows(client.get("/statistik/ar/2026/alla.csv"))
    columns = list(zip(*[row[1:] for row in compiled[1:]], strict=True))
    for name, column in zip(compiled[0][1:], columns, strict=True):
        if "Andel" not in name and "Median" not in name:
            assert not derivable(column[-1], list(column[:-1])), name


def _plain_figures(reports_: list[Deviation], period, tz: str) -> dict:
    """One period's deviation figures worked out case by case, the straightforward way."""
    from collections import Counter

    from formservice.domain import deviation as rules
    from formservice.domain.deadlines import local_date
    from formservice.domain.statistics import median_days, share
    from formservice.models import Unit

    names = dict(db.session.execute(select(Unit.id, Unit.name)).all())
    inside = [d for d in reports_ if period.start <= local_date(d.sent_at, tz) <= period.end]
    days, timely = [], 0
    for d in inside:
        if d.answered_at is not None:
            sent_on, answered_on = local_date(d.sent_at, tz), local_date(d.answered_at, tz)
            days.append((answered_on - sent_on).days)
            timely += d.deadline is not None and answered_on <= d.deadline
    pairs = Counter((names[d.reporting_unit_id], names[d.receiving_unit_id]) for d in inside)
    return {
        "total": len(inside),
        "by_state": dict(Counter(rules.STATE_LABELS[d.state] for d in inside)),
        "by_category": dict(Counter(c for d in inside for c in d.categories)),
        "by_pair": dict(pairs),
        "answers": {
            "answered": len(days),
            "in_time": timely,
            "median_days": median_days(days),
            "share_in_time": share(timely, len(days)),
            "overdue": sum(
                d.answered_at is None
                and d.state != rules.ATERKALLAD
                and d.deadline is not None
                and d.deadline < TODAY
                for d in inside
            ),
        },
    }


def _as_read(section: dict) -> dict:
    """A report's deviation section in _plain_figures' shape (pairs most frequent first)."""
    counts = [row["count"] for row in section["by_pair"]]
    assert counts == sorted(counts, reverse=True)
    return {
        "total": section["total"],
        "by_state": {r["label"]: r["count"] for r in section["by_state"] if r["count"]},
        "by_category": {r["key"]: r["count"] for r in section["by_category"] if r["count"]},
        "by_pair": {(r["reporting"], r["receiving"]): r["count"] for r in section["by_pair"]},
        "answers": section["answers"],
    }


def test_the_yearly_figures_match_a_case_by_case_count(groups):
    """The yearly follow-up reads the year once and splits it into halves, and the answer
    times come from the database on PostgreSQL: the same figures as counting case by case,
    around local midnights, the halves' boundary and the daylight-saving changes."""
    import random

    from formservice.domain.statistics import full_year, half_year

    tz, rng = "Europe/Stockholm", random.Random(16)
    units = ["familjeenheten-skarpnack", "bup-farsta", "hc-soderstaden", "grundskola-skarpnack"]
    states = ["skickad", "besvarad", "behandlad", "avslutad", "återkallad"]
    labels = [label for _, label in DEFAULT_CATEGORIES]
    days = [date(2025, 12, 31), date(2026, 3, 29), date(2026, 6, 30), date(2026, 7, 1)]
    days += [date(2026, 10, 25), date(2026, 12, 31), date(2027, 1, 1)]
    for _ in range(160):
        day = rng.choice(days) if rng.random() < 0.5 else date(2026, 1, 1)
        day += timedelta(days=rng.randrange(365) if day == date(2026, 1, 1) else 0)
        sent = datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(
            minutes=rng.choice([-150, -70, -61, -59, -1, 0, 1, 59, 61, 70, 600, 1380])
        )
        answered = (
            sent + timedelta(minutes=rng.randrange(60 * 24 * 40)) if rng.random() < 0.7 else None
        )
        reporting, receiving = rng.sample(units, 2)
        report = deviation(
            sent,
            rng.sample(labels, rng.randint(1, 3)),
            state=rng.choice(states),
            answered_at=answered,
            deadline=sent.date() + timedelta(days=rng.randrange(-3, 40)),
            reporting=reporting,
            receiving=receiving,
            group_id=rng.choice(["skarpnack", "skarpnack", "farsta"]),
        )
        if rng.random() < 0.1:
            report.deadline = None
    db.session.commit()
    every = list(db.session.scalars(select(Deviation)))
    periods = {"H1": half_year(2026, 1), "H2": half_year(2026, 2), "year": full_year(2026)}
    for group_id in (None, "skarpnack"):
        mine = [d for d in every if group_id is None or d.group_id == group_id]
        report = reports.yearly_report(group_id, 2026, tz, TODAY)
        for part in report["deviations"]:
            assert _as_read(part) == _plain_figures(mine, periods[part["key"]], tz), part["key"]
        page = reports.group_report(group_id, periods["H2"], tz, TODAY)["deviations"]
        assert _as_read(page) == _plain_figures(mine, periods["H2"], tz)
    compiled = reports.compilation(2026, tz, TODAY)
    for line in [*compiled["rows"], compiled["total"]]:
        gid = line["group_id"]
        plain = _plain_figures(
            [d for d in every if gid is None or d.group_id == gid], periods["year"], tz
        )
        assert line["deviations"] == {"total": plain["total"], **plain["answers"]}
