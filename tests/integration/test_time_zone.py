"""FORMSERVICE_TIMEZONE decides the dates people see: on pages (the `datum` filter) and in the
report's DOCX (`documents` get the zone passed in)."""

from __future__ import annotations

from datetime import UTC, datetime
from io import BytesIO

import pytest
from docx import Document
from docx.oxml.ns import qn
from docx.text.paragraph import Paragraph
from flask import render_template_string

from formservice.extensions import db
from tests.support.app import login

from .helpers import CHEF_A, send_report

SENT = datetime(2026, 3, 1, 23, 30, tzinfo=UTC)  # 2 March in Stockholm, 1 March in New York
ZONES = [
    ("Europe/Stockholm", "2026-03-02 00:30", "2026-03-02"),
    ("America/New_York", "2026-03-01 18:30", "2026-03-01"),
]


def docx_lines(data: bytes) -> list[str]:
    doc = Document(BytesIO(data))
    return [Paragraph(p, doc._body).text for p in doc.element.body.iter(qn("w:p"))]


@pytest.mark.parametrize(("zone", "moment", "day"), ZONES)
def test_the_datum_filter_shows_moments_in_the_configured_zone(app, zone, moment, day):
    app.config["FORMSERVICE_TIMEZONE"] = zone
    with app.test_request_context():
        assert render_template_string("{{ sent | datum }}", sent=SENT) == moment
        assert render_template_string("{{ sent.date() | datum }}", sent=SENT) == "2026-03-01"


@pytest.mark.parametrize(("zone", "moment", "day"), ZONES)
def test_the_report_page_and_its_docx_show_the_sent_date_in_the_configured_zone(
    client, directory, zone, moment, day
):
    directory.config["FORMSERVICE_TIMEZONE"] = zone
    deviation = send_report()
    deviation.sent_at = SENT
    db.session.commit()
    login(client, CHEF_A)
    page = client.get(f"/avvikelser/{deviation.id}").get_data(as_text=True)
    assert f"<dt>Skickad</dt><dd>{moment}</dd>" in page
    response = client.get(f"/avvikelser/{deviation.id}/avvikelse.docx")
    assert response.status_code == 200
    lines = docx_lines(response.data)
    assert lines[lines.index("Skickad") + 1] == day
