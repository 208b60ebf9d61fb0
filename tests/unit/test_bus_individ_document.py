"""The minutes template bus_individ.docx agrees with its context builder (a strict contract)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from io import BytesIO
from types import SimpleNamespace as NS
from typing import Any

import pytest
from docx import Document
from docx.oxml.ns import qn
from docx.text.paragraph import Paragraph

from formservice.documents import bus_individ as minutes
from formservice.documents import docx as documents

UNITS = {
    "fam": "Familjeenheten Skarpnäck",
    "skola": "Skarpnäcks grundskola",
    "bup": "BUP Farsta",
}


def fake_record(**overrides: Any) -> NS:
    """An object shaped like the ORM BusIndivid, with a preceding SIP meeting in the service."""
    values = dict(
        meeting_date=date(2026, 3, 2),
        held_at=datetime(2026, 3, 2, 23, 30, tzinfo=UTC),
        raised_by_unit_id="fam",
        convener_unit_id="fam",
        chair_unit_id="skola",
        sip=NS(meeting_type="forsta", meeting_at=datetime(2026, 1, 31, 23, 0, tzinfo=UTC)),
        sip_date=None,
        child_name="Testbarn Testsson",
        child_gender="pojke",
        consent={"date": "2026-01-10", "given_by": ["vardnadshavare_1", "barnet"], "form": "x"},
        participants=["fam", "skola", "bup"],
        question="Vem ansvarar för stödet i skolan?",
        agreement_reached=True,
        agreements=[
            {"what": "Skolan gör en kartläggning", "who": "Rektor", "by_when": "2026-04-01"},
            {"what": "BUP tar emot remiss", "who": "BUP Farsta", "by_when": ""},
        ],
        follow_up=True,
        follow_up_convener_unit_id="skola",
        follow_up_date=date(2026, 5, 4),
    )
    values["consent"]["form"] = "skriftligt"
    values.update(overrides)
    return NS(**values)


def context(**overrides: Any) -> dict[str, Any]:
    return minutes.bus_individ_context(
        fake_record(**overrides), tz="Europe/Stockholm", unit_name=UNITS.__getitem__
    )


def text_of(data: bytes) -> str:
    doc = Document(BytesIO(data))
    return "\n".join(Paragraph(p, doc._body).text for p in doc.element.body.iter(qn("w:p")))


def test_template_variables_are_exactly_the_context_keys() -> None:
    used = documents.template_variables(minutes.TEMPLATE)
    keys = context().keys()
    assert used - keys == set(), "the template uses variables the code does not pass"
    assert keys - used == set(), "the code passes keys the template never uses"


def test_context_labels_and_local_dates() -> None:
    ctx = context()
    assert ctx["preceding_sip"] == "Första SIP-möte 2026-02-01"  # 23:00 UTC is the next day
    assert ctx["written_at"] == "2026-03-03"
    assert ctx["child_gender"] == "Pojke"
    assert ctx["consent_from"] == ["Vårdnadshavare 1", "Barnet/ungdomen"]
    assert ctx["consent_form"] == "Skriftligt"
    assert ctx["participants"] == list(UNITS.values())
    assert (ctx["convener_unit"], ctx["chair_unit"]) == (UNITS["fam"], UNITS["skola"])
    assert (ctx["agreement_reached"], ctx["follow_up"]) == ("Ja", "Ja")
    assert ctx["follow_up_convener"] == UNITS["skola"]
    second = {"what": "BUP tar emot remiss", "who": "BUP Farsta", "by_when": ""}
    assert ctx["agreements"][1] == second


def test_sip_date_given_by_hand() -> None:
    assert context(sip=None, sip_date=date(2026, 1, 20))["preceding_sip"] == "SIP-möte 2026-01-20"


def test_rendered_minutes_show_the_agreements_and_follow_up() -> None:
    text = text_of(minutes.render(minutes.TEMPLATE, context()))
    assert "Protokoll från BUS-individ" in text
    assert "Mötesdatum: 2026-03-02" in text
    assert "Skolan gör en kartläggning\nRektor\n2026-04-01" in text
    assert "Datum för uppföljning: 2026-05-04" in text
    assert "Testbarn Testsson" in text
    assert "{{" not in text and "{%" not in text


def test_no_agreement_and_no_follow_up_after_identity_removal() -> None:
    ctx = context(
        agreement_reached=False,
        agreements=[],
        follow_up=False,
        follow_up_convener_unit_id=None,
        follow_up_date=None,
        child_name=None,
        consent={},
        question=None,
        convener_unit_id=None,
    )
    text = text_of(minutes.render(minutes.TEMPLATE, ctx))
    assert "Nåddes en överenskommelse?: Nej" in text
    assert "Inga överenskommelser." in text
    assert "Datum för uppföljning" not in text
    assert "Barnets namn\nEj angivet" in text
    assert "Sammankallande\nEj angivet" in text


def test_text_is_escaped() -> None:
    ctx = context(question='<b>"fet"</b> & mer\nrad två')
    assert '<b>"fet"</b> & mer\nrad två' in text_of(minutes.render(minutes.TEMPLATE, ctx))


def test_missing_variable_is_an_error() -> None:
    ctx = context()
    del ctx["agreements"]
    with pytest.raises(Exception, match="agreements"):
        minutes.render(minutes.TEMPLATE, ctx)
