"""Granskningslogg (/admin/granskningslogg): the audit log searched by person, case number,
SIP/BUS-individ record, event and local dates; 50 a page; the CSV of the whole result; and
every reading written to the log itself (issue 14). SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

from flask import g
from sqlalchemy import insert, select

from formservice.domain.audit import READS_CHOICE, LogFilter
from formservice.extensions import db
from formservice.models import AuditEvent, Digest, GroupMeeting
from formservice.services import audit, audit_log
from tests.support.app import login

from .helpers import ADMIN, CHEF_A, CHEF_B, SECRETARY, send_report, user
from .meeting_helpers import bus_individ, sip_meeting, stored

FRANS = "frans.forskolechef@stad.example"  # "Frans Förskolechef"


def events(**where) -> list[AuditEvent]:
    query = select(AuditEvent).order_by(AuditEvent.id)
    for key, value in where.items():
        query = query.where(getattr(AuditEvent, key) == value)
    return list(db.session.scalars(query))


def read(filters: LogFilter, page: int = 1) -> audit_log.LogPage:
    return audit_log.read_page(user(ADMIN), filters, page)


def client_of(app, email: str):
    """A logged-in client whose requests each load their own user (the test's app context
    outlives requests, and Flask-Login would otherwise keep the first user in `g`)."""
    client = app.test_client()
    g.pop("_login_user", None)
    assert login(client, email).status_code == 302
    opened = client.open

    def open_as_self(*args, **kwargs):
        g.pop("_login_user", None)
        return opened(*args, **kwargs)

    client.open = open_as_self
    return client


def admin_client(app):
    return client_of(app, ADMIN)


def add_events(rows: list[dict]) -> None:
    """Events written straight into the log, with the moments given."""
    base = {"user_id": None, "object_type": None, "object_id": None, "detail": {}}
    db.session.execute(insert(AuditEvent.__table__), [{**base, **row} for row in rows])
    db.session.commit()


# --- filters ---------------------------------------------------------------------------------


def test_person_by_part_of_the_name_or_address_in_any_case(directory):
    frans, fia = user(FRANS), user(CHEF_A)
    audit.record(frans, "login")
    audit.record(fia, "login")
    audit.record("responder@region.example", "deviation.viewed_by_link", "deviation", 1)
    db.session.commit()

    for text in ("förskolechef", "FÖRSKOLECHEF", "Frans F", "frans.forskole", FRANS.upper()):
        page = read(LogFilter(person=text))
        assert [r.actor for r in page.rows] == [FRANS], text
        assert page.rows[0].name == "Frans Förskolechef"
    # someone outside the directory (a link's recipient) by the whole address
    page = read(LogFilter(person="Responder@Region.example"))
    assert [r.action for r in page.rows] == ["deviation.viewed_by_link"]
    assert read(LogFilter(person="%")).total == 0  # LIKE's wildcards are plain text
    assert read(LogFilter(person="nobody-at-all")).total == 0


def test_person_keeps_the_events_written_under_an_earlier_address(directory):
    fia = user(CHEF_A)
    audit.record(fia, "sip.viewed", "sip", 3)
    db.session.commit()
    fia.email = "fia.ny@stad.example"  # the directory changed the address afterwards
    db.session.commit()
    page = read(LogFilter(person="fia.ny@"))
    assert [(r.actor, r.action) for r in page.rows] == [(CHEF_A, "sip.viewed")]


def test_case_number_finds_the_deviation_its_attachment_e_mails_and_digests(directory, app):
    from tests.integration.test_authorization import pdf_upload

    report = send_report(uploads=[pdf_upload("underlag.pdf")])
    other = send_report()
    meeting = GroupMeeting(
        group_id="skarpnack",
        meeting_date=datetime.now(UTC).date(),
        place="Stadsdelshuset",
        created_by_id=user(SECRETARY).id,
    )
    db.session.add(meeting)
    db.session.flush()
    digest = Digest(
        meeting_id=meeting.id,
        state="done",
        case_ids=[report.id],
        docx_file_id=stored("sammanstallning.docx").id,
        pdf_file_id=stored("sammanstallning.pdf").id,
        requested_by_id=user(SECRETARY).id,
    )
    db.session.add(digest)
    db.session.commit()
    chef_b = client_of(app, CHEF_B)
    assert chef_b.get(f"/avvikelser/{report.id}").status_code == 200
    attachment = report.attachments[0]
    assert chef_b.get(f"/avvikelser/{report.id}/bilagor/{attachment.id}").status_code == 200
    assert chef_b.get(f"/avvikelser/{other.id}").status_code == 200
    secretary = client_of(app, SECRETARY)
    download = f"/styrgrupp/sammanstallningar/{digest.id}/sammanstallning.pdf"
    assert secretary.get(download).status_code == 200

    page = read(LogFilter(case_number=report.case_number.lower()))
    seen = {(r.action, r.object_type, r.object_id) for r in page.rows}
    assert ("deviation.viewed", "deviation", str(report.id)) in seen
    assert ("attachment.downloaded", "attachment", str(attachment.id)) in seen
    assert ("deviation.sent", "deviation", str(report.id)) in seen
    assert ("digest.downloaded", "digest", f"{digest.id}:sammanstallning.pdf") in seen
    assert all(r.object_id != str(other.id) or r.object_type != "deviation" for r in page.rows)
    numbered = {r.object_type: r.case_number for r in page.rows if r.case_number}
    assert numbered == {"deviation": report.case_number, "attachment": report.case_number}
    assert read(LogFilter(case_number="BUS-1999-0001")).total == 0


def test_who_has_seen_this_childs_record(directory, app):
    """From a SIP meeting's or BUS-individ record's number: every view and download."""
    past = datetime.now(UTC) - timedelta(days=2)
    meeting = sip_meeting(past, with_files=True)
    another = sip_meeting(past)
    record = bus_individ(past.date(), with_files=True)
    audit.record(user(CHEF_A), "sip.created", "sip", meeting.id)
    db.session.commit()
    for email, urls in (
        (CHEF_A, [f"/sip/{meeting.id}", f"/sip/{meeting.id}/kallelse.pdf", f"/sip/{another.id}"]),
        (CHEF_B, [f"/sip/{meeting.id}", f"/bus-individ/{record.id}"]),
    ):
        client = client_of(app, email)
        for url in urls:
            assert client.get(url).status_code == 200, url

    page = read(LogFilter(record_type="sip", record_id=meeting.id, action=READS_CHOICE))
    seen = sorted((r.actor, r.action) for r in page.rows)
    assert seen == [(CHEF_A, "sip.downloaded"), (CHEF_A, "sip.viewed"), (CHEF_B, "sip.viewed")]
    everything = read(LogFilter(record_type="sip", record_id=meeting.id))
    assert "sip.created" in {r.action for r in everything.rows}
    bus = read(LogFilter(record_type="bus_individ", record_id=record.id, action=READS_CHOICE))
    assert [(r.actor, r.action) for r in bus.rows] == [(CHEF_B, "bus_individ.viewed")]

    # the same question in the browser, as the page's link asks it
    client = admin_client(app)
    response = client.get(
        f"/admin/granskningslogg?journal=sip&nummer={meeting.id}&handelse={READS_CHOICE}"
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "3 händelser" in html
    assert html.count("<td>SIP-möte visat</td>") == 2
    assert html.count("<td>SIP-kallelse nedladdad</td>") == 1
    assert "Ines Sved" in html and CHEF_B in html


def test_event_kind_and_local_date_range(directory):
    at = datetime(2026, 3, 1, 23, 30, tzinfo=UTC)  # 00:30 on 2 March in Stockholm
    add_events(
        [
            {"at": at, "actor": "a@stad.example", "action": "login"},
            {"at": at - timedelta(minutes=31), "actor": "b@stad.example", "action": "login"},
            {"at": at + timedelta(days=1), "actor": "c@stad.example", "action": "logout"},
        ]
    )
    day = at.date() + timedelta(days=1)
    page = read(LogFilter(start=day, end=day))
    assert [r.actor for r in page.rows] == ["a@stad.example"]
    page = read(LogFilter(start=day, end=day + timedelta(days=1)))
    assert [r.actor for r in page.rows] == ["c@stad.example", "a@stad.example"]
    page = read(LogFilter(end=day - timedelta(days=1)))  # the log's reads are of today
    assert [r.actor for r in page.rows] == ["b@stad.example"]
    assert [r.actor for r in read(LogFilter(action="logout")).rows] == ["c@stad.example"]


def test_fifty_a_page_newest_first_with_page_links(directory, app):
    start = datetime(2026, 1, 1, 8, tzinfo=UTC)
    moments = [(start + timedelta(minutes=n), f"p{n:03}@stad.example") for n in range(120)]
    add_events([{"at": at, "actor": actor, "action": "logout"} for at, actor in moments])
    first = read(LogFilter(action="logout"))
    assert (first.total, first.pages, first.page) == (120, 3, 1)
    assert len(first.rows) == 50 and first.rows[0].actor == "p119@stad.example"
    assert (first.previous, first.next) == (None, 2)
    last = read(LogFilter(action="logout"), page=3)
    assert len(last.rows) == 20 and last.rows[-1].actor == "p000@stad.example"
    assert read(LogFilter(action="logout"), page=99).page == 3  # past the end: the last page

    client = admin_client(app)
    html = client.get("/admin/granskningslogg?handelse=logout&sida=2").get_data(as_text=True)
    assert "Sida 2 av 3" in html
    assert "sida=1" in html and "Föregående sida" in html
    assert "sida=3" in html and "Nästa sida" in html
    assert "p069@stad.example" in html and "p070@stad.example" not in html
    assert client.get("/admin/granskningslogg?sida=x").status_code == 200


def test_reading_the_log_and_exporting_it_are_audited(directory, app):
    client = admin_client(app)
    response = client.get(f"/admin/granskningslogg?person=fia&handelse={READS_CHOICE}&sida=1")
    assert response.status_code == 200
    (viewed,) = events(action="audit_log.viewed")
    assert viewed.actor == ADMIN and viewed.user_id == user(ADMIN).id
    assert viewed.detail == {"person": "fia", "event": READS_CHOICE, "page": 1}

    response = client.get("/admin/granskningslogg.csv?arende=bus-2026-0001")
    response.get_data()
    (exported,) = events(action="audit_log.exported")
    assert exported.detail == {"case_number": "BUS-2026-0001", "rows": 0}


def test_csv_holds_the_whole_filtered_result_and_is_formula_safe(directory, app):
    start = datetime(2026, 2, 1, 8, tzinfo=UTC)
    rows = [
        {"at": start + timedelta(minutes=n), "actor": "x@stad.example", "action": "login"}
        for n in range(60)
    ]
    rows.append(
        {
            "at": start + timedelta(hours=5),
            "actor": '=HYPERLINK("http://evil.example")',
            "action": "deviation.viewed_by_link",
            "object_type": "deviation",
            "object_id": "7",
            "detail": {"note": "+SUM(A1)"},
        }
    )
    add_events(rows)
    client = admin_client(app)
    response = client.get("/admin/granskningslogg.csv?fran=2026-02-01&till=2026-02-01")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    body = response.get_data()
    assert body.startswith("\ufeff".encode())
    table = list(csv.reader(io.StringIO(body.decode("utf-8-sig")), delimiter=";"))
    assert table[0] == [
        "Tidpunkt",
        "E-postadress",
        "Namn",
        "Händelse",
        "Händelsekod",
        "Gäller",
        "Id",
        "Ärendenummer",
        "Detaljer",
    ]
    assert len(table) == 1 + 61  # every matching event, not only a page of 50
    newest = table[1]
    assert newest[0] == "2026-02-01 14:00:00"  # Stockholm time
    assert newest[1] == "'" + '=HYPERLINK("http://evil.example")'
    assert newest[3:7] == ["Avvikelse visad via länk", "deviation.viewed_by_link", "Avvikelse", "7"]
    assert newest[8] == '{"note": "+SUM(A1)"}'
    assert table[2][3] == "Inloggning"

    filtered = client.get("/admin/granskningslogg.csv?handelse=deviation.viewed_by_link")
    assert len(filtered.get_data().decode("utf-8-sig").strip().splitlines()) == 2


def test_a_bad_filter_names_its_field_and_reads_nothing(directory, app):
    client = admin_client(app)
    for query, message in (
        ("arende=XYZ", "Ärendenummer: ange ett ärendenummer som BUS-2026-0001."),
        ("nummer=12", "Journalens nummer: välj också Typ av journal"),
        ("journal=sip&nummer=abc", "Journalens nummer: ange ett heltal"),
        ("journal=sip&nummer=99999999999", "Journalens nummer: ange ett heltal"),
        ("journal=hemligt", "Typ av journal: välj ett av alternativen."),
        ("handelse=<script>", "Händelse: välj ett av alternativen."),
        ("fran=2026-02-30", "Från"),
        ("fran=2026-03-02&till=2026-03-01", "Till: datumet kan inte ligga före Från-datumet."),
    ):
        for url in ("/admin/granskningslogg", "/admin/granskningslogg.csv"):
            response = client.get(f"{url}?{query}")
            assert response.status_code == 422, (url, query)
            assert message in response.get_data(as_text=True), (url, query)
    assert events(action="audit_log.viewed") == events(action="audit_log.exported") == []


def test_an_event_code_without_a_name_yet_can_still_be_chosen(directory, app):
    add_events([{"at": datetime(2026, 1, 5, tzinfo=UTC), "actor": "x", "action": "unit.created"}])
    client = admin_client(app)
    html = client.get("/admin/granskningslogg?handelse=unit.created").get_data(as_text=True)
    assert '<optgroup label="Övrigt">' in html and "1 händelse<" in html
