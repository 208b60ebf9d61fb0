"""The digest from a database with cases in every state, read back from DOCX and PDF."""

from __future__ import annotations

import hashlib
import io
from datetime import UTC, date, datetime, timedelta

from docx import Document
from docx.oxml.ns import qn
from docx.text.paragraph import Paragraph
from pypdf import PdfReader, PdfWriter
from sqlalchemy import select

from formservice.extensions import db
from formservice.models import Deviation, DeviationClosing, Digest, GroupMeeting
from formservice.services import deviations as deviations_service
from formservice.services import digest as digest_service
from formservice.services import files
from tests.support.app import run_worker
from worker import jobs

from .helpers import (
    CHEF_B,
    SECRETARY,
    answer_input,
    failure_shown,
    report_input,
    send_report,
    user,
)


def pdf_bytes(pages: int) -> bytes:
    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(width=595, height=842)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def upload(name: str, data: bytes) -> deviations_service.Upload:
    return deviations_service.Upload(
        name, "application/pdf", hashlib.sha256(data).hexdigest(), data, 2
    )


def make_cases():
    """One case in every state; returns (included, excluded) case numbers and the meeting."""
    long_ago = datetime.now(UTC) - timedelta(days=200)
    previous = GroupMeeting(
        group_id="skarpnack",
        meeting_date=date.today() - timedelta(days=60),
        place="Stadsdelshuset",
        created_by_id=user(SECRETARY).id,
    )
    meeting = GroupMeeting(
        group_id="skarpnack",
        meeting_date=date.today() + timedelta(days=7),
        place="Stadsdelshuset",
        created_by_id=user(SECRETARY).id,
    )
    db.session.add_all([previous, meeting])
    db.session.commit()

    draft = deviations_service.save(
        user("fia.familj@stad.example"), report_input(), send=False
    ).deviation
    overdue = send_report(categories=["vantetid-eller-tillganglighet"])
    overdue.deadline = date.today() - timedelta(days=3)
    waiting = send_report(uploads=[upload("utredning.pdf", pdf_bytes(2))])
    answered = send_report()
    deviations_service.answer(answered, CHEF_B, answer_input())
    handled = send_report()
    deviations_service.answer(handled, CHEF_B, answer_input())
    handled.state, handled.agenda_meeting_id = "behandlad", previous.id
    closed_recently = send_report()
    _close(closed_recently, previous, datetime.now(UTC) - timedelta(days=10))
    closed_long_ago = send_report()
    _close(closed_long_ago, previous, long_ago)
    withdrawn = send_report()
    deviations_service.withdraw(withdrawn, user("fia.familj@stad.example"))
    db.session.commit()
    included = [overdue, waiting, answered, handled, closed_recently]
    excluded = [closed_long_ago, withdrawn]
    return meeting, included, excluded, draft


def _close(deviation: Deviation, meeting: GroupMeeting, when: datetime) -> None:
    deviation.state, deviation.closed_at = "avslutad", when
    db.session.add(
        DeviationClosing(
            deviation_id=deviation.id,
            meeting_id=meeting.id,
            assessment="bekraftad",
            measures=[
                {"action": "Ny rutin för remisser", "unit": "BUP Farsta", "due": "2027-01-31"}
            ],
            escalate=False,
            closed_by_id=user(SECRETARY).id,
            closed_at=when,
        )
    )


#: The digest's second-level headings, in order, when every section has cases.
SECTION_HEADINGS = [
    "Sammanfattning",
    "Beslutade åtgärder",
    "Skickade och ännu inte besvarade",
    "Besvarade",
    "Behandlade vid tidigare möte",
    "Avslutade sedan förra mötet",
    "Statistik",
]


def docx_text(data: bytes) -> list[str]:
    """Every paragraph in document order, table cells included."""
    document = Document(io.BytesIO(data))
    return [Paragraph(p, document._body).text for p in document.element.body.iter(qn("w:p"))]


def outline_titles(reader: PdfReader) -> list[str]:
    titles: list[str] = []

    def walk(items):
        for item in items:
            if isinstance(item, list):
                walk(item)
            else:
                titles.append(item.title)

    walk(reader.outline)
    return titles


def test_digest_holds_every_expected_case_and_no_other(directory):
    # The summary's recurring patterns name cases of the last twelve months, covered by the
    # meeting or not (test_patterns.py); here only the cases the meeting covers may appear.
    directory.config["FORMSERVICE_PATTERN_COUNT"] = 1000
    meeting, included, excluded, draft = make_cases()
    digest = digest_service.request(meeting, user(SECRETARY))
    run_worker(directory)
    db.session.expire_all()
    digest = db.session.get(Digest, digest.id)
    assert (digest.state, digest.progress, digest.error) == ("done", 100, None)
    assert sorted(digest.case_ids) == sorted(c.id for c in included)

    lines = docx_text(files.read(digest.docx_file))
    text = "\n".join(lines)
    for case in included:
        assert case.case_number in text
    for case in excluded:
        assert case.case_number not in text
    assert "utkast" not in text.lower() or draft.case_number is None
    positions = [lines.index(title) for title in SECTION_HEADINGS]
    assert positions == sorted(positions)
    overdue = included[0]
    assert any(line.startswith(overdue.case_number) and "obesvarad" in line for line in lines)
    assert "Avslutning av ärendet" in text
    assert "Ny rutin för remisser – BUP Farsta – 2027-01-31" in text
    # summary figures: 5 cases, 1 overdue, answer times of the two answered ones
    assert "Antal ärenden: 5" in lines
    assert "Obesvarade efter svarsfristen: 1" in lines
    assert "Andel besvarade i tid: 100 %" in lines

    reader = PdfReader(io.BytesIO(files.read(digest.pdf_file)))
    titles = outline_titles(reader)
    for case in included:
        assert any(t.startswith(case.case_number) for t in titles), case.case_number
    assert "Bilagor" in titles and "utredning.pdf" in titles
    pdf_text = "".join(page.extract_text() for page in reader.pages)
    for case in excluded:
        assert case.case_number not in pdf_text
    assert reader.metadata.title == f"Sammanställning av avvikelser {meeting.meeting_date}"
    appended = reader.pages[-2:]
    assert all(not page.extract_text().strip() for page in appended)  # the blank attachment

    states = {d.id: d.state for d in db.session.scalars(select(Deviation))}
    assert states[included[2].id] == "behandlad"  # besvarad → on the agenda
    assert states[included[0].id] == "skickad"  # unanswered stays answerable


def outline_tree(reader: PdfReader) -> list:
    """The outline as nested (title, [children]) pairs."""

    def walk(items) -> list:
        tree: list = []
        for item in items:
            if isinstance(item, list):
                tree[-1][1].extend(walk(item))
            else:
                tree.append((item.title, []))
        return tree

    return walk(reader.outline)


def test_a_digest_converted_in_parts_is_one_pdf_with_one_structure(directory, monkeypatch):
    from pikepdf import Pdf

    from formservice.documents import digest as document

    monkeypatch.setattr(document, "PART_SIZE", 2)  # 5 cases: LibreOffice converts 3 parts
    meeting, included, excluded, draft = make_cases()
    digest = digest_service.request(meeting, user(SECRETARY))
    run_worker(directory)
    db.session.expire_all()
    digest = db.session.get(Digest, digest.id)
    assert digest.state == "done", digest.error
    lines = docx_text(files.read(digest.docx_file))  # the DOCX stays one document
    assert sum(line.startswith(included[1].case_number + ":") for line in lines) == 1

    data = files.read(digest.pdf_file)
    reader = PdfReader(io.BytesIO(data))
    (title, sections), attached = outline_tree(reader)
    assert title == "Sammanställning av avvikelser" and attached[0] == "Bilagor"
    assert [name for name, _ in sections] == SECTION_HEADINGS
    waiting = dict(sections)["Skickade och ännu inte besvarade"]  # cut between parts 1 and 2
    assert [name.split(":")[0] for name, _ in waiting] == sorted(
        [included[0].case_number, included[1].case_number]
    )
    assert [name for name, _ in waiting[0][1]] == [
        "Svar från mottagande verksamhet",
        "Avslutning av ärendet",
    ]
    text = "".join(page.extract_text() for page in reader.pages)
    for case in included:
        assert text.count(f"{case.case_number}:") == 1
    with Pdf.open(io.BytesIO(data)) as pdf:
        assert pdf.check_pdf_syntax() == []
        root = pdf.Root.StructTreeRoot
        (document_element,) = [root.K] if not isinstance(root.K, list) else root.K
        assert document_element.S == "/Document"
        headings = [k.S for k in document_element.K if k.get("/S") in ("/H1", "/H2")]
        assert headings.count("/H1") == 1 and headings.count("/H2") == 7
        tagged = [p for p in pdf.pages if "/StructParents" in p.obj]
        assert len(tagged) == len(pdf.pages) - 2  # all but the appended blank attachment
        keys = [p.obj.StructParents for p in tagged]
        assert len(set(keys)) == len(keys)


def test_statistics_section_counts_categories_of_the_half_year(directory):
    meeting, included, excluded, draft = make_cases()
    digest = digest_service.request(meeting, user(SECRETARY))
    run_worker(directory)
    db.session.expire_all()
    lines = docx_text(files.read(db.session.get(Digest, digest.id).docx_file))
    stats = lines[lines.index("Statistik") :]
    # 7 sent reports this half-year: 6 "Remiss …" and 1 "Väntetid …"
    remiss = stats.index("Remiss eller förfrågan obesvarad eller avvisad")
    assert stats[remiss + 1] == "6"
    wait = stats.index("Väntetid eller tillgänglighet")
    assert stats[wait + 1] == "1"
    assert "SIP-möten per barnets kön" in stats


def test_a_failed_compilation_says_why_and_can_be_retried(directory, app, tmp_path):
    import stat

    meeting, included, excluded, draft = make_cases()
    broken = tmp_path / "soffice"
    broken.write_text("#!/bin/sh\nexit 1\n")
    broken.chmod(broken.stat().st_mode | stat.S_IEXEC)
    app.config["FORMSERVICE_SOFFICE"] = str(broken)
    first = digest_service.request(meeting, user(SECRETARY))
    run_worker(app)
    db.session.expire_all()
    first = db.session.get(Digest, first.id)
    assert first.state == "failed"
    assert "LibreOffice kunde inte omvandla" in failure_shown(first.error, first.error_args)
    assert first.docx_file_id is None and first.pdf_file_id is None  # nothing half-stored
    assert db.session.get(Deviation, included[2].id).state == "besvarad"  # agenda untouched

    app.config["FORMSERVICE_SOFFICE"] = "soffice"
    second = digest_service.request(meeting, user(SECRETARY))
    run_worker(app)
    db.session.expire_all()
    assert db.session.get(Digest, second.id).state == "done"


def test_digest_pages_progress_downloads_and_access(directory, client):
    from tests.support.app import login

    meeting, included, excluded, draft = make_cases()
    login(client, SECRETARY)
    response = client.post(f"/styrgrupp/moten/{meeting.id}/sammanstallning")
    assert response.status_code == 302
    digest_id = int(response.headers["Location"].rstrip("/").split("/")[-1])
    page = client.get(f"/styrgrupp/sammanstallningar/{digest_id}").get_data(as_text=True)
    assert "I kö" in page and "Uppdatera sidan" in page
    assert client.get(f"/styrgrupp/sammanstallningar/{digest_id}/status").json["state"] == "queued"
    assert client.get(f"/styrgrupp/sammanstallningar/{digest_id}/status").json["step"] == "I kö"
    run_worker(directory)
    page = client.get(f"/styrgrupp/sammanstallningar/{digest_id}").get_data(as_text=True)
    assert "Sammanställningen är klar." in page
    for kind, magic in (("sammanstallning.docx", b"PK"), ("sammanstallning.pdf", b"%PDF")):
        download = client.get(f"/styrgrupp/sammanstallningar/{digest_id}/{kind}")
        assert download.status_code == 200 and download.data.startswith(magic)
    from formservice.models import AuditEvent

    downloads = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "digest.downloaded")
    ).all()
    assert len(downloads) == 2
    client.post("/logga-ut")
    login(client, "fia.familj@stad.example")
    assert client.get(f"/styrgrupp/sammanstallningar/{digest_id}").status_code == 403
    assert client.post(f"/styrgrupp/moten/{meeting.id}/sammanstallning").status_code == 403


def test_a_compilation_whose_worker_died_is_given_up_and_can_be_retried(directory, client):
    from tests.support.app import login

    meeting, included, excluded, draft = make_cases()
    digest = digest_service.request(meeting, user(SECRETARY))
    digest.state, digest.progress = "running", 55
    digest.requested_at = datetime.now(UTC) - timedelta(hours=3)
    db.session.commit()
    login(client, SECRETARY)
    page = client.get(f"/styrgrupp/sammanstallningar/{digest.id}").get_data(as_text=True)
    assert "avbröts innan den blev klar" in page and "Försök igen" in page
    status = client.get(f"/styrgrupp/sammanstallningar/{digest.id}/status").json
    assert status["state"] == "failed" and "avbröts innan den blev klar" in status["error"]
    db.session.expire_all()
    assert db.session.get(Digest, digest.id).state == "running"  # the GETs changed nothing
    jobs.sweep_outbox()  # the worker's periodic sweep marks it failed
    db.session.expire_all()
    assert db.session.get(Digest, digest.id).state == "failed"
