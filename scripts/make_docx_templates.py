"""Generate the docxtpl templates in templates/docx with python-docx.

Usage, from the project root: ``python scripts/make_docx_templates.py [OUTDIR]``.

The templates are code so that they can be reviewed and rebuilt. The output is byte-stable
(fixed core properties and zip timestamps), so a rebuild only shows up in git when the
layout changed. The variables used here are the contract with formservice.documents.docx.
"""

from __future__ import annotations

import sys
import zipfile
from collections.abc import Callable
from datetime import UTC, datetime
from io import BytesIO
from pathlib import Path

from docx import Document
from docx.document import Document as DocumentObject
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, RGBColor
from docx.table import Table, _Cell

ROOT = Path(__file__).resolve().parent.parent
OUTDIR = ROOT / "templates" / "docx"
LANGUAGE = "sv-SE"
FONT = "Arial"  # metric-compatible Liberation Sans stands in where LibreOffice runs
HEADING_COLOR = RGBColor(0x1F, 0x38, 0x64)
FIXED_TIME = datetime(2025, 1, 1, tzinfo=UTC)
ZIP_TIME = (1980, 1, 1, 0, 0, 0)
TEXT_WIDTH = 16.0  # cm between the margins of an A4 page

#: A paragraph in a cell: its text, or (text, style name).
Para = str | tuple[str, str]


def new_document(title: str) -> DocumentObject:
    """An empty A4 document in Swedish with the given title and stable metadata."""
    doc = Document()
    section = doc.sections[0]
    section.page_width, section.page_height = Cm(21.0), Cm(29.7)
    section.left_margin = section.right_margin = Cm(2.5)
    section.top_margin = section.bottom_margin = Cm(2.5)

    props = doc.core_properties
    props.title = title
    props.language = LANGUAGE
    props.author = props.last_modified_by = props.comments = props.subject = ""
    props.keywords = props.category = ""
    props.created = props.modified = FIXED_TIME
    props.revision = 1

    _set_default_language(doc, LANGUAGE)
    _set_font(doc, FONT)
    for level in (1, 2, 3):
        doc.styles[f"Heading {level}"].font.color.rgb = HEADING_COLOR
    _drop_thumbnail(doc)
    return doc


def _set_default_language(doc: DocumentObject, language: str) -> None:
    """Mark all text as the given language (spell checking, hyphenation, PDF /Lang)."""
    defaults = doc.styles.element.find(qn("w:docDefaults"))
    lang = defaults.find(qn("w:rPrDefault")).find(qn("w:rPr")).find(qn("w:lang"))
    lang.set(qn("w:val"), language)


def _set_font(doc: DocumentObject, font: str) -> None:
    """Use one named sans-serif font everywhere instead of the theme's fonts."""
    for fonts in doc.styles.element.iter(qn("w:rFonts")):
        for name in list(fonts.attrib):
            if name.lower().endswith("theme"):
                del fonts.attrib[name]
        for script in ("w:ascii", "w:hAnsi", "w:cs"):
            fonts.set(qn(script), font)


def _drop_thumbnail(doc: DocumentObject) -> None:
    """Remove python-docx's stock preview picture, which shows some other document."""
    rels = doc.part.package.rels
    for rid in [rid for rid, rel in rels.items() if rel.reltype == RT.THUMBNAIL]:
        del rels[rid]


def labelled(doc: DocumentObject, label: str, value: str) -> None:
    """A paragraph "Label: value" with the label in bold."""
    paragraph = doc.add_paragraph()
    paragraph.add_run(f"{label}: ").bold = True
    paragraph.add_run(value)


def table(doc: DocumentObject, header: list[str], widths: list[float], caption: str) -> Table:
    """A bordered table with a repeating header row and a caption for assistive technology."""
    tbl = doc.add_table(rows=0, cols=len(header))
    tbl.style = doc.styles["Table Grid"]
    tbl.autofit = False
    for column, width in zip(tbl.columns, widths, strict=True):
        column.width = Cm(width)
    row = tbl.add_row()
    row._tr.get_or_add_trPr().append(OxmlElement("w:tblHeader"))
    for cell, text in zip(row.cells, header, strict=True):
        cell.paragraphs[0].add_run(text).bold = True
    _cell_margins(tbl)
    element = OxmlElement("w:tblCaption")
    element.set(qn("w:val"), caption)
    tbl._tbl.tblPr.append(element)
    return tbl


def _cell_margins(tbl: Table) -> None:
    """A little air above and below the text in every cell (in twentieths of a point)."""
    margins = OxmlElement("w:tblCellMar")
    for side, width in (("top", 40), ("left", 100), ("bottom", 40), ("right", 100)):
        margin = OxmlElement(f"w:{side}")
        margin.set(qn("w:w"), str(width))
        margin.set(qn("w:type"), "dxa")
        margins.append(margin)
    tbl._tbl.tblPr.insert_element_before(margins, "w:tblLook", "w:tblCaption")


def field_table(doc: DocumentObject, caption: str) -> Table:
    """A two-column table: the form's label, then the value."""
    return table(doc, ["Uppgift", "Innehåll"], [6.0, TEXT_WIDTH - 6.0], caption)


def row(tbl: Table, label: str, *content: Para) -> None:
    """A label row of a field table; the content is one or more paragraphs."""
    label_cell, value_cell = tbl.add_row().cells
    label_cell.paragraphs[0].add_run(label).bold = True
    _fill(value_cell, content)


def cells(tbl: Table, *values: str) -> None:
    """A plain row with one paragraph per cell."""
    for cell, value in zip(tbl.add_row().cells, values, strict=True):
        cell.paragraphs[0].add_run(value)


def tag_row(tbl: Table, tag: str) -> None:
    """A row holding only a docxtpl ``{%tr ... %}`` tag; docxtpl removes the row itself."""
    tbl.add_row().cells[0].paragraphs[0].add_run(tag)


def bullets(item: str, sequence: str, empty: str) -> list[Para]:
    """Paragraphs that list every item of `sequence` as bullets, or say `empty`."""
    return [
        f"{{%p for {item} in {sequence} %}}",
        (f"{{{{ {item} }}}}", "List Bullet"),
        "{%p else %}",
        empty,
        "{%p endfor %}",
    ]


def _fill(cell: _Cell, content: tuple[Para, ...]) -> None:
    """Write paragraphs into an empty cell, reusing the paragraph every cell starts with."""
    for index, para in enumerate(content):
        text, style = (para, None) if isinstance(para, str) else para
        paragraph = cell.paragraphs[0] if index == 0 else cell.add_paragraph()
        paragraph.add_run(text)
        if style is not None:
            paragraph.style = cell.part.document.styles[style]


def deviation() -> DocumentObject:
    """The report "Avvikelse i BUS-samverkan", its answer and forwardings (SPEC §3)."""
    doc = new_document("Avvikelse i BUS-samverkan")
    doc.add_heading("Avvikelse i BUS-samverkan", level=1)
    labelled(doc, "Ärendenummer", '{{ case_number or "Ej tilldelat" }}')
    labelled(doc, "Status", "{{ state }}")

    doc.add_heading("Uppgifter om avvikelsen", level=2)
    tbl = field_table(doc, "Uppgifter om avvikelsen")
    row(tbl, "Rapporterande verksamhet", "{{ reporting_unit }}")
    row(tbl, "Mottagande verksamhet", "{{ receiving_unit }}")
    row(tbl, "Datum för händelsen", "{{ event_date }}")
    row(tbl, "Avvikelsen avser", *bullets("category", "categories", "Ej angivet"))
    row(tbl, "Beskrivning av avvikelsen", "{{ description }}")
    row(tbl, "Vad har gjorts för att lösa problemet?", "{{ actions_taken }}")
    row(tbl, "Har ärendet behandlats i BUS-individ?", "{{ bus_individ }}")
    tag_row(tbl, "{%tr if bus_individ_date %}")
    row(tbl, "Datum för BUS-individ", "{{ bus_individ_date }}")
    tag_row(tbl, "{%tr endif %}")
    row(tbl, "Förslag till åtgärd", '{{ proposal or "Ej angivet" }}')
    row(tbl, "Barnets kön", "{{ child_gender }}")
    row(tbl, "Åldersgrupp", '{{ age_group or "Ej angiven" }}')
    row(tbl, "Bilagor", *bullets("name", "attachments", "Inga bilagor"))
    row(tbl, "Skickad", '{{ sent_at or "Ej skickad" }}')
    row(tbl, "Svara senast", '{{ deadline or "Ej fastställt" }}')

    doc.add_heading("Svar från mottagande verksamhet", level=2)
    doc.add_paragraph("{%p if answer %}")
    tbl = field_table(doc, "Svar från mottagande verksamhet")
    row(tbl, "Svarande chef", "{{ answer.responder_name }}")
    row(tbl, "Besvarad", "{{ answer.answered_at }}")
    row(tbl, "Verksamhetens bedömning", "{{ answer.assessment }}")
    row(tbl, "Vidtagna åtgärder", '{{ answer.actions_taken or "Ej angivet" }}')
    row(tbl, "Instämmer ni i beskrivningen?", "{{ answer.agrees }}")
    row(tbl, "Bör frågan lyftas till regional nivå?", '{{ answer.raise_regional or "Ej angivet" }}')
    doc.add_heading("Planerade åtgärder", level=3)
    doc.add_paragraph("{%p if answer.planned_measures %}")
    tbl = table(doc, ["Åtgärd", "Ansvarig", "Klart senast"], [7.5, 5.0, 3.5], "Planerade åtgärder")
    tag_row(tbl, "{%tr for m in answer.planned_measures %}")
    cells(tbl, "{{ m.action }}", "{{ m.responsible }}", "{{ m.due }}")
    tag_row(tbl, "{%tr endfor %}")
    doc.add_paragraph("{%p else %}")
    doc.add_paragraph("Inga planerade åtgärder.")
    doc.add_paragraph("{%p endif %}")
    doc.add_paragraph("{%p else %}")
    doc.add_paragraph("Avvikelsen är ännu inte besvarad.")
    doc.add_paragraph("{%p endif %}")
    _feedback(doc, "", level=2)

    doc.add_paragraph("{%p if forwardings %}")
    doc.add_heading("Vidarebefordringar", level=2)
    tbl = table(doc, ["Datum", "Från", "Till", "Skäl"], [3.0, 4.0, 4.0, 5.0], "Vidarebefordringar")
    tag_row(tbl, "{%tr for f in forwardings %}")
    cells(tbl, "{{ f.date }}", "{{ f.from_unit }}", "{{ f.to_unit }}", "{{ f.reason }}")
    tag_row(tbl, "{%tr endfor %}")
    doc.add_paragraph("{%p endif %}")
    return doc


def digest() -> DocumentObject:
    """ "Sammanställning av avvikelser" for a steering-group meeting (SPEC §6).

    `part` says what one rendering holds: the whole digest, or a stretch of its cases for
    LibreOffice, which converts a long digest in parts (formservice.documents.digest)."""
    doc = new_document("Sammanställning av avvikelser")
    doc.add_paragraph("{%p if part.front %}")
    doc.add_heading("Sammanställning av avvikelser", level=1)
    labelled(doc, "BUS-grupp", "{{ group_name }}")
    labelled(
        doc, "Möte", "{{ meeting_date }}{% if meeting_place %}, {{ meeting_place }}{% endif %}"
    )
    labelled(doc, "Sammanställd", "{{ compiled_on }}")

    doc.add_heading("Sammanfattning", level=2)
    labelled(doc, "Antal ärenden", "{{ summary.total }}")
    labelled(doc, "Obesvarade efter svarsfristen", "{{ summary.overdue }}")
    labelled(doc, "Mediantid till svar", "{{ summary.median_answer_days }}")
    labelled(doc, "Andel besvarade i tid", "{{ summary.share_in_time }}")
    _count_table(doc, "Ärenden per status", "Status", "summary.by_state")
    _count_table(doc, "Ärenden per kategori", "Kategori", "summary.by_category")
    doc.add_heading("Återkommande verksamhetspar", level=3)
    doc.add_paragraph("{%p if summary.pairs %}")
    tbl = table(doc, ["Från", "Till", "Antal"], [6.5, 6.5, 3.0], "Återkommande verksamhetspar")
    tag_row(tbl, "{%tr for p in summary.pairs %}")
    cells(tbl, "{{ p.reporting }}", "{{ p.receiving }}", "{{ p.count }}")
    tag_row(tbl, "{%tr endfor %}")
    doc.add_paragraph("{%p else %}")
    doc.add_paragraph("Inga verksamhetspar förekommer mer än en gång.")
    doc.add_paragraph("{%p endif %}")
    doc.add_heading("Återkommande avvikelser", level=3)
    doc.add_paragraph("{%p if summary.patterns %}")
    tbl = table(
        doc,
        ["Mottagande verksamhet", "Gemensamt", "Antal", "Ärenden"],
        [4.0, 5.0, 1.5, 5.5],
        "Återkommande avvikelser de senaste tolv månaderna",
    )
    tag_row(tbl, "{%tr for p in summary.patterns %}")
    cells(
        tbl,
        "{{ p.receiving }}",
        '{% if p.kind == "kategori" %}Kategori: {% else %}Från {% endif %}{{ p.about }}',
        "{{ p.count }}",
        "{{ p.case_numbers }}",
    )
    tag_row(tbl, "{%tr endfor %}")
    doc.add_paragraph("{%p else %}")
    doc.add_paragraph("Inga återkommande avvikelser de senaste tolv månaderna.")
    doc.add_paragraph("{%p endif %}")
    _measures(doc)
    doc.add_paragraph("{%p endif %}")

    doc.add_paragraph("{%p for section in sections %}")
    doc.add_paragraph("{%p if section.heading %}")
    doc.add_heading("{{ section.title }}", level=2)
    doc.add_paragraph("{%p endif %}")
    doc.add_paragraph("{%p for c in section.cases %}")
    doc.add_heading("{{ c.heading }}", level=3)
    tbl = field_table(doc, "Avvikelsen")
    row(tbl, "Ärendenummer", "{{ c.case_number }}")
    row(tbl, "Status", "{{ c.state }}")
    row(tbl, "Rapporterande verksamhet", "{{ c.reporting_unit }}")
    row(tbl, "Mottagande verksamhet", "{{ c.receiving_unit }}")
    row(tbl, "Datum för händelsen", "{{ c.event_date }}")
    row(tbl, "Skickad", "{{ c.sent_at }}")
    row(tbl, "Svara senast", "{{ c.deadline }}")
    row(tbl, "Besvarad", '{{ c.answered_at or "Obesvarad" }}')
    row(tbl, "Avvikelsen avser", *bullets("category", "c.categories", "Ej angivet"))
    row(tbl, "Beskrivning av avvikelsen", "{{ c.description }}")
    row(tbl, "Vad har gjorts för att lösa problemet?", "{{ c.actions_taken }}")
    row(tbl, "Förslag till åtgärd", '{{ c.proposal or "Ej angivet" }}')
    row(tbl, "Bilagor", *bullets("name", "c.attachments", "Inga bilagor"))
    doc.add_heading("Svar från mottagande verksamhet", level=4)
    doc.add_paragraph("{%p if c.answer %}")
    tbl = field_table(doc, "Svar från mottagande verksamhet")
    row(tbl, "Svarande chef", "{{ c.answer.responder_name }}")
    row(tbl, "Verksamhetens bedömning", "{{ c.answer.assessment }}")
    row(tbl, "Vidtagna åtgärder", '{{ c.answer.actions_taken or "Ej angivet" }}')
    row(tbl, "Instämmer ni i beskrivningen?", "{{ c.answer.agrees }}")
    row(tbl, "Planerade åtgärder", *bullets("m", "c.answer.measures", "Inga planerade åtgärder"))
    doc.add_paragraph("{%p else %}")
    doc.add_paragraph("Avvikelsen är inte besvarad.")
    doc.add_paragraph("{%p endif %}")
    _feedback(doc, "c.", level=4)
    doc.add_heading("Avslutning av ärendet", level=4)
    tbl = field_table(doc, "Avslutning av ärendet")
    row(tbl, "Styrgruppens bedömning", "{{ c.closing.assessment }}")
    row(tbl, "Beslutade åtgärder", *bullets("m", "c.closing.measures", " "))
    row(tbl, "Lyfts till BUS-sekretariatet/BUSSAM", "{{ c.closing.escalate }}")
    doc.add_paragraph("{%p endfor %}")
    doc.add_paragraph("{%p endfor %}")

    doc.add_paragraph("{%p if part.statistics %}")
    doc.add_heading("Statistik", level=2)
    labelled(doc, "Period", "{{ statistics.period }}")
    _count_table(
        doc, "Avvikelser per kategori under perioden", "Kategori", "statistics.by_category"
    )
    doc.add_paragraph("{%p for t in statistics.meetings %}")
    doc.add_heading("{{ t.title }}", level=3)
    tbl = table(doc, ["Barnets kön", "Antal"], [10.0, 6.0], "Möten per barnets kön")
    tag_row(tbl, "{%tr for r in t.rows %}")
    cells(tbl, "{{ r.label }}", "{{ r.count }}")
    tag_row(tbl, "{%tr endfor %}")
    doc.add_paragraph("{%p endfor %}")
    doc.add_paragraph("{%p endif %}")
    return doc


def _feedback(doc: DocumentObject, prefix: str, level: int) -> None:
    """Chef A's "Återkoppling på svaret" and B's "Kompletterande svar", after the answer,
    each when given; `prefix` is where the context keeps them ("" or "c.")."""
    feedback, supplement = f"{prefix}feedback", f"{prefix}supplement"
    doc.add_paragraph(f"{{%p if {feedback} %}}")
    doc.add_heading("Återkoppling på svaret", level=level)
    tbl = field_table(doc, "Återkoppling på svaret")
    verdict = (
        "{% if " + feedback + ".insufficient %}Svaret räcker inte{% else %}Svaret räcker{% endif %}"
    )
    row(tbl, "Återkoppling", verdict)
    row(tbl, "Lämnad", f"{{{{ {feedback}.given_at }}}}")
    row(tbl, "Motivering", f'{{{{ {feedback}.motivation or "Ej angiven" }}}}')
    tag_row(tbl, f"{{%tr if {feedback}.supplement_deadline %}}")
    row(tbl, "Kompletterande svar senast", f"{{{{ {feedback}.supplement_deadline }}}}")
    tag_row(tbl, "{%tr endif %}")
    doc.add_paragraph("{%p endif %}")
    doc.add_paragraph(f"{{%p if {supplement} %}}")
    doc.add_heading("Kompletterande svar", level=level)
    tbl = field_table(doc, "Kompletterande svar")
    row(tbl, "Svarande chef", f"{{{{ {supplement}.responder_name }}}}")
    row(tbl, "Lämnat", f"{{{{ {supplement}.given_at }}}}")
    row(tbl, "Kompletterande svar", f"{{{{ {supplement}.text }}}}")
    doc.add_paragraph("{%p endif %}")


def _measures(doc: DocumentObject) -> None:
    """The decided measures done and overdue since the last meeting (issue 17)."""
    doc.add_heading("Beslutade åtgärder", level=2)
    doc.add_heading("Genomförda sedan förra mötet", level=3)
    doc.add_paragraph("{%p if summary.measures.done %}")
    widths = [2.4, 4.0, 2.8, 2.0, 2.4, 2.4]
    columns = ["Ärende", "Åtgärd", "Ansvarig verksamhet", "Klart senast", "Genomförd", "Kommentar"]
    tbl = table(doc, columns, widths, "Genomförda åtgärder")
    tag_row(tbl, "{%tr for m in summary.measures.done %}")
    values = ("case_number", "action", "unit", "due", "done", "comment")
    cells(tbl, *(f"{{{{ m.{name} }}}}" for name in values))
    tag_row(tbl, "{%tr endfor %}")
    doc.add_paragraph("{%p else %}")
    doc.add_paragraph("Inga åtgärder har rapporterats som genomförda sedan förra mötet.")
    doc.add_paragraph("{%p endif %}")
    doc.add_heading("Försenade", level=3)
    doc.add_paragraph("{%p if summary.measures.overdue %}")
    columns = ["Ärende", "Åtgärd", "Ansvarig verksamhet", "Klart senast"]
    tbl = table(doc, columns, [2.6, 7.4, 4.0, 2.0], "Försenade åtgärder")
    tag_row(tbl, "{%tr for m in summary.measures.overdue %}")
    cells(tbl, "{{ m.case_number }}", "{{ m.action }}", "{{ m.unit }}", "{{ m.due }}")
    tag_row(tbl, "{%tr endfor %}")
    doc.add_paragraph("{%p else %}")
    doc.add_paragraph("Inga beslutade åtgärder är försenade.")
    doc.add_paragraph("{%p endif %}")


def _count_table(doc: DocumentObject, title: str, column: str, sequence: str) -> None:
    """A heading and a two-column table of label and count."""
    doc.add_heading(title, level=3)
    tbl = table(doc, [column, "Antal"], [12.0, 4.0], title)
    tag_row(tbl, f"{{%tr for r in {sequence} %}}")
    cells(tbl, "{{ r.label }}", "{{ r.count }}")
    tag_row(tbl, "{%tr endfor %}")


def bus_individ() -> DocumentObject:
    """The minutes "Protokoll från BUS-individ" (SPEC §5)."""
    doc = new_document("Protokoll från BUS-individ")
    doc.add_heading("Protokoll från BUS-individ", level=1)
    labelled(doc, "Mötesdatum", "{{ meeting_date }}")
    labelled(doc, "Protokollet skrivet", "{{ written_at }}")

    doc.add_heading("Ärendet", level=2)
    tbl = field_table(doc, "Ärendet")
    row(tbl, "Föregående SIP-möte", "{{ preceding_sip }}")
    row(tbl, "Barnets namn", '{{ child_name or "Ej angivet" }}')
    row(tbl, "Barnets kön", "{{ child_gender }}")
    row(tbl, "Samtycke inhämtat", '{{ consent_date or "Ej angivet" }}')
    row(tbl, "Samtycke lämnat av", *bullets("person", "consent_from", "Ej angivet"))
    row(tbl, "Samtyckets form", '{{ consent_form or "Ej angivet" }}')
    row(tbl, "Aktualiserande verksamhet", "{{ raised_by_unit }}")
    row(tbl, "Sammankallande", '{{ convener_unit or "Ej angivet" }}')
    row(tbl, "Ordförande", '{{ chair_unit or "Ej angivet" }}')
    row(tbl, "Deltagande verksamheter", *bullets("unit", "participants", "Ej angivet"))
    row(tbl, "Frågeställning", "{{ question }}")

    doc.add_heading("Överenskommelser", level=2)
    labelled(doc, "Nåddes en överenskommelse?", "{{ agreement_reached }}")
    doc.add_paragraph("{%p if agreements %}")
    tbl = table(doc, ["Vad", "Vem", "När"], [8.5, 4.5, 3.0], "Överenskommelser")
    tag_row(tbl, "{%tr for a in agreements %}")
    cells(tbl, "{{ a.what }}", "{{ a.who }}", "{{ a.by_when }}")
    tag_row(tbl, "{%tr endfor %}")
    doc.add_paragraph("{%p else %}")
    doc.add_paragraph("Inga överenskommelser.")
    doc.add_paragraph("{%p endif %}")

    doc.add_heading("Uppföljning", level=2)
    labelled(doc, "Behövs ett uppföljande möte?", "{{ follow_up }}")
    doc.add_paragraph("{%p if follow_up_convener or follow_up_date %}")
    labelled(doc, "Sammankallande för uppföljning", '{{ follow_up_convener or "Ej angivet" }}')
    labelled(doc, "Datum för uppföljning", '{{ follow_up_date or "Ej angivet" }}')
    doc.add_paragraph("{%p endif %}")
    return doc


def kallelse() -> DocumentObject:
    """The invitation "Kallelse till SIP-möte" (SPEC §4)."""
    doc = new_document("Kallelse till SIP-möte")
    doc.add_heading("Kallelse till SIP-möte", level=1)
    labelled(doc, "Typ av möte", "{{ meeting_type }}")
    doc.add_paragraph("{%p if follows %}")
    labelled(doc, "Följer SIP-möte", "{{ follows }}")
    doc.add_paragraph("{%p endif %}")
    labelled(doc, "Mötesdatum och tid", "{{ meeting_date }} kl. {{ meeting_time }}")
    labelled(doc, "Plats eller länk", "{{ place }}")
    doc.add_paragraph(
        "Ni kallas till ett möte om samordnad individuell plan (SIP). Alla verksamheter som "
        "kallas är enligt lag skyldiga att delta (SoL 2 kap. 7 § och HSL 16 kap. 4 §). Deltar "
        "en kallad verksamhet inte skrivs en avvikelse till verksamhetens chef."
    )

    doc.add_heading("Barnet", level=2)
    tbl = field_table(doc, "Barnet")
    row(tbl, "Barnets namn", "{{ child_name }}")
    row(tbl, "Barnets personnummer", '{{ child_personnummer or "Ej angivet" }}')
    row(tbl, "Barnets kön", "{{ child_gender }}")
    row(tbl, "Har barnet/ungdomen fyllt 15 år?", "{{ child_over_15 }}")

    doc.add_heading("Vårdnadshavare", level=2)
    doc.add_paragraph("{%p if guardians %}")
    tbl = table(doc, ["Namn", "Kontaktuppgift"], [7.0, 9.0], "Vårdnadshavare")
    tag_row(tbl, "{%tr for g in guardians %}")
    cells(tbl, "{{ g.name }}", "{{ g.contact }}")
    tag_row(tbl, "{%tr endfor %}")
    doc.add_paragraph("{%p else %}")
    doc.add_paragraph("Ej angivet.")
    doc.add_paragraph("{%p endif %}")

    doc.add_heading("Samtycke", level=2)
    tbl = field_table(doc, "Samtycke")
    row(tbl, "Samtycke inhämtat", '{{ consent_date or "Ej angivet" }}')
    row(tbl, "Samtycke från", *bullets("person", "consent_from", "Ej angivet"))
    row(tbl, "Samtyckets form", '{{ consent_form or "Ej angivet" }}')

    doc.add_heading("Frågeställning", level=2)
    doc.add_paragraph("{{ question }}")

    doc.add_heading("Mötet", level=2)
    tbl = field_table(doc, "Mötet")
    row(tbl, "Initiativtagare", "{{ initiator_unit }}")
    row(tbl, "Ansvarig chef", "{{ initiator_chef }}")
    row(tbl, "Ordförande", "{{ chair }}")
    row(tbl, "Sekreterare", "{{ secretary }}")
    row(tbl, "Kallade verksamheter", *bullets("unit", "called_units", "Ej angivet"))
    row(tbl, "Kortare kallelsetid", "{{ short_notice }}")
    tag_row(tbl, "{%tr if short_notice_reason %}")
    row(tbl, "Skäl till kortare kallelsetid", "{{ short_notice_reason }}")
    tag_row(tbl, "{%tr endif %}")
    row(tbl, "Kallelsen skickad", '{{ sent_on or "Ej skickad" }}')

    doc.add_heading("Inbjudna (övriga)", level=2)
    doc.add_paragraph("{%p if invitees %}")
    tbl = table(doc, ["Namn", "Organisation", "E-post"], [5.0, 5.0, 6.0], "Inbjudna (övriga)")
    tag_row(tbl, "{%tr for i in invitees %}")
    cells(tbl, "{{ i.name }}", "{{ i.organisation }}", "{{ i.email }}")
    tag_row(tbl, "{%tr endfor %}")
    doc.add_paragraph("{%p else %}")
    doc.add_paragraph("Inga övriga inbjudna.")
    doc.add_paragraph("{%p endif %}")
    return doc


def register_extract() -> DocumentObject:
    """ "Registerutdrag": everything held about one child in SIP meetings and BUS-individ
    records, with who has seen it (GDPR art. 15); never deviations."""
    doc = new_document("Registerutdrag")
    doc.add_heading("Registerutdrag", level=1)
    labelled(doc, "Upprättat", "{{ made_at }}")
    labelled(doc, "Upprättat av", "{{ made_by }}")
    doc.add_paragraph(
        "Utdraget visar alla uppgifter som BUS-formservice har om barnet i kallelser till "
        "SIP-möten och protokoll från BUS-individ (dataskyddsförordningen artikel 15): "
        "uppgifterna, vilka som har sett, laddat ner eller ändrat dem och när, och vilka "
        "dokument som är sparade."
    )
    doc.add_heading("Om behandlingen", level=2)
    labelled(
        doc,
        "Ändamål",
        "att samordna insatser för barnet genom SIP och BUS-individ enligt BUS-överenskommelsen.",
    )
    labelled(
        doc,
        "Rättslig grund",
        "samtycke från vårdnadshavare och, från 15 år, från barnet självt "
        "(SoL 2 kap. 7 § och HSL 16 kap. 4 §).",
    )
    labelled(
        doc,
        "Mottagare",
        "cheferna för de verksamheter som kallas till mötet eller deltar i det. E-post från "
        "tjänsten innehåller aldrig uppgifter om barnet.",
    )
    labelled(
        doc,
        "Lagringstid",
        "barnets identitet tas bort {{ retention_months }} månader efter mötet; kvar blir "
        "kön, datum och verksamheter för statistiken.",
    )
    doc.add_paragraph(
        "Avvikelser ingår inte i utdraget: de är avidentifierade och innehåller inga "
        "uppgifter om barnet."
    )

    doc.add_heading("SIP-möten", level=2)
    doc.add_paragraph("{%p for s in sip_meetings %}")
    doc.add_heading("{{ s.heading }}", level=3)
    tbl = field_table(doc, "SIP-möte")
    row(tbl, "Nummer", "{{ s.id }}")
    row(tbl, "Status", "{{ s.state }}")
    row(tbl, "Typ av möte", "{{ s.meeting_type }}")
    row(tbl, "Följer SIP-möte", '{{ s.follows or "Nej" }}')
    row(tbl, "Mötesdatum och tid", "{{ s.meeting_date }} kl. {{ s.meeting_time }}")
    row(tbl, "Plats eller länk", '{{ s.place or "Ej angivet" }}')
    row(tbl, "Barnets namn", '{{ s.child_name or "Ej angivet" }}')
    row(tbl, "Barnets personnummer", '{{ s.child_personnummer or "Ej angivet" }}')
    row(tbl, "Barnets kön", "{{ s.child_gender }}")
    row(tbl, "Har barnet/ungdomen fyllt 15 år?", "{{ s.child_over_15 }}")
    row(tbl, "Samtycke inhämtat", '{{ s.consent_date or "Ej angivet" }}')
    row(tbl, "Samtycke från", *bullets("person", "s.consent_from", "Ej angivet"))
    row(tbl, "Samtyckets form", '{{ s.consent_form or "Ej angivet" }}')
    row(tbl, "Frågeställning", '{{ s.question or "Ej angivet" }}')
    row(tbl, "Initiativtagare", "{{ s.initiator_unit }}")
    row(tbl, "Ansvarig chef", "{{ s.initiator_chef }}")
    row(tbl, "Ordförande", "{{ s.chair }}")
    row(tbl, "Sekreterare", "{{ s.secretary }}")
    row(tbl, "Kortare kallelsetid", "{{ s.short_notice }}")
    tag_row(tbl, "{%tr if s.short_notice_reason %}")
    row(tbl, "Skäl till kortare kallelsetid", "{{ s.short_notice_reason }}")
    tag_row(tbl, "{%tr endif %}")
    row(tbl, "Skapad", "{{ s.created_at }}")
    row(tbl, "Kallelsen skickad", '{{ s.sent_on or "Ej skickad" }}')
    row(tbl, "Närvaro registrerad", '{{ s.held_at or "Ej registrerad" }}')
    row(tbl, "Upprättades en plan?", '{{ s.plan_drawn_up or "Ej angivet" }}')
    row(tbl, "Datum då planen upprättades", '{{ s.plan_date or "Ej angivet" }}')
    row(tbl, "Sparade dokument", *bullets("name", "s.documents", "Inga"))
    doc.add_heading("Vårdnadshavare", level=4)
    doc.add_paragraph("{%p if s.guardians %}")
    tbl = table(doc, ["Namn", "Kontaktuppgift"], [7.0, 9.0], "Vårdnadshavare")
    tag_row(tbl, "{%tr for g in s.guardians %}")
    cells(tbl, "{{ g.name }}", "{{ g.contact }}")
    tag_row(tbl, "{%tr endfor %}")
    doc.add_paragraph("{%p else %}")
    doc.add_paragraph("Ej angivet.")
    doc.add_paragraph("{%p endif %}")
    doc.add_heading("Kallade verksamheter och närvaro", level=4)
    tbl = table(doc, ["Kallad verksamhet", "Närvaro"], [10.0, 6.0], "Kallade verksamheter")
    tag_row(tbl, "{%tr for c in s.called %}")
    cells(tbl, "{{ c.unit }}", "{{ c.attendance }}")
    tag_row(tbl, "{%tr endfor %}")
    doc.add_heading("Inbjudna (övriga)", level=4)
    doc.add_paragraph("{%p if s.invitees %}")
    tbl = table(doc, ["Namn", "Organisation", "E-post"], [5.0, 5.0, 6.0], "Inbjudna (övriga)")
    tag_row(tbl, "{%tr for i in s.invitees %}")
    cells(tbl, "{{ i.name }}", "{{ i.organisation }}", "{{ i.email }}")
    tag_row(tbl, "{%tr endfor %}")
    doc.add_paragraph("{%p else %}")
    doc.add_paragraph("Inga övriga inbjudna.")
    doc.add_paragraph("{%p endif %}")
    _events_table(doc, "s.events")
    doc.add_paragraph("{%p else %}")
    doc.add_paragraph("Inga SIP-möten.")
    doc.add_paragraph("{%p endfor %}")

    doc.add_heading("BUS-individ", level=2)
    doc.add_paragraph("{%p for b in bus_individ_records %}")
    doc.add_heading("{{ b.heading }}", level=3)
    tbl = field_table(doc, "BUS-individ")
    row(tbl, "Nummer", "{{ b.id }}")
    row(tbl, "Status", "{{ b.state }}")
    row(tbl, "Mötesdatum", "{{ b.meeting_date }}")
    row(tbl, "Föregående SIP-möte", '{{ b.preceding_sip or "Ej angivet" }}')
    row(tbl, "Barnets namn", '{{ b.child_name or "Ej angivet" }}')
    row(tbl, "Barnets kön", "{{ b.child_gender }}")
    row(tbl, "Samtycke inhämtat", '{{ b.consent_date or "Ej angivet" }}')
    row(tbl, "Samtycke lämnat av", *bullets("person", "b.consent_from", "Ej angivet"))
    row(tbl, "Samtyckets form", '{{ b.consent_form or "Ej angivet" }}')
    row(tbl, "Aktualiserande verksamhet", "{{ b.raised_by_unit }}")
    row(tbl, "Sammankallande", '{{ b.convener_unit or "Ej angivet" }}')
    row(tbl, "Ordförande", '{{ b.chair_unit or "Ej angivet" }}')
    row(tbl, "Deltagande verksamheter", *bullets("unit", "b.participants", "Ej angivet"))
    row(tbl, "Frågeställning", '{{ b.question or "Ej angivet" }}')
    row(tbl, "Nåddes en överenskommelse?", '{{ b.agreement_reached or "Ej angivet" }}')
    row(tbl, "Behövs ett uppföljande möte?", '{{ b.follow_up or "Ej angivet" }}')
    row(tbl, "Sammankallande för uppföljning", '{{ b.follow_up_convener or "Ej angivet" }}')
    row(tbl, "Datum för uppföljning", '{{ b.follow_up_date or "Ej angivet" }}')
    row(tbl, "Skapad", "{{ b.created_at }}")
    row(tbl, "Protokollet skrivet", '{{ b.written_at or "Ej angivet" }}')
    row(tbl, "Sparade dokument", *bullets("name", "b.documents", "Inga"))
    doc.add_heading("Överenskommelser", level=4)
    doc.add_paragraph("{%p if b.agreements %}")
    tbl = table(doc, ["Vad", "Vem", "När"], [8.5, 4.5, 3.0], "Överenskommelser")
    tag_row(tbl, "{%tr for a in b.agreements %}")
    cells(tbl, "{{ a.what }}", "{{ a.who }}", "{{ a.by_when }}")
    tag_row(tbl, "{%tr endfor %}")
    doc.add_paragraph("{%p else %}")
    doc.add_paragraph("Inga överenskommelser.")
    doc.add_paragraph("{%p endif %}")
    _events_table(doc, "b.events")
    doc.add_paragraph("{%p else %}")
    doc.add_paragraph("Inga protokoll från BUS-individ.")
    doc.add_paragraph("{%p endfor %}")
    return doc


def _events_table(doc: DocumentObject, sequence: str) -> None:
    """Who has seen, downloaded or changed a record, and when (from the audit log)."""
    doc.add_heading("Vilka som har sett och hanterat uppgifterna", level=4)
    tbl = table(doc, ["Tidpunkt", "Vem", "Händelse"], [3.5, 6.5, 6.0], "Logg")
    tag_row(tbl, f"{{%tr for e in {sequence} %}}")
    cells(tbl, "{{ e.at }}", "{{ e.who }}", "{{ e.event }}")
    tag_row(tbl, "{%tr endfor %}")


#: Template file name -> the function that builds it.
TEMPLATES: dict[str, Callable[[], DocumentObject]] = {
    "deviation.docx": deviation,
    "digest.docx": digest,
    "bus_individ.docx": bus_individ,
    "kallelse.docx": kallelse,
    "register_extract.docx": register_extract,
}


def stable_bytes(doc: DocumentObject) -> bytes:
    """The saved document with fixed zip timestamps, so equal layouts give equal bytes."""
    saved = BytesIO()
    doc.save(saved)
    out = BytesIO()
    with zipfile.ZipFile(saved) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            entry = zipfile.ZipInfo(info.filename, ZIP_TIME)
            dst.writestr(entry, src.read(info), compress_type=zipfile.ZIP_DEFLATED)
    return out.getvalue()


def main(argv: list[str] | None = None) -> int:
    """Write every template into OUTDIR (default templates/docx)."""
    args = sys.argv[1:] if argv is None else argv
    outdir = Path(args[0]) if args else OUTDIR
    outdir.mkdir(parents=True, exist_ok=True)
    for name, build in TEMPLATES.items():
        (outdir / name).write_bytes(stable_bytes(build()))
        print(outdir / name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
