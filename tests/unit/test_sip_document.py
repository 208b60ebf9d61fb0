"""The kallelse template agrees with its context builder, escapes text and keeps line breaks."""

from __future__ import annotations

import zipfile
from datetime import UTC, datetime
from io import BytesIO
from types import SimpleNamespace as NS
from typing import Any

import pytest
from docx import Document
from docx.oxml.ns import qn
from docx.text.paragraph import Paragraph

from formservice.documents import docx as documents
from formservice.documents import sip as kallelse

TEMPLATE = "kallelse.docx"
CHEFS = {7: "Fia Familj"}
NASTY = 'Barnet sa: <script>alert("x")</script> & "mer"\nRad två\r\nRad tre\x07\x0c'


def text_of(data: bytes) -> str:
    """All paragraph text in document order, table cells included, one paragraph a line."""
    doc = Document(BytesIO(data))
    return "\n".join(Paragraph(p, doc._body).text for p in doc.element.body.iter(qn("w:p")))


def unit(name: str) -> NS:
    return NS(name=name)


def fake_meeting(*, short_notice: bool = True, follows: bool = True, empty: bool = False) -> NS:
    """An object shaped like the ORM SipMeeting, with its relationships."""
    earlier = NS(meeting_at=datetime(2026, 6, 1, 7, 0, tzinfo=UTC))
    return NS(
        meeting_type="uppfoljning" if follows else "forsta",
        follows=earlier if follows else None,
        meeting_at=datetime(2026, 10, 24, 22, 30, tzinfo=UTC),  # 00:30 on the 25th, CEST
        place="Familjeenheten, rum 3",
        short_notice=short_notice,
        short_notice_reason="Akut läge i skolan." if short_notice else None,
        child_name="Alva Exempel",
        child_personnummer="20110615-2386",
        child_gender="flicka",
        child_over_15=True,
        guardians=[] if empty else [{"name": "Kim Exempel", "contact": "kim@example.org"}],
        consent={}
        if empty
        else {"date": "2026-10-01", "given_by": ["vardnadshavare_1", "barnet"], "form": "muntligt"},
        question="Hur samordnar vi stödet i skolan?",
        initiator_unit=unit("Familjeenheten Skarpnäck"),
        initiator_user_id=7,
        chair_name="Greta Skolchef",
        chair_unit=unit("Skarpnäcks grundskola"),
        secretary_name="Erik Ersatt",
        secretary_unit=None,
        called=[] if empty else [NS(unit=unit("BUP Farsta")), NS(unit=unit("HC Söderstaden"))],
        invitees=[]
        if empty
        else [{"name": "Fredrik Fk", "organisation": "Försäkringskassan", "email": ""}],
        sent_at=datetime(2026, 10, 1, 22, 15, tzinfo=UTC),
    )


def context(**kwargs: Any) -> dict[str, Any]:
    return kallelse.kallelse_context(
        fake_meeting(**kwargs), tz="Europe/Stockholm", person_name=CHEFS.__getitem__
    )


def test_template_variables_are_the_context_keys() -> None:
    used = documents.template_variables(TEMPLATE)
    keys = context().keys()
    assert used - keys == set(), "the template uses variables the code does not pass"
    assert keys - used == set(), "the code passes keys the template never uses"


def test_context_labels_and_local_times() -> None:
    ctx = context()
    assert ctx["meeting_date"] == "2026-10-25"
    assert ctx["meeting_time"] == "00:30"
    assert ctx["sent_on"] == "2026-10-02"  # 22:15 UTC is the next day in Stockholm
    assert ctx["follows"] == "2026-06-01 09:00"
    assert ctx["meeting_type"] == "Uppföljning"
    assert ctx["child_gender"] == "Flicka"
    assert ctx["consent_from"] == ["Vårdnadshavare 1", "Barnet/ungdomen"]
    assert ctx["consent_form"] == "Muntligt"
    assert ctx["chair"] == "Greta Skolchef, Skarpnäcks grundskola"
    assert ctx["secretary"] == "Erik Ersatt"
    assert ctx["initiator_chef"] == "Fia Familj"
    assert ctx["called_units"] == ["BUP Farsta", "HC Söderstaden"]
    assert ctx["invitees"] == [
        {"name": "Fredrik Fk", "organisation": "Försäkringskassan", "email": ""}
    ]


def test_rendered_kallelse_holds_the_meeting() -> None:
    text = text_of(documents.render(TEMPLATE, context()))
    assert "Kallelse till SIP-möte" in text
    assert "Mötesdatum och tid: 2026-10-25 kl. 00:30" in text
    assert "Följer SIP-möte: 2026-06-01 09:00" in text
    assert "Barnets namn\nAlva Exempel" in text
    assert "Barnets personnummer\n20110615-2386" in text
    assert "Kim Exempel\nkim@example.org" in text
    assert "Samtycke från\nVårdnadshavare 1\nBarnet/ungdomen" in text
    assert "Skäl till kortare kallelsetid\nAkut läge i skolan." in text
    assert "Kallade verksamheter\nBUP Farsta\nHC Söderstaden" in text
    assert "Fredrik Fk\nFörsäkringskassan" in text
    assert "skyldiga att delta" in text
    assert "{%" not in text and "{{" not in text


def test_empty_parts_say_so() -> None:
    ctx = context(short_notice=False, follows=False, empty=True)
    ctx["child_personnummer"] = ""
    text = text_of(documents.render(TEMPLATE, ctx))
    assert "Följer SIP-möte" not in text
    assert "Skäl till kortare kallelsetid" not in text
    assert "Kortare kallelsetid\nNej" in text
    assert "Barnets personnummer\nEj angivet" in text
    assert "Vårdnadshavare\nEj angivet." in text
    assert "Samtycke inhämtat\nEj angivet" in text
    assert "Kallade verksamheter\nEj angivet" in text
    assert "Inga övriga inbjudna." in text


def test_text_is_escaped_and_keeps_line_breaks() -> None:
    ctx = context()
    ctx["question"] = NASTY
    ctx["place"] = "A & <B>"
    data = documents.render(TEMPLATE, ctx)
    text = text_of(data)
    assert 'Barnet sa: <script>alert("x")</script> & "mer"\nRad två\nRad tre' in text
    assert "A & <B>" in text
    xml = zipfile.ZipFile(BytesIO(data)).read("word/document.xml").decode()
    assert "Rad två</w:t><w:br/>" in xml


def test_document_is_titled_and_swedish() -> None:
    doc = Document(BytesIO(documents.render(TEMPLATE, context())))
    assert doc.core_properties.title == "Kallelse till SIP-möte"
    assert doc.core_properties.language == "sv-SE"
    headings = [(p.style.name, p.text) for p in doc.paragraphs if p.style.name.startswith("Head")]
    assert headings[0] == ("Heading 1", "Kallelse till SIP-möte")
    assert ("Heading 2", "Frågeställning") in headings


def test_missing_variable_is_an_error() -> None:
    ctx = context()
    del ctx["child_name"]
    with pytest.raises(Exception, match="child_name"):
        documents.render(TEMPLATE, ctx)
