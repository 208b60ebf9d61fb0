"""The long lists (services/lists.py): 50 rows a page, filters in the URL, sorts, the deviation
list's CSV, visibility unchanged and bad input, through the pages on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import event, select

from formservice import access
from formservice.extensions import db
from formservice.models import AuditEvent, Deviation, Unit
from formservice.services import lists
from formservice.services.directory import import_directory
from tests.conftest import _password_hash, login

from .helpers import CHEF_A, CHEF_B, CONVENER, REMISS, SECRETARIAT, SECRETARY, VANTETID, user
from .meeting_helpers import bus_individ, sip_meeting
from .test_several_groups import FARSTA_SECRETARY, directory_with_two_groups

TEAM = "bus-avvikelser@storsthlm.example"
SECRET_TEXT = "Hemlig beskrivning XQ-991"
CASE = re.compile(r">(\d{4}-\d{6})<")


@pytest.fixture
def county(app):
    """Two groups (Skarpnäck, Farsta), everyone with the test password."""
    from formservice.models import User

    import_directory(directory_with_two_groups())
    hashed = _password_hash()
    for person in db.session.scalars(select(User)):
        person.password_hash = hashed
    db.session.commit()
    return app


def seed(n: int, start: int = 1, **values) -> list[int]:
    """n sent deviations (model rows), case numbers 2026-<start>.. in sending order."""
    author = user(CHEF_A).id
    base = datetime(2026, 3, 1, 9, tzinfo=UTC)
    rows = []
    for i in range(start, start + n):
        sent = base + timedelta(hours=i)
        row = dict(
            case_number=f"2026-{i:06d}",
            state="besvarad",
            form_version=1,
            reporting_unit_id="familjeenheten-skarpnack",
            receiving_unit_id="bup-farsta",
            group_id="skarpnack",
            created_by_id=author,
            event_date=date(2026, 2, 1),
            categories=[REMISS],
            description=SECRET_TEXT,
            actions_taken="Åtgärd.",
            bus_individ=False,
            proposal="",
            child_gender="flicka",
            age_group="6-12",
            created_at=sent,
            sent_at=sent,
            deadline=(sent + timedelta(days=21)).date(),
            answered_at=sent + timedelta(days=3),
        )
        row.update(values)
        rows.append(Deviation(**row))
    db.session.add_all(rows)
    db.session.commit()
    return [r.id for r in rows]


def cases(html: str) -> list[str]:
    return CASE.findall(html)


def walk(client, url: str) -> list[str]:
    """Every case number on every page, following "Nästa sida"."""
    found: list[str] = []
    for _ in range(100):
        html = client.get(url).get_data(as_text=True)
        found += cases(html.split('id="alla"')[1])
        link = re.search(r'rel="next" href="([^"]+)"', html)
        if not link:
            return found
        url = link.group(1).replace("&amp;", "&")
    raise AssertionError("no end to the pages")


def test_fifty_a_page_with_page_count_and_links(county, client):
    seed(120)
    login(client, SECRETARY)
    html = client.get("/avvikelser").get_data(as_text=True)
    shown = cases(html)
    assert len(shown) == 50 and shown[0] == "2026-000120"  # latest sent first
    assert "120 avvikelser" in html and "Sida 1 av 3" in html
    assert "Nästa sida" in html and "Föregående sida" not in html
    last = client.get("/avvikelser?sida=3").get_data(as_text=True)
    assert len(cases(last)) == 20 and "Föregående sida" in last and "Nästa sida" not in last
    past = client.get("/avvikelser?sida=99").get_data(as_text=True)
    assert cases(past) == cases(last)  # a page past the end is the last
    assert client.get("/avvikelser?sida=abc").status_code == 200
    everything = walk(client, "/avvikelser")
    assert sorted(everything) == [f"2026-{i:06d}" for i in range(1, 121)]
    assert len(set(everything)) == 120


def test_queries_per_page_do_not_grow_with_the_rows(county, client):
    login(client, SECRETARY)
    seed(5)
    client.get("/avvikelser")  # the user and the form's versions, once per session
    few = _statements(client, "/avvikelser")
    seed(80, start=10)
    client.get("/avvikelser")  # the user again (the seeding's commit expired it)
    many = _statements(client, "/avvikelser")
    assert many == few, (few, many)


def _statements(client, url: str) -> int:
    count = [0]

    def tick(*args) -> None:
        count[0] += 1

    event.listen(db.engine, "before_cursor_execute", tick)
    try:
        assert client.get(url).status_code == 200
    finally:
        event.remove(db.engine, "before_cursor_execute", tick)
    return count[0]


def test_every_filter_keeps_its_value_in_the_url(county, client):
    seed(3, start=1)  # remiss, besvarad, March
    seed(2, start=10, categories=[VANTETID], state="skickad", answered_at=None)
    seed(2, start=20, group_id="farsta", receiving_unit_id="hc-soderstaden")
    seed(1, start=30, sent_at=datetime(2026, 6, 10, 8, tzinfo=UTC), deadline=date(2026, 7, 1))
    seed(1, start=40, reporting_unit_id="grundskola-skarpnack", receiving_unit_id="bup-farsta")
    login(client, TEAM)

    def listed(query: str) -> set[str]:
        response = client.get("/avvikelser?" + query)
        assert response.status_code == 200, query
        return set(cases(response.get_data(as_text=True)))

    assert listed("arende=000010") == {"2026-000010"}
    assert listed("arende=2026-00002") == {"2026-000020", "2026-000021"}
    assert listed("status=skickad") == {"2026-000010", "2026-000011"}
    assert listed("verksamhet=hc-soderstaden") == {"2026-000020", "2026-000021"}
    assert listed("verksamhet=grundskola-skarpnack") == {"2026-000040"}
    assert listed("grupp=farsta") == {"2026-000020", "2026-000021"}
    assert listed("kategori=" + VANTETID) == {"2026-000010", "2026-000011"}
    assert listed("fran=2026-06-01&till=2026-06-30") == {"2026-000030"}
    assert "2026-000030" not in listed("till=2026-05-31")
    # overdue: unanswered and past the deadline (March deadlines have passed)
    assert listed("obesvarade=j") == {"2026-000010", "2026-000011"}
    both = listed(f"kategori={VANTETID}&status=skickad&grupp=skarpnack&obesvarade=j")
    assert both == {"2026-000010", "2026-000011"}
    html = client.get(f"/avvikelser?grupp=farsta&kategori={VANTETID}").get_data(as_text=True)
    assert '<option selected value="farsta">' in html
    assert "BUS-grupp" in html  # the secretariat sees several groups


def test_the_group_filter_only_for_those_who_see_several(county, client):
    seed(2)
    login(client, SECRETARY)  # Skarpnäck only
    html = client.get("/avvikelser").get_data(as_text=True)
    assert 'name="grupp"' not in html


def test_sorts_by_case_number_sending_date_and_deadline(county, client):
    seed(1, start=1, sent_at=datetime(2026, 3, 5, tzinfo=UTC), deadline=date(2026, 4, 20))
    seed(1, start=2, sent_at=datetime(2026, 3, 1, tzinfo=UTC), deadline=date(2026, 4, 1))
    seed(1, start=3, sent_at=datetime(2026, 3, 3, tzinfo=UTC), deadline=date(2026, 4, 30))
    login(client, SECRETARY)

    def order(sort: str) -> list[str]:
        return cases(client.get(f"/avvikelser?sortera={sort}").get_data(as_text=True))

    assert order("arende-stigande") == ["2026-000001", "2026-000002", "2026-000003"]
    assert order("arende-fallande") == ["2026-000003", "2026-000002", "2026-000001"]
    assert order("skickad-fallande") == ["2026-000001", "2026-000003", "2026-000002"]
    assert order("skickad-stigande") == ["2026-000002", "2026-000003", "2026-000001"]
    assert order("svarsfrist-stigande") == ["2026-000002", "2026-000001", "2026-000003"]
    assert order("svarsfrist-fallande") == ["2026-000003", "2026-000001", "2026-000002"]


def test_a_chefs_reports_to_answer_stay_first(county, client):
    seed(60, start=1)
    seed(2, start=100, state="skickad", answered_at=None)
    login(client, CHEF_B)  # BUP Farsta receives them all
    html = client.get("/avvikelser?sortera=arende-stigande").get_data(as_text=True)
    answer, rest = html.split('id="alla"')
    assert cases(answer.split('id="att-besvara"')[1]) == ["2026-000100", "2026-000101"]
    assert len(cases(rest)) == 50 and "2026-000100" not in rest
    second = client.get("/avvikelser?sortera=arende-stigande&sida=2").get_data(as_text=True)
    assert 'id="att-besvara"' not in second and len(cases(second)) == 10


def _csv(client, query: str = "") -> list[list[str]]:
    response = client.get("/avvikelser.csv" + query)
    assert response.status_code == 200 and response.mimetype == "text/csv"
    data = response.get_data()
    assert data.startswith("\ufeff".encode())
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig")), delimiter=";"))


def test_csv_of_the_filtered_list_without_personal_data(county, client):
    seed(60, start=1)
    seed(3, start=100, categories=[VANTETID], state="skickad", answered_at=None)
    unit = db.session.get(Unit, "bup-farsta")
    unit.name = '=HYPERLINK("http://x")'
    db.session.commit()
    login(client, SECRETARY)
    rows = _csv(client)
    assert rows[0] == lists.CSV_HEADER and len(rows) == 64  # every page, not only the first
    rows = _csv(client, f"?kategori={VANTETID}&sortera=arende-stigande")
    assert [r[0] for r in rows[1:]] == ["2026-000100", "2026-000101", "2026-000102"]
    first = dict(zip(rows[0], rows[1], strict=True))
    assert first["Status"] == "Skickad" and first["Skickad"] == "2026-03-05"
    assert first["Mottagande verksamhet"] == '\'=HYPERLINK("http://x")'  # formula-safe
    assert first["Obesvarad efter svarsfristen"] == "Ja"
    assert first["Kategorier"] == "Väntetid eller tillgänglighet"
    text = client.get("/avvikelser.csv").get_data(as_text=True)
    for secret in (SECRET_TEXT, "Fia Familj", CHEF_A, "flicka", "6-12"):
        assert secret not in text
    event_row = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "deviations.exported").order_by(AuditEvent.id)
    ).all()
    assert len(event_row) == 3 and event_row[1].detail.get("category") == VANTETID


@pytest.mark.parametrize(
    "email", [CHEF_A, CHEF_B, SECRETARY, CONVENER, FARSTA_SECRETARY, SECRETARIAT[0]]
)
def test_no_one_lists_a_row_they_could_not_open(county, client, email):
    seed(3, start=1)
    seed(2, start=10, group_id="farsta", receiving_unit_id="hc-soderstaden")
    seed(1, start=20, state="utkast", case_number=None, sent_at=None, deadline=None)
    seed(1, start=30, reporting_unit_id="bup-farsta", receiving_unit_id="grundskola-skarpnack")
    person = user(email)
    may_open = {
        d.case_number or f"draft-{d.id}"
        for d in db.session.scalars(select(Deviation))
        if access.can_view(person, d)
    }
    rule = {d.case_number for d in db.session.scalars(access.visible_deviations(person))}
    login(client, email)
    listed = set(walk(client, "/avvikelser?sortera=arende-stigande"))
    html = client.get("/avvikelser").get_data(as_text=True)
    if 'id="att-besvara"' in html:
        listed |= set(cases(html.split('id="att-besvara"')[1].split('id="alla"')[0]))
    exported = {r[0] for r in _csv(client)[1:] if r[0]}
    assert listed <= may_open and exported <= may_open
    assert listed == exported == {c for c in rule if c}  # the rule of the list, unchanged


def test_bad_filter_values_name_the_field(county, client):
    seed(3)
    login(client, SECRETARY)
    for query, message in [
        ("status=nonsense", "Status: välj ett av alternativen."),
        ("verksamhet=finns-inte", "Verksamhet: välj ett av alternativen."),
        ("kategori=%3Cscript%3E", "Kategori: välj ett av alternativen."),
        ("sortera=drop", "Sortera: välj ett av alternativen."),
        ("fran=2026-13-45", "Från: ange ett datum som ÅÅÅÅ-MM-DD."),
        ("fran=2026-01-01&till=2025-12-01", "Till: datumet kan inte ligga före Från."),
        ("arende=%27%3B+DROP+TABLE", "Sök ärendenummer: skriv siffror och bindestreck"),
        ("arende=" + "1" * 30, "Sök ärendenummer: skriv siffror och bindestreck"),
        ("grupp=farsta", "BUS-grupp: välj ett av alternativen."),  # not one of Sam's
    ]:
        response = client.get("/avvikelser?" + query)
        html = response.get_data(as_text=True)
        assert response.status_code == 422, query
        assert message in html, query
        assert len(cases(html)) == 3, query  # the bad value is left out, the list still shows
        csv_response = client.get("/avvikelser.csv?" + query)
        assert csv_response.status_code == 422 and message in csv_response.get_data(as_text=True)
    assert client.get("/avvikelser?sida=-3&fran=").status_code == 200


def test_sip_and_bus_individ_lists_page_and_filter(county, client):
    now = datetime(2026, 5, 1, 8, tzinfo=UTC)
    for i in range(55):
        sip_meeting(now - timedelta(days=i), state="genomford" if i % 5 else "skickad")
    for i in range(52):
        bus_individ(date(2026, 5, 1) - timedelta(days=i))
    login(client, CHEF_A)
    html = client.get("/sip/").get_data(as_text=True)
    assert "55 SIP-möten" in html and "Sida 1 av 2" in html and "Nästa sida" in html
    assert html.count('href="/sip/') - html.count('href="/sip/ny') >= 50
    sent = client.get("/sip/?status=skickad").get_data(as_text=True)
    assert "11 SIP-möten" in sent
    period = client.get("/sip/?fran=2026-04-25&till=2026-05-01").get_data(as_text=True)
    assert "7 SIP-möten" in period
    bad = client.get("/sip/?status=x&fran=igår")
    assert bad.status_code == 422 and "Status: välj ett av alternativen." in bad.get_data(
        as_text=True
    )
    records = client.get("/bus-individ/").get_data(as_text=True)
    assert "52 protokoll" in records and "Sida 1 av 2" in records
    old = client.get("/bus-individ/?sortera=datum-stigande&till=2026-03-15").get_data(as_text=True)
    assert "5 protokoll" in old
    assert client.get("/bus-individ/?fran=2026-02-30").status_code == 422
    login(client, "frans.forskolechef@stad.example")  # neither initiating nor called
    assert "0 SIP-möten" in client.get("/sip/").get_data(as_text=True)
