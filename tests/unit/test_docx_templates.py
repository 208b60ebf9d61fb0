"""The Word templates agree with their context builders, escape text and keep line breaks."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from collections.abc import Callable
from datetime import UTC, date, datetime
from io import BytesIO
from pathlib import Path
from types import SimpleNamespace as NS
from typing import Any

import pytest
from docx import Document
from docx.oxml.ns import qn
from docx.text.paragraph import Paragraph
from docxtpl import DocxTemplate

from formservice.documents import docx as documents
from tests.unit import test_bus_individ_document as bus_individ_document
from tests.unit import test_register_extract_document as register_extract_document
from tests.unit import test_sip_document as sip_document

SCRIPT = documents.TEMPLATES.parents[1] / "scripts" / "make_docx_templates.py"
UNITS = {"bup": "BUP Söder", "skola": "Skolan i Sjöstaden", "soc": "Socialtjänsten"}
LABELS = ["Överenskommelsen följs inte", "Väntetid eller tillgänglighet"]  # as filed
NASTY = 'Barnet sa: <script>alert("x")</script> & "mer"\nRad två\r\nRad tre\x07\x0c'


def fake_deviation(*, answered: bool = True, forwarded: bool = True, fed_back: bool = True) -> NS:
    """An object shaped like the ORM Deviation, with its relationships."""
    answer = NS(
        responder_name="Berit Chef",
        created_at=datetime(2025, 3, 3, 23, 30, tzinfo=UTC),
        assessment="Vi delar bilden.\nRutinen ses över.",
        actions_taken="Möte hölls.",
        planned_measures=[
            {"action": "Ny rutin för remisser", "responsible": "Enhetschef", "due": "2025-06-01"},
            {"action": "Utbildning", "responsible": "Samordnare", "due": "2025-09-01"},
        ],
        agrees="delvis",
        raise_regional=False,
    )
    feedback = NS(
        verdict="insufficient",
        created_at=datetime(2025, 3, 5, 23, 30, tzinfo=UTC),
        motivation="Svaret saknar en tidsplan.",
        supplement_deadline=date(2025, 3, 20),
    )
    supplement = NS(
        responder_name="Berit Chef",
        created_at=datetime(2025, 3, 10, 8, 0, tzinfo=UTC),
        text="Rutinen gäller från april.",
    )
    forwarding = NS(
        from_unit_id="soc",
        to_unit_id="skola",
        reason="Fel mottagare",
        created_at=datetime(2025, 2, 2, 9, 0, tzinfo=UTC),
    )
    return NS(
        case_number="BUS-2025-0042",
        state="besvarad" if answered else "skickad",
        reporting_unit=NS(name=UNITS["bup"]),
        receiving_unit=NS(name=UNITS["skola"]),
        event_date=date(2025, 1, 15),
        categories=["overenskommelsen-foljs-inte", "vantetid-eller-tillganglighet"],
        description="Beskrivning.",
        actions_taken="Samtal mellan enheterna.",
        bus_individ=True,
        bus_individ_date=date(2025, 1, 20),
        proposal="",
        child_gender="annat",
        age_group="13-17",
        attachments=[NS(file=NS(name="protokoll.pdf")), NS(file=NS(name="bild.png"))],
        sent_at=datetime(2025, 1, 31, 23, 15, tzinfo=UTC),
        deadline=date(2025, 3, 2),
        answer=answer if answered else None,
        feedback=feedback if answered and fed_back else None,
        supplement=supplement if answered and fed_back else None,
        forwardings=[forwarding] if forwarded else [],
    )


def deviation_context(**kwargs: Any) -> dict[str, Any]:
    return documents.deviation_context(
        fake_deviation(**kwargs),
        categories=LABELS,
        tz="Europe/Stockholm",
        unit_name=UNITS.__getitem__,
    )


def digest_context() -> dict[str, Any]:
    from formservice.documents import digest

    open_case = fake_deviation()
    open_case.closing, open_case.answered_at = None, datetime(2025, 3, 3, 23, 30, tzinfo=UTC)
    closed = fake_deviation()
    closed.state, closed.answered_at = "avslutad", datetime(2025, 3, 3, 23, 30, tzinfo=UTC)
    closed.closing = NS(
        assessment="delvis",
        measures=[{"action": "Ny rutin", "unit": "BUP Söder", "due": "2025-06-01"}],
        escalate=True,
    )
    meeting = NS(group=NS(name="Lokal BUS Skarpnäck"), meeting_date=date(2025, 4, 1), place="")
    summary = {
        "total": 2,
        "overdue": 0,
        "by_state": [{"label": "Besvarad", "count": 1}],
        "by_category": [{"label": "Övrigt", "count": 2}],
        "pairs": [{"reporting": "A", "receiving": "B", "count": 2}],
        "patterns": [
            {
                "receiving": "BUP Söder",
                "kind": "kategori",
                "about": "Väntetid",
                "count": 3,
                "case_numbers": "BUS-2025-0001, BUS-2025-0002, BUS-2025-0003",
            }
        ],
        "answered": 2,
        "median_answer_days": 12.5,
        "share_in_time": 50.0,
        "measures": {
            "done": [
                {
                    "case_number": "BUS-2025-0001",
                    "action": "Ny rutin för remisser",
                    "unit": "BUP Söder",
                    "due": date(2025, 3, 1),
                    "done_on": date(2025, 2, 27),
                    "in_time": True,
                    "comment": "Rutinen är beslutad",
                }
            ],
            "overdue": [
                {
                    "case_number": "BUS-2025-0002",
                    "action": "Gemensam utbildning",
                    "unit": "Skolan",
                    "due": date(2025, 3, 15),
                    "done_on": None,
                    "in_time": None,
                    "comment": "",
                }
            ],
        },
    }
    statistics = {
        "period": "2025 H1 (jan–jun)",
        "by_category": [{"label": "Övrigt", "count": 2}],
        "meetings": [
            {"title": "SIP-möten per barnets kön", "rows": [{"label": "Flicka", "count": 3}]}
        ],
    }
    today = date(2025, 3, 30)
    cases = {
        1: digest.case(open_case, today, "UTC", LABELS),
        2: digest.case(closed, today, "UTC", LABELS),
    }
    sections = [("Besvarade", [1]), ("Avslutade sedan förra mötet", [2])]
    return digest.context(
        meeting,
        digest.whole(sections),
        lambda ids: [cases[case_id] for case_id in ids],
        summary,
        statistics,
        today,
    )


#: Every template in templates/docx -> a full context from its builder.
CONTEXTS: dict[str, Callable[[], dict[str, Any]]] = {
    "deviation.docx": deviation_context,
    "digest.docx": digest_context,
    "bus_individ.docx": bus_individ_document.context,
    "kallelse.docx": sip_document.context,
    "register_extract.docx": register_extract_document.context,
}


def text_of(data: bytes) -> str:
    """All paragraph text in document order, table cells included, one paragraph a line."""
    doc = Document(BytesIO(data))
    paragraphs = doc.element.body.iter(qn("w:p"))
    return "\n".join(Paragraph(p, doc._body).text for p in paragraphs)


def templates() -> list[str]:
    return sorted(path.name for path in documents.TEMPLATES.glob("*.docx"))


def test_there_are_templates() -> None:
    assert "deviation.docx" in templates()


@pytest.mark.parametrize("name", templates())
def test_template_variables_are_the_context_keys(name: str) -> None:
    assert name in CONTEXTS, f"no context builder registered for {name} in this test"
    context = CONTEXTS[name]()
    used = documents.template_variables(name)
    assert used - context.keys() == set(), "the template uses variables the code does not pass"
    assert context.keys() - used == set(), "the code passes keys the template never uses"


@pytest.mark.parametrize("name", templates())
def test_template_renders_with_its_full_context(name: str) -> None:
    Document(BytesIO(documents.render(name, CONTEXTS[name]())))


def test_deviation_context_labels_and_dates() -> None:
    context = deviation_context()
    assert context["state"] == "Besvarad"
    assert context["child_gender"] == "Annat eller uppgift saknas"
    assert context["age_group"] == "13–17 år"
    assert context["bus_individ"] == "Ja"
    assert context["event_date"] == "2025-01-15"
    assert context["sent_at"] == "2025-02-01"  # 23:15 UTC is the next day in Stockholm
    assert context["attachments"] == ["protokoll.pdf", "bild.png"]
    assert context["categories"] == LABELS  # given, as filed; never the stored codes
    assert context["answer"]["agrees"] == "Delvis"
    assert context["answer"]["raise_regional"] == "Nej"
    assert context["answer"]["answered_at"] == "2025-03-04"
    assert context["forwardings"] == [
        {
            "date": "2025-02-02",
            "from_unit": "Socialtjänsten",
            "to_unit": "Skolan i Sjöstaden",
            "reason": "Fel mottagare",
        }
    ]


def test_text_is_escaped_and_keeps_line_breaks() -> None:
    context = deviation_context()
    context["description"] = NASTY
    context["answer"]["assessment"] = NASTY
    context["categories"] = ["A & <B>"]
    text = text_of(documents.render("deviation.docx", context))
    expected = 'Barnet sa: <script>alert("x")</script> & "mer"\nRad två\nRad tre'
    assert text.count(expected) == 2
    assert f"{expected}\x07" not in text
    assert "A & <B>" in text


def test_line_breaks_are_word_line_breaks() -> None:
    context = deviation_context()
    context["description"] = "Första raden\nAndra raden"
    data = documents.render("deviation.docx", context)
    xml = zipfile.ZipFile(BytesIO(data)).read("word/document.xml").decode()
    assert "Första raden</w:t><w:br/>" in xml


def test_answer_section_is_shown_when_answered() -> None:
    text = text_of(documents.render("deviation.docx", deviation_context()))
    assert "Svar från mottagande verksamhet" in text
    assert "Svarande chef\nBerit Chef" in text
    assert "Vi delar bilden.\nRutinen ses över." in text
    assert "Ny rutin för remisser\nEnhetschef\n2025-06-01" in text
    assert "Utbildning\nSamordnare\n2025-09-01" in text
    assert "Avvikelsen är ännu inte besvarad." not in text
    assert "Vidarebefordringar" in text
    assert "Socialtjänsten\nSkolan i Sjöstaden\nFel mottagare" in text
    assert "Datum för BUS-individ\n2025-01-20" in text


def test_answer_feedback_and_supplement_follow_in_order() -> None:
    text = text_of(documents.render("deviation.docx", deviation_context()))
    answer = text.index("Svar från mottagande verksamhet")
    feedback = text.index(
        "Återkoppling på svaret\nUppgift\nInnehåll\nÅterkoppling\nSvaret räcker inte"
    )
    supplement = text.index("Kompletterande svar\nUppgift\nInnehåll\nSvarande chef\nBerit Chef")
    assert answer < feedback < supplement
    assert "Lämnad\n2025-03-06" in text  # the Stockholm date of the moment
    assert "Motivering\nSvaret saknar en tidsplan." in text
    assert "Kompletterande svar senast\n2025-03-20" in text
    assert "Kompletterande svar\nRutinen gäller från april." in text


def test_feedback_that_the_answer_is_enough_has_no_supplement() -> None:
    context = deviation_context(fed_back=False)
    assert "Återkoppling på svaret" not in text_of(documents.render("deviation.docx", context))
    context["feedback"] = {
        "insufficient": False,
        "given_at": "2025-03-06",
        "motivation": "",
        "supplement_deadline": "",
    }
    text = text_of(documents.render("deviation.docx", context))
    assert "Återkoppling\nSvaret räcker\nLämnad\n2025-03-06\nMotivering\nEj angiven" in text
    assert "Kompletterande svar" not in text


def test_the_digest_flags_and_shows_feedback_and_supplement() -> None:
    text = text_of(documents.render("digest.docx", digest_context()))
    assert "BUS-2025-0042: BUP Söder till Skolan i Sjöstaden – Återkoppling: räcker inte" in text
    case = text[text.index("Svar från mottagande verksamhet") :]
    supplement = case.index("Kompletterande svar\nUppgift")
    assert case.index("Återkoppling på svaret") < supplement
    assert supplement < case.index("Avslutning av ärendet")
    assert "Motivering\nSvaret saknar en tidsplan." in case


def test_answer_section_is_hidden_when_not_answered() -> None:
    context = deviation_context(answered=False, forwarded=False)
    context["bus_individ"], context["bus_individ_date"] = "Nej", ""
    text = text_of(documents.render("deviation.docx", context))
    assert "Svar från mottagande verksamhet\nAvvikelsen är ännu inte besvarad." in text
    assert "Svarande chef" not in text
    assert "Planerade åtgärder" not in text
    assert "Vidarebefordringar" not in text
    assert "Datum för BUS-individ" not in text
    assert "{%" not in text and "{{" not in text


def test_empty_lists_say_so() -> None:
    context = deviation_context()
    context["attachments"], context["categories"] = [], []
    context["answer"]["planned_measures"] = []
    text = text_of(documents.render("deviation.docx", context))
    assert "Bilagor\nInga bilagor" in text
    assert "Avvikelsen avser\nEj angivet" in text
    assert "Planerade åtgärder\nInga planerade åtgärder." in text


def test_document_is_titled_and_swedish() -> None:
    data = documents.render("deviation.docx", deviation_context())
    doc = Document(BytesIO(data))
    assert doc.core_properties.title == "Avvikelse i BUS-samverkan"
    assert doc.core_properties.language == "sv-SE"
    headings = [(p.style.name, p.text) for p in doc.paragraphs if p.style.name.startswith("Head")]
    assert headings[0] == ("Heading 1", "Avvikelse i BUS-samverkan")
    assert ("Heading 2", "Svar från mottagande verksamhet") in headings
    styles = zipfile.ZipFile(BytesIO(data)).read("word/styles.xml").decode()
    assert 'w:lang w:val="sv-SE"' in styles


def test_missing_variable_is_an_error() -> None:
    context = deviation_context()
    del context["description"]
    with pytest.raises(Exception, match="description"):
        documents.render("deviation.docx", context)


def _generate(outdir: Path) -> dict[str, bytes]:
    subprocess.run([sys.executable, str(SCRIPT), str(outdir)], check=True, capture_output=True)
    return {path.name: path.read_bytes() for path in outdir.glob("*.docx")}


def test_generator_is_reproducible_and_committed_templates_are_current(tmp_path: Path) -> None:
    first = _generate(tmp_path / "first")
    second = _generate(tmp_path / "second")
    assert first == second
    assert sorted(first) == templates()
    for name in first:
        fresh = DocxTemplate(tmp_path / "first" / name).get_undeclared_template_variables()
        assert fresh == documents.template_variables(name)
        committed = zipfile.ZipFile(documents.TEMPLATES / name).read("word/document.xml")
        generated = zipfile.ZipFile(tmp_path / "first" / name).read("word/document.xml")
        assert generated == committed, f"run {SCRIPT.name} to regenerate {name}"
