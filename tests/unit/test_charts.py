"""Server-rendered SVG bar charts: well-formed, escaped, proportional, accessible (SPEC §6)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from functools import cache
from pathlib import Path

import pytest
from jinja2 import Environment, FileSystemLoader
from markupsafe import Markup

from formservice.charts import VALUE_SPACE, WIDTH, bars_of, format_value
from formservice.web import template_globals

SVG = "{http://www.w3.org/2000/svg}"
TEMPLATES = Path(__file__).resolve().parents[2] / "templates"


@cache
def macros():
    """templates/html/statistics/_chart.html with the app's template globals, as pages use it."""
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=True)
    env.globals.update(template_globals())
    return env.get_template("html/statistics/_chart.html").module


def bar_chart(*args, **kwargs) -> Markup:
    return macros().bar_chart(*args, **kwargs)


def figure(*args, **kwargs) -> Markup:
    return macros().figure(*args, **kwargs)


def parse(markup) -> ET.Element:
    return ET.fromstring(str(markup))


def bars(root: ET.Element) -> list[float]:
    return [float(rect.get("width")) for rect in root.iter(f"{SVG}rect")]


def texts(root: ET.Element, cls: str) -> list[str]:
    return [t.text for t in root.iter(f"{SVG}text") if t.get("class") == cls]


def test_chart_is_well_formed_svg_named_by_its_title():
    root = parse(bar_chart("sip-kon", "SIP-möten efter kön", [("Flicka", 3), ("Pojke", 1)]))
    assert root.tag == f"{SVG}svg"
    assert root.get("role") == "img"
    title = root.find(f"{SVG}title")
    assert title is not None and root.get("aria-labelledby") == title.get("id")
    assert title.get("id") == "chart-sip-kon-title"
    assert "SIP-möten efter kön" in title.text
    assert texts(root, "chart-label") == ["Flicka", "Pojke"]
    assert texts(root, "chart-value") == ["3", "1"]


def test_labels_and_title_are_escaped():
    hostile = '<script>alert("x")</script> & Co \x07'
    markup = str(bar_chart('a"b<c', hostile, [(hostile, 2)]))
    root = ET.fromstring(markup)  # would raise on unescaped markup or a control character
    assert "<script>" not in markup
    assert texts(root, "chart-label") == ['<script>alert("x")</script> & Co ']
    assert root.get("aria-labelledby") == "chart-a-b-c-title"


def test_bar_lengths_are_proportional_to_the_values():
    root = parse(bar_chart("p", "P", [("a", 10), ("b", 5), ("c", 1), ("d", 0)]))
    full = WIDTH - VALUE_SPACE
    assert bars(root) == pytest.approx([full, full / 2, full / 10, 0])


def test_all_zero_and_empty_data_draw_no_bars_and_no_division_by_zero():
    zeros = parse(bar_chart("z", "Noll", [("a", 0), ("b", 0)]))
    assert bars(zeros) == [0, 0]
    assert texts(zeros, "chart-value") == ["0", "0"]
    empty = parse(bar_chart("e", "Tomt", []))
    assert bars(empty) == []
    assert texts(empty, "chart-label") == ["Inga uppgifter att visa."]
    assert float(empty.get("height")) > 0


def test_suppressed_values_get_no_bar_but_their_text():
    root = parse(bar_chart("s", "Dolt", [("Flicka", 3), ("Pojke", "<3")]))
    assert bars(root) == pytest.approx([WIDTH - VALUE_SPACE, 0])
    assert texts(root, "chart-value") == ["3", "<3"]


def test_figure_shows_the_same_data_as_a_table_beside_the_chart():
    rows = [{"label": "Kategori & annat", "count": 4}, {"label": "Övrigt", "count": "<3"}]
    root = parse(figure("k", "Avvikelser efter kategori", bars_of(rows), "Kategori"))
    assert root.tag == "figure"
    assert root.find("figcaption").text == "Avvikelser efter kategori"
    table = root.find(".//table")
    assert [th.text for th in table.find("thead").iter("th")] == ["Kategori", "Antal"]
    body = [[c.text for c in tr] for tr in table.find("tbody")]
    assert body == [["Kategori & annat", "4"], ["Övrigt", "<3"]]
    assert root.find(f".//{SVG}svg") is not None


def test_figure_limits_the_chart_but_not_the_table():
    data = [(f"par {n}", 20 - n) for n in range(20)]
    root = parse(figure("par", "Par", data, limit=5))
    assert len(bars(root.find(f".//{SVG}svg"))) == 5
    assert len(root.find(".//table").find("tbody")) == 20
    assert "de 5 första" in root.find("figcaption").text


def test_numbers_are_written_the_swedish_way():
    assert format_value(25.5) == "25,5"
    assert format_value(3) == "3"
    assert format_value(None) == "–"
    assert format_value("<3") == "<3"
