"""The audit log's vocabulary and the inputs of its readers (formservice.domain.audit), the
Granskningslogg form's checks, and the streamed CSV writer."""

from __future__ import annotations

import ast
from datetime import date
from pathlib import Path

import pytest
from werkzeug.datastructures import MultiDict

from forms.admin_audit import AuditLogForm, event_choices
from formservice.documents import statistics_csv
from formservice.domain.audit import (
    EVENT_LABELS,
    READS,
    READS_CHOICE,
    InvalidPersonnummer,
    LogFilter,
    detail_text,
    event_label,
    normal_case_number,
    personnummer_forms,
)

ROOT = Path(__file__).resolve().parents[2]
AUDIT_CALLS = {"record", "record_now", "record_many", "record_objects", "send_audited"}


def audited_codes() -> set[str]:
    """Every event code written with a literal in the code: the action argument of
    audit.record/record_now/record_many/record_objects and views.files.send_audited."""
    codes = set()
    for path in [*(ROOT / "formservice").rglob("*.py"), *(ROOT / "worker").rglob("*.py")]:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute | ast.Name)):
                continue
            name = node.func.attr if isinstance(node.func, ast.Attribute) else node.func.id
            if name not in AUDIT_CALLS or len(node.args) < 2:
                continue
            codes |= _literals(node.args[1])
    return codes


def _literals(node: ast.expr) -> set[str]:
    """The whole string literals an expression can give (not the pieces of an f-string)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return {node.value}
    if isinstance(node, ast.IfExp):
        return _literals(node.body) | _literals(node.orelse)
    if isinstance(node, ast.List | ast.Tuple):
        return set().union(*(_literals(item) for item in node.elts))
    return set()


def test_every_event_code_written_has_a_swedish_name() -> None:
    codes = audited_codes()
    assert {"sip.viewed", "deviation.sent", "audit_log.viewed", "extract.searched"} <= codes
    assert codes - EVENT_LABELS.keys() == set(), "add the Swedish name to EVENT_GROUPS"
    assert EVENT_LABELS.keys() >= READS


def test_an_unknown_code_is_shown_as_itself() -> None:
    assert event_label("sip.viewed") == "SIP-möte visat"
    assert event_label("unit.created") == "unit.created"


@pytest.mark.parametrize(
    "written",
    ["811218-9876", "8112189876", "19811218-9876", "198112189876", "19811218 9876"],
)
def test_every_written_form_of_a_personnummer_gives_the_same_forms(written: str) -> None:
    assert personnummer_forms(written) == (
        "19811218-9876",
        "198112189876",
        "811218-9876",
        "8112189876",
    )


def test_a_centenarians_ten_digit_form_keeps_the_plus() -> None:
    assert personnummer_forms("811218+9876")[2] == "811218+9876"


def test_a_samordningsnummer_is_a_valid_search() -> None:
    assert personnummer_forms("20110675-2387")[0] == "20110675-2387"


@pytest.mark.parametrize("bad", ["811218-9875", "abc", "", "20111315-2380"])
def test_an_invalid_personnummer_is_refused_without_the_number(bad: str) -> None:
    with pytest.raises(InvalidPersonnummer) as refused:
        personnummer_forms(bad)
    assert bad.strip() == "" or bad not in str(refused.value)


def test_case_numbers() -> None:
    assert normal_case_number(" bus-2026-0007 ") == "BUS-2026-0007"
    assert normal_case_number("BUS-2026-12345") == "BUS-2026-12345"
    for bad in ("BUS-26-0001", "2026-0001", "BUS-2026-0001 OR 1=1", ""):
        assert normal_case_number(bad) is None


def test_the_filter_as_audit_detail_keeps_only_what_was_asked() -> None:
    asked = LogFilter(person="fia", record_type="sip", record_id=12, start=date(2026, 1, 1))
    assert asked.as_detail() == {
        "person": "fia",
        "record_type": "sip",
        "record_id": "12",
        "start": "2026-01-01",
    }
    assert LogFilter().as_detail() == {}


def test_detail_text() -> None:
    detail = {"format": "pdf", "by": ["personnummer", "namn"], "escalate": True, "x": 1}
    assert detail_text(detail) == (
        "Sökt på: personnummer, namn; Lyfts till BUS-sekretariatet: ja; Format: pdf; x: 1"
    )
    assert detail_text({}) == detail_text(None) == ""


def test_event_choices_are_grouped_and_take_an_unknown_code() -> None:
    groups = event_choices()
    assert groups["Urval"] == [
        ("", "Alla händelser"),
        (READS_CHOICE, "Alla visningar och nedladdningar"),
    ]
    assert ("sip.viewed", "SIP-möte visat") in groups["SIP-möten"]
    assert "Övrigt" not in groups
    assert event_choices("unit.created")["Övrigt"] == [("unit.created", "unit.created")]
    assert "Övrigt" not in event_choices("<script>")


def form(**values: str) -> AuditLogForm:
    return AuditLogForm(MultiDict(values))


def test_the_log_form_gives_the_filter_and_its_query() -> None:
    asked = form(
        person=" Fia ",
        arende="bus-2026-0001",
        journal="sip",
        nummer="12",
        handelse=READS_CHOICE,
        fran="2026-01-01",
        till="2026-01-31",
    )
    assert asked.validate(), asked.errors
    assert asked.to_filter() == LogFilter(
        person="Fia",
        case_number="BUS-2026-0001",
        record_type="sip",
        record_id=12,
        action=READS_CHOICE,
        start=date(2026, 1, 1),
        end=date(2026, 1, 31),
    )
    assert asked.query_args()["person"] == "Fia"
    empty = form()
    assert empty.validate() and empty.to_filter() == LogFilter() and empty.query_args() == {}


def test_streamed_csv_is_the_same_bytes_in_pieces() -> None:
    rows = [[f"=rad {n}", n, 1.5] for n in range(1203)]
    pieces = list(statistics_csv.stream_csv(["A", "B", "C"], rows, batch=500))
    assert len(pieces) == 3  # 500, 500, then the last 203
    assert b"".join(pieces) == statistics_csv.to_csv(["A", "B", "C"], rows)
    assert pieces[0].startswith("\ufeffA;B;C\r\n'=rad 0;0;1,5\r\n".encode())
