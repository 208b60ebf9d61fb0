"""The digest's parts for LibreOffice, its streamed DOCX and its PDF outline."""

from __future__ import annotations

import zipfile
from io import BytesIO

from lxml import etree

from formservice.documents import digest
from formservice.documents import docx as documents
from formservice.documents.pdfjoin import Bookmark

from .test_docx_templates import NASTY, digest_context, text_of


def flatten(parts: list[digest.Part]) -> list[tuple[str, int]]:
    sections = [section for part in parts for section in part.sections]
    return [(title, case_id) for title, _, ids in sections for case_id in ids]


SECTIONS = [("Skickade", list(range(1, 6))), ("Besvarade", list(range(6, 13))), ("Avslutade", [13])]


def test_parts_hold_every_case_once_in_order_and_at_most_size_each():
    parts = digest.parts(SECTIONS, size=4)
    assert flatten(parts) == [(title, i) for title, ids in SECTIONS for i in ids]
    assert [part.size for part in parts] == [4, 4, 4, 1]
    assert [(p.front, p.statistics) for p in parts] == [
        (True, False),
        (False, False),
        (False, False),
        (False, True),
    ]


def test_a_section_cut_between_parts_is_titled_where_it_begins_only():
    parts = digest.parts(SECTIONS, size=4)
    titled = [(title, heading) for part in parts for title, heading, _ in part.sections]
    assert titled == [
        ("Skickade", True),
        ("Skickade", False),
        ("Besvarade", True),
        ("Besvarade", False),
        ("Avslutade", True),
    ]


def test_a_digest_without_cases_is_one_part_with_front_and_statistics():
    (part,) = digest.parts([], size=4)
    assert (part.front, part.statistics, part.sections) == (True, True, [])
    whole = digest.whole(SECTIONS)
    assert (whole.front, whole.statistics, whole.size) == (True, True, 13)


def body_c14n(data: bytes) -> bytes:
    xml = zipfile.ZipFile(BytesIO(data)).read("word/document.xml")
    return etree.tostring(etree.fromstring(xml), method="c14n")


def test_streaming_writes_the_same_document_as_docxtpl():
    context = digest_context()
    context["summary"]["pairs"][0]["reporting"] = documents.clean(NASTY)  # escaping, breaks
    for section in context["sections"]:
        section["cases"] = [{**c, "description": documents.clean(NASTY)} for c in section["cases"]]
    rendered = documents.render("digest.docx", context)
    out = BytesIO()
    levels = documents.stream("digest.docx", context, out)
    assert body_c14n(out.getvalue()) == body_c14n(rendered)
    names = zipfile.ZipFile(BytesIO(rendered)).namelist()
    assert sorted(zipfile.ZipFile(out).namelist()) == sorted(names)
    # the headings: title, summary (+4 tables), decided measures (+2), 2 sections of one case
    # (+4 each: answer, feedback, supplement, closing), statistics
    assert levels == [1, 2, 3, 3, 3, 3, 2, 3, 3, 2, 3, 4, 4, 4, 4, 2, 3, 4, 4, 4, 4, 2, 3, 3]


def test_decided_measures_done_and_overdue_are_listed():
    text = text_of(documents.render("digest.docx", digest_context()))
    assert "Beslutade åtgärder\nGenomförda sedan förra mötet" in text
    done = "BUS-2025-0001\nNy rutin för remisser\nBUP Söder\n2025-03-01\n2025-02-27 (i tid)"
    assert done + "\nRutinen är beslutad" in text
    assert "Försenade\n" in text
    assert "BUS-2025-0002\nGemensam utbildning\nSkolan\n2025-03-15" in text


def test_without_measures_the_digest_says_so():
    context = digest_context()
    context["summary"]["measures"] = {"done": [], "overdue": []}
    text = text_of(documents.render("digest.docx", context))
    assert "Inga åtgärder har rapporterats som genomförda sedan förra mötet." in text
    assert "Inga beslutade åtgärder är försenade." in text


def test_streaming_reads_the_cases_once_as_they_come_in_small_pieces():
    context = digest_context()
    (case,) = context["sections"][0]["cases"]
    read = []

    def many():
        for n in range(300):
            read.append(n)
            yield {**case, "case_number": f"BUS-2025-{n:04d}"}

    context["sections"][0]["cases"] = many()
    out = BytesIO()
    documents.stream("digest.docx", context, out)
    text = text_of(out.getvalue())
    assert read == list(range(300))
    assert "BUS-2025-0000" in text and "BUS-2025-0299" in text


def test_a_part_without_front_or_statistics_holds_only_its_cases():
    context = digest_context()
    context["part"] = {"front": False, "statistics": False}
    context["sections"][1]["heading"] = False
    out = BytesIO()
    levels = documents.stream("digest.docx", context, out)
    text = text_of(out.getvalue())
    assert "Sammanfattning" not in text and "Statistik" not in text
    assert "Besvarade" in text and "Avslutade sedan förra mötet" not in text
    assert levels == [2, 3, 4, 4, 4, 4, 3, 4, 4, 4, 4]


def test_outline_nests_headings_by_level_and_lists_attachments_per_case():
    headings = [("Titel", 0), ("Sammanfattning", 0), ("Besvarade", 1), ("A: x till y", 1)]
    headings += [("Svar", 2), ("Avslutning", 2), ("B: x till y", 3), ("Statistik", 4)]
    levels = [1, 2, 2, 3, 4, 4, 3, 2]
    appendices = [
        digest.Appendix("A", "a.pdf", 5),
        digest.Appendix("A", "b.pdf", 7),
        digest.Appendix("B", "c.pdf", 8),
    ]
    (title, attached) = digest.outline(headings, levels, appendices)
    assert title == Bookmark(
        "Titel",
        0,
        [
            Bookmark("Sammanfattning", 0),
            Bookmark(
                "Besvarade",
                1,
                [
                    Bookmark("A: x till y", 1, [Bookmark("Svar", 2), Bookmark("Avslutning", 2)]),
                    Bookmark("B: x till y", 3),
                ],
            ),
            Bookmark("Statistik", 4),
        ],
    )
    assert attached == Bookmark(
        "Bilagor",
        5,
        [
            Bookmark("A", 5, [Bookmark("a.pdf", 5), Bookmark("b.pdf", 7)]),
            Bookmark("B", 8, [Bookmark("c.pdf", 8)]),
        ],
    )


def test_outline_is_flat_when_the_levels_do_not_match():
    marks = digest.outline([("A", 0), ("B", 1)], [1], [])
    assert marks == [Bookmark("A", 0), Bookmark("B", 1)]


def test_the_summary_names_recurring_patterns_with_their_case_numbers():
    context = digest_context()
    text = text_of(documents.render("digest.docx", context))
    assert "Återkommande avvikelser" in text
    assert "Kategori: Väntetid" in text
    assert "BUS-2025-0001, BUS-2025-0002, BUS-2025-0003" in text
    context["summary"]["patterns"] = []
    empty = text_of(documents.render("digest.docx", context))
    assert "Inga återkommande avvikelser de senaste tolv månaderna." in empty
