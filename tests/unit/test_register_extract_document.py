"""The GDPR extract's template register_extract.docx agrees with its context builder, shows
every part of a record and its log, says when a part is empty, and escapes text."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from io import BytesIO
from types import SimpleNamespace as NS
from typing import Any

from docx import Document

from formservice.documents import docx as documents
from formservice.documents import register_extract as extract
from tests.unit import test_bus_individ_document as bus_individ_document
from tests.unit import test_sip_document as sip_document

MADE = datetime(2026, 12, 3, 23, 5, tzinfo=UTC)  # 00:05 on 4 December in Stockholm


def fake_meeting(**overrides: Any) -> NS:
    """An ORM-shaped SIP meeting with what the extract reads beyond the kallelse."""
    meeting = sip_document.fake_meeting()
    meeting.id = 12
    meeting.state = "genomford"
    meeting.called = [
        NS(unit=NS(name="BUP Farsta"), attendance="franvarande"),
        NS(unit=NS(name="HC Söderstaden"), attendance=None),
    ]
    meeting.created_at = datetime(2026, 9, 30, 8, 0, tzinfo=UTC)
    meeting.held_at = datetime(2026, 10, 25, 12, 0, tzinfo=UTC)
    meeting.plan_drawn_up = True
    meeting.plan_date = date(2026, 10, 26)
    meeting.docx_file = NS(name="kallelse.docx")
    meeting.pdf_file = NS(name="kallelse.pdf")
    for key, value in overrides.items():
        setattr(meeting, key, value)
    return meeting


def fake_record(**overrides: Any) -> NS:
    record = bus_individ_document.fake_record(**overrides)
    record.id = 5
    record.state = "genomford"
    record.created_at = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    record.docx_file = None
    record.pdf_file = NS(name="protokoll.pdf")
    return record


EVENTS = {
    ("sip", 12): [
        {
            "at": datetime(2026, 10, 2, 7, 0, tzinfo=UTC),
            "actor": "ines.sved@region.example",
            "name": "Ines Sved",
            "action": "sip.viewed",
        },
        {
            "at": datetime(2026, 10, 3, 7, 0, tzinfo=UTC),
            "actor": "svar@extern.example",
            "name": None,
            "action": "something.new",
        },
    ],
    ("bus_individ", 5): [
        {
            "at": datetime(2026, 3, 3, 7, 0, tzinfo=UTC),
            "actor": "ada@stad.example",
            "name": "Ada Admin",
            "action": "bus_individ.extract_downloaded",
        }
    ],
}


def context(meetings: list | None = None, records: list | None = None) -> dict[str, Any]:
    return extract.extract_context(
        [fake_meeting()] if meetings is None else meetings,
        [fake_record()] if records is None else records,
        EVENTS,
        made_at=MADE,
        made_by="Ada Admin (ada@stad.example)",
        retention_months=24,
        unit_name=bus_individ_document.UNITS.__getitem__,
        person_name=sip_document.CHEFS.__getitem__,
        tz="Europe/Stockholm",
    )


def text_of(data: bytes) -> str:
    return sip_document.text_of(data)


def test_template_variables_are_exactly_the_context_keys() -> None:
    used = documents.template_variables(extract.TEMPLATE)
    keys = context().keys()
    assert used - keys == set(), "the template uses variables the code does not pass"
    assert keys - used == set(), "the code passes keys the template never uses"


def test_context_holds_each_record_with_labels_and_its_log() -> None:
    ctx = context()
    assert ctx["made_at"] == "2026-12-04 00:05"
    (meeting,) = ctx["sip_meetings"]
    assert meeting["heading"] == "SIP-möte 2026-10-25 00:30 (nummer 12)"
    assert meeting["state"] == "Genomförd"
    assert meeting["called"] == [
        {"unit": "BUP Farsta", "attendance": "Frånvarande"},
        {"unit": "HC Söderstaden", "attendance": "Ej registrerad"},
    ]
    assert "called_units" not in meeting
    assert (meeting["plan_drawn_up"], meeting["plan_date"]) == ("Ja", "2026-10-26")
    assert meeting["documents"] == ["kallelse.docx", "kallelse.pdf"]
    assert meeting["events"] == [
        {
            "at": "2026-10-02 09:00",
            "who": "Ines Sved (ines.sved@region.example)",
            "event": "SIP-möte visat",
        },
        {"at": "2026-10-03 09:00", "who": "svar@extern.example", "event": "something.new"},
    ]
    (record,) = ctx["bus_individ_records"]
    assert record["heading"] == "BUS-individ 2026-03-02 (nummer 5)"
    assert record["documents"] == ["protokoll.pdf"]
    assert record["events"][0]["event"] == "Med i registerutdrag"
    assert json.loads(extract.extract_json(ctx)) == ctx  # plain data: the JSON is the context


def test_rendered_extract_shows_every_part() -> None:
    text = text_of(extract.render_extract(context()))
    for part in (
        "Registerutdrag",
        "Upprättat: 2026-12-04 00:05",
        "Upprättat av: Ada Admin (ada@stad.example)",
        "barnets identitet tas bort 24 månader efter mötet",
        "Avvikelser ingår inte i utdraget",
        "SIP-möte 2026-10-25 00:30 (nummer 12)",
        "Barnets personnummer\n20110615-2386",
        "Kim Exempel\nkim@example.org",
        "BUP Farsta\nFrånvarande",
        "Fredrik Fk\nFörsäkringskassan",
        "Skäl till kortare kallelsetid\nAkut läge i skolan.",
        "Sparade dokument\nkallelse.docx\nkallelse.pdf",
        "2026-10-02 09:00\nInes Sved (ines.sved@region.example)\nSIP-möte visat",
        "BUS-individ 2026-03-02 (nummer 5)",
        "Skolan gör en kartläggning\nRektor\n2026-04-01",
        "Deltagande verksamheter\nFamiljeenheten Skarpnäck",
        "Datum för uppföljning\n2026-05-04",
        "Ada Admin (ada@stad.example)\nMed i registerutdrag",
    ):
        assert part in text, part
    assert "{{" not in text and "{%" not in text


def test_empty_parts_say_so() -> None:
    text = text_of(extract.render_extract(context(meetings=[], records=[])))
    assert "Inga SIP-möten." in text
    assert "Inga protokoll från BUS-individ." in text
    bare = fake_meeting(guardians=[], invitees=[], docx_file=None, pdf_file=None)
    text = text_of(extract.render_extract(context(meetings=[bare], records=[])))
    assert "Vårdnadshavare\nEj angivet." in text
    assert "Inga övriga inbjudna." in text
    assert "Sparade dokument\nInga" in text


def test_text_is_escaped() -> None:
    nasty = fake_meeting(question=sip_document.NASTY, place="A & <B>")
    text = text_of(extract.render_extract(context(meetings=[nasty])))
    assert 'Barnet sa: <script>alert("x")</script> & "mer"\nRad två\nRad tre' in text
    assert "A & <B>" in text


def test_document_is_titled_and_swedish() -> None:
    doc = Document(BytesIO(extract.render_extract(context())))
    assert doc.core_properties.title == "Registerutdrag"
    assert doc.core_properties.language == "sv-SE"
