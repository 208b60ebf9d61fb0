"""A rendered report converts to PDF with LibreOffice and keeps its text and headings."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from pypdf import PdfReader

from formservice.documents.docx import render

CONTEXT = {
    "case_number": "BUS-2025-0042",
    "state": "Besvarad",
    "reporting_unit": "BUP Söder",
    "receiving_unit": "Skolan i Sjöstaden",
    "event_date": "2025-01-15",
    "categories": ["Överenskommelsen följs inte"],
    "description": 'Första raden <script> & "citat"\nAndra raden',
    "actions_taken": "Samtal mellan enheterna.",
    "bus_individ": "Nej",
    "bus_individ_date": "",
    "proposal": "",
    "child_gender": "Flicka",
    "age_group": "6–12 år",
    "attachments": ["protokoll.pdf"],
    "sent_at": "2025-02-01",
    "deadline": "2025-03-03",
    "answer": {
        "responder_name": "Berit Chef",
        "answered_at": "2025-02-20",
        "assessment": "Vi delar bilden.",
        "actions_taken": "",
        "planned_measures": [
            {"action": "Ny rutin", "responsible": "Enhetschef", "due": "2025-06-01"}
        ],
        "agrees": "Ja",
        "raise_regional": "Nej",
    },
    "feedback": {
        "insufficient": True,
        "given_at": "2025-02-24",
        "motivation": "Svaret säger inget om remisserna.",
        "supplement_deadline": "2025-03-10",
    },
    "supplement": {
        "responder_name": "Berit Chef",
        "given_at": "2025-03-01",
        "text": "Remisserna går nu till en gemensam brevlåda.",
    },
    "forwardings": [],
}


def soffice() -> str:
    path = shutil.which("soffice")
    if path is None:
        pytest.fail(
            "LibreOffice is required: 'soffice' is not on PATH (apt-get install libreoffice)"
        )
    return path


@pytest.mark.slow
def test_rendered_report_converts_to_pdf(tmp_path: Path) -> None:
    source = tmp_path / "BUS-2025-0042.docx"
    source.write_bytes(render("deviation.docx", CONTEXT))
    outdir = tmp_path / "pdf"
    command = [
        soffice(),
        f"-env:UserInstallation={(tmp_path / 'lo-profile').as_uri()}",
        "--headless",
        "--convert-to",
        "pdf",
        "--outdir",
        str(outdir),
        str(source),
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120)
    pdf = outdir / "BUS-2025-0042.pdf"
    assert done.returncode == 0 and pdf.exists(), done.stdout + done.stderr

    reader = PdfReader(pdf)
    text = "\n".join(page.extract_text() for page in reader.pages)
    assert "BUS-2025-0042" in text
    assert "Avvikelse i BUS-samverkan" in text
    assert '<script> & "citat"' in text
    assert "Svaret räcker inte" in text and "gemensam brevlåda" in text  # feedback, supplement
    titles = [item.title for item in reader.outline if not isinstance(item, list)]
    assert titles[0] == "Avvikelse i BUS-samverkan"
