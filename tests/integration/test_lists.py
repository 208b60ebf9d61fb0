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
from tests.support.accounts import password_hash
from tests.support.app import login

from .helpers import CHEF_A, CHEF_B, CONVENER, REMISS, SECRETARIAT, SECRETARY, VANTETID, user
from .meeting_helpers import bus_individ, sip_meeting
from .test_several_groups import FARSTA_SECRETARY, directory_with_two_groups

TEAM = "bus-avvikelser@storsthlm.example"
SECRET_TEXT = "Hemlig beskrivning XQ-991"
CASE = re.compile(r">(BUS-\d{4}-\d{4,})<")


@pytest.fixture
def county(app):
    """Two groups (Skarpnäck, Farsta), everyone with the test password."""
    from formservice.models import User

    import_directory(directory_with_two_groups())
    hashed = password_hash()
    for person in db.session.scalars(select(User)):
        person.password_hash = hashed
    db.session.commit()
    return app


def seed(n: int, start: int = 1, **values) -> list[int]:
    """n sent deviations (model rows), case numbers BUS-2026-<start>.. in sending order."""
    author = user(CHEF_A).id
    base = datetime(2026, 3, 1, 9, tzinfo=UTC)
    rows = []
    for i in range(start, start + n):
        sent = base + timedelta(hours=i)
        row = dict(
            case_number=f"BUS-2026-{i:04d}",
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
    assert len(shown) == 50 and shown[0] == "BUS-2026-0120"  # latest sent first
    assert "120 avvikelser" in html and "Sida 1 av 3" in html
    assert "Nästa sida" in html and "Föregående sida" not in html
    last = client.get("/avvikelser?sida=3").get_data(as_text=True)
    assert len(cases(last)) == 20 and "Föregående sida" in last and "Nästa sida" not in last
    past = client.get("/avvikelser?sida=99").get_data(as_text=True)
    assert cases(past) == cases(last)  # a page past the end is the last
    assert client.get("/avvikelser?sida=abc").status_code == 200
    everything = walk(client, "/avvikelser")
    assert sorted(everything) == [f"BUS-2026-{i:04d}" for i in range(1, 121)]
    assert len(set(everything)) == 120


#: Statements per page at most (the user, the directory questions asked once a request, the
#: filters' choices, the count and the page; the menu's roles from what the page asked). Were
#: 15-20 for /avvikelser before the per-request directory answers; fewer is fine, more is a
#: query added to every page (docs/performance.md, "Long lists").
MOST_STATEMENTS = {
    (SECRETARY, "/avvikelser"): 8,
    (TEAM, "/avvikelser"): 7,
    (CHEF_A, "/avvikelser"): 8,
    (SECRETARY, "/styrgrupp"): 6,
    (SECRETARY, "/styrgrupp/skarpnack/moten"): 6,
    (CHEF_A, "/sip/"): 7,
    (CHEF_A, "/bus-individ/"): 6,
}


@pytest.mark.parametrize(("email", "url"), list(MOST_STATEMENTS))
def test_queries_per_page_are_few_and_do_not_grow_with_the_rows(county, client, email, url):
    login(client, email)
    seed(5)
    sip_meeting(datetime(2026, 2, 1, 9, tzinfo=UTC))
    bus_individ(date(2026, 2, 1))
    client.get(url)
    few = _statements(client, url)
    seed(80, start=10)
    for n in range(3):
        sip_meeting(datetime(2026, 3, 1 + n, 9, tzinfo=UTC))
        bus_individ(date(2026, 3, 1 + n))
    client.get(url)
    many = _statements(client, url)
    assert many == few <= MOST_STATEMENTS[email, url], (few, many)


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

    assert listed("arende=10") == {"BUS-2026-0010"}
    assert listed("arende=bus-2026-0020") == {"BUS-2026-0020"}
    assert listed("arende=2026-21") == {"BUS-2026-0021"}
    assert listed("arende=2025-21") == set()
    assert listed("status=skickad") == {"BUS-2026-0010", "BUS-2026-0011"}
    assert listed("verksamhet=hc-soderstaden") == {"BUS-2026-0020", "BUS-2026-0021"}
    assert listed("verksamhet=grundskola-skarpnack") == {"BUS-2026-0040"}
    assert listed("grupp=farsta") == {"BUS-2026-0020", "BUS-2026-0021"}
    assert listed("kategori=" + VANTETID) == {"BUS-2026-0010", "BUS-2026-0011"}
    assert listed("fran=2026-06-01&till=2026-06-30") == {"BUS-2026-0030"}
    assert "BUS-2026-0030" not in listed("till=2026-05-31")
    # overdue: unanswered and past the deadline (March deadlines have passed)
    assert listed("obesvarade=j") == {"BUS-2026-0010", "BUS-2026-0011"}
    both = listed(f"kategori={VANTETID}&status=skickad&grupp=skarpnack&obesvarade=j")
    assert both == {"BUS-2026-0010", "BUS-2026-0011"}
    html = client.get(f"/avvikelser?grupp=farsta&kategori={VANTETID}").get_data(as_text=True)
    assert '<option value="farsta" selected>' in html
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

    assert order("arende-stigande") == ["BUS-2026-0001", "BUS-2026-0002", "BUS-2026-0003"]
    assert order("arende-fallande") == ["BUS-2026-0003", "BUS-2026-0002", "BUS-2026-0001"]
    assert order("skickad-fallande") == ["BUS-2026-0001", "BUS-2026-0003", "BUS-2026-0002"]
    assert order("skickad-stigande") == ["BUS-2026-0002", "BUS-2026-0003", "BUS-2026-0001"]
    assert order("svarsfrist-stigande") == ["BUS-2026-0002", "BUS-2026-0001", "BUS-2026-0003"]
    assert order("svarsfrist-fallande") == ["BUS-2026-0003", "BUS-2026-0001", "BUS-2026-0002"]


def test_a_chefs_reports_to_answer_stay_first(county, client):
    seed(60, start=1)
    seed(2, start=100, state="skickad", answered_at=None)
    login(client, CHEF_B)  # BUP Farsta receives them all
    html = client.get("/avvikelser?sortera=arende-stigande").get_data(as_text=True)
    answer, rest = html.split('id="alla"')
    assert cases(answer.split('id="att-besvara"')[1]) == ["BUS-2026-0100", "BUS-2026-0101"]
    assert len(cases(rest)) == 50 and "BUS-2026-0100" not in rest
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
    assert [r[0] for r in rows[1:]] == ["BUS-2026-0100", "BUS-2026-0101", "BUS-2026-0102"]
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
        ("arende=%27%3B+DROP+TABLE", "Sök ärendenummer: skriv ett ärendenummer som BUS-2026-0042"),
        ("arende=" + "1" * 30, "Sök ärendenummer: skriv ett ärendenummer som BUS-2026-0042"),
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


def test_a_steering_groups_meetings_and_digests_page_by_page(county, client):
    from formservice.models import Digest
    from formservice.services import meetings

    secretary = user(SECRETARY)
    start = date(2020, 1, 15)
    planned = [
        meetings.plan(secretary, "skarpnack", start + timedelta(days=30 * i), "Rum A")
        for i in range(60)
    ]
    for meeting in planned[:3]:
        db.session.add(Digest(meeting_id=meeting.id, state="done", requested_by_id=secretary.id))
    db.session.add(Digest(meeting_id=planned[0].id, state="failed", requested_by_id=secretary.id))
    db.session.commit()
    login(client, SECRETARY)
    index = client.get("/styrgrupp").get_data(as_text=True)
    assert index.count('href="/styrgrupp/moten/') <= 5 + 2  # latest five held, coming ones
    assert 'href="/styrgrupp/skarpnack/moten"' in index
    html = client.get("/styrgrupp/skarpnack/moten").get_data(as_text=True)
    assert "60 möten" in html and "Sida 1 av 2" in html and "Nästa sida" in html
    oldest = client.get("/styrgrupp/skarpnack/moten?sortera=datum-stigande").get_data(as_text=True)
    rows = re.findall(r'<tr>\s*<td><a href="/styrgrupp/moten/(\d+)">', oldest)
    assert [int(r) for r in rows[:3]] == [m.id for m in planned[:3]]
    assert oldest.count("Misslyckades") == 1 and oldest.count(">Klar<") == 2
    year = client.get("/styrgrupp/skarpnack/moten?fran=2021-01-01&till=2021-12-31")
    assert year.status_code == 200 and "12 möten" in year.get_data(as_text=True)
    bad = client.get("/styrgrupp/skarpnack/moten?fran=2021-02-31&sortera=x")
    text = bad.get_data(as_text=True)
    assert bad.status_code == 422 and "Från: ange ett datum" in text and "Sortera:" in text
    login(client, FARSTA_SECRETARY)
    assert client.get("/styrgrupp/skarpnack/moten").status_code == 403


def test_the_steering_group_page_offers_one_group_to_a_reader_of_several(county, client):
    from formservice.models import BusGroup

    db.session.get(BusGroup, "farsta").secretary_id = user(SECRETARY).id
    db.session.commit()
    login(client, SECRETARY)
    both = client.get("/styrgrupp").get_data(as_text=True)
    assert "Lokal BUS Farsta" in both and "Lokal BUS Skarpnäck" in both and 'name="grupp"' in both
    one = client.get("/styrgrupp?grupp=farsta").get_data(as_text=True)
    assert "Lokal BUS Farsta</h2>" in one and "Lokal BUS Skarpnäck</h2>" not in one
    bad = client.get("/styrgrupp?grupp=annan")
    assert bad.status_code == 422 and "BUS-grupp: välj ett av alternativen." in bad.get_data(
        as_text=True
    )


@pytest.mark.parametrize("sort", ["skickad-fallande", "arende-stigande", "svarsfrist-fallande"])
def test_walking_the_pages_shows_each_case_once_in_order_while_cases_are_added(
    county, client, sort
):
    """Property: whatever is filed meanwhile (newest or back-dated, in or out of the filter),
    following "Nästa sida" shows every case that matched at the start exactly once, in the
    list's order."""
    import random

    rng = random.Random(sort)
    seed(130, start=1)
    seed(20, start=200, categories=[VANTETID])  # outside the filter
    login(client, SECRETARY)
    url = f"/avvikelser?kategori={REMISS}&sortera={sort}"
    at_start = set(
        cases(
            client.get(url.replace("avvikelser?", "avvikelser.csv?"))
            .get_data(as_text=True)
            .replace(";", "><")
        )
    )
    seen: list[str] = []
    number = 1000
    for _ in range(100):
        html = client.get(url).get_data(as_text=True)
        seen += cases(html.split('id="alla"')[1])
        for _ in range(rng.randint(1, 8)):  # filed while the reader pages
            number += 1
            hours = rng.choice([-5000, 5000, rng.randint(0, 130)])
            seed(
                1,
                start=number,
                sent_at=datetime(2026, 3, 1, 9, tzinfo=UTC) + timedelta(hours=hours),
                categories=[rng.choice([REMISS, VANTETID])],
            )
        link = re.search(r'rel="next" href="([^"]+)"', html)
        if not link:
            break
        url = link.group(1).replace("&amp;", "&")
    dups = [c for c in set(seen) if seen.count(c) > 1]
    assert not dups, f"shown twice: {dups}"
    assert at_start <= set(seen), "a case skipped"
    rows = {d.case_number: d for d in db.session.scalars(select(Deviation))}
    column, descending = lists.DEVIATION_SORTS[sort]
    keys = [(getattr(rows[c], column), rows[c].id) for c in seen]
    assert keys == sorted(keys, reverse=descending), "out of order"


def test_a_long_list_is_counted_up_to_the_cap(county, client, monkeypatch):
    monkeypatch.setattr(lists, "COUNT_CAP", 100)
    seed(120)
    login(client, SECRETARY)
    html = client.get("/avvikelser").get_data(as_text=True)
    assert "Fler än 100 avvikelser" in html and "Sida 1 av fler än 2" in html
    assert sorted(walk(client, "/avvikelser")) == [f"BUS-2026-{i:04d}" for i in range(1, 121)]
    jumped = client.get("/avvikelser?sida=3").get_data(as_text=True)
    assert len(cases(jumped)) == 20  # a page number past the count still reads on


@pytest.mark.parametrize("email", [CHEF_A, CHEF_B, "greta.skolchef@stad.example", SECRETARY])
def test_no_one_lists_a_sip_meeting_or_record_they_could_not_open(county, client, email):
    from formservice.models import BusIndivid, SipMeeting

    now = datetime(2026, 5, 1, 8, tzinfo=UTC)
    sip_meeting(now, state="utkast")
    sip_meeting(now - timedelta(days=1), called=("hc-soderstaden",))
    sip_meeting(now - timedelta(days=2), initiator_unit="bup-farsta", initiator=CHEF_B)
    bus_individ(date(2026, 4, 1))
    record = bus_individ(date(2026, 4, 2))
    record.participants = ["hc-soderstaden"]
    record.chair_unit_id = None
    db.session.commit()
    person = user(email)
    may_sip = {
        m.id for m in db.session.scalars(select(SipMeeting)) if access.can_view_sip(person, m)
    }
    may_bus = {
        r.id
        for r in db.session.scalars(select(BusIndivid))
        if access.can_view_bus_individ(person, r)
    }
    login(client, email)
    sip_html = client.get("/sip/").get_data(as_text=True)
    bus_html = client.get("/bus-individ/").get_data(as_text=True)
    shown_sip = {int(i) for i in re.findall(r'href="/sip/(\d+)"', sip_html)}
    shown_bus = {int(i) for i in re.findall(r'href="/bus-individ/(\d+)"', bus_html)}
    assert shown_sip == may_sip and shown_bus == may_bus


def test_directory_answers_are_kept_for_a_request_until_the_session_writes(county, app):
    """access asks the directory once a request (the page, its menu and its checks ask the
    same), and asks again after a flush, a commit or a rollback: a change is always seen."""
    chef = user(CHEF_A)
    unit_id = "familjeenheten-skarpnack"
    with app.test_request_context("/avvikelser"):
        assert unit_id in access.managed_unit_ids(chef)
        assert _statements_of(lambda: access.managed_unit_ids(chef)) == 0
        assert _statements_of(lambda: access.secretary_group_ids(chef)) == 1
        assert _statements_of(lambda: access.convener_group_ids(chef)) == 0  # the same query
        unit = db.session.get(Unit, unit_id)
        unit.active = False
        db.session.flush()
        assert unit_id not in access.managed_unit_ids(chef)
        db.session.rollback()
        assert unit_id in access.managed_unit_ids(chef)
    with app.test_request_context("/avvikelser"):  # a new request asks again
        assert _statements_of(lambda: access.managed_unit_ids(chef)) == 1


def _statements_of(call) -> int:
    count = [0]

    def tick(*args) -> None:
        count[0] += 1

    event.listen(db.engine, "before_cursor_execute", tick)
    try:
        call()
    finally:
        event.remove(db.engine, "before_cursor_execute", tick)
    return count[0]
