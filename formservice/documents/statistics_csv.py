"""Statistics as CSV for Swedish Excel: UTF-8 with BOM, semicolons, Swedish headers (SPEC §6).

The reports come from `services.statistics_report` (already suppressed by the caller: a CSV
always leaves the local group). Decimal numbers get a decimal comma; cells that would start a
spreadsheet formula are quoted with an apostrophe.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence

from ..domain.statistics import format_value

HEADER = ["BUS-grupp", "Period", "Avsnitt", "Uppgift", "Värde"]
ANSWERS = (
    ("answered", "Besvarade"),
    ("in_time", "Besvarade i tid"),
    ("share_in_time", "Andel besvarade i tid (%)"),
    ("median_days", "Mediansvarstid (dagar)"),
    ("overdue", "Obesvarade efter svarsfristen"),
)
_FORMULA = ("=", "+", "-", "@", "\t", "\r")

Row = list[str]
Cell = int | float | str | None  # a value as format_value writes it


def to_csv(header: Sequence[str], rows: Iterable[Sequence[Cell]]) -> bytes:
    return b"".join(stream_csv(header, rows))


def stream_csv(
    header: Sequence[str], rows: Iterable[Sequence[Cell]], batch: int = 500
) -> Iterator[bytes]:
    """The same CSV a few hundred rows at a time, for a download too large to build whole
    (the audit log's export): the BOM and header first, then the rows as they are read."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    out.write("\ufeff")
    writer.writerow([_cell(h) for h in header])
    for count, row in enumerate(rows, start=1):
        writer.writerow([_cell(v) for v in row])
        if count % batch == 0:
            yield _drain(out)
    yield _drain(out)


def _drain(out: io.StringIO) -> bytes:
    data = out.getvalue().encode("utf-8")
    out.seek(0)
    out.truncate()
    return data


def _cell(value: Cell) -> str:
    text = format_value(value) if value is not None else ""
    return "'" + text if text.startswith(_FORMULA) else text


def period_rows(group: str, report: dict) -> list[Row]:
    """One period's report in long form: BUS-grupp, Period, Avsnitt, Uppgift, Värde."""
    label = report["period"]["label"]
    rows = meeting_rows(report)
    rows += deviation_rows(report["deviations"])
    return [[group, label, *row] for row in rows]


def yearly_rows(group: str, report: dict) -> list[Row]:
    """The yearly follow-up: meetings and the process for the year, deviations per half."""
    year = report["period"]["label"]
    rows = [[group, year, *row] for row in meeting_rows(report)]
    rows += [[group, year, *row] for row in process_rows(report["process"])]
    for part in report["deviations"]:
        rows += [[group, part["label"], *row] for row in deviation_rows(part)]
    return rows


def meeting_rows(report: dict) -> list[Row]:
    sip, bus = report["sip"], report["bus_individ"]
    rows = [["SIP-möten", "Totalt", sip["total"]]]
    rows += _labelled("SIP-möten efter kön", sip["by_gender"])
    rows += _labelled("SIP-möten efter typ", sip["by_type"])
    for gender in sip["by_gender_and_type"]:
        rows += [
            ["SIP-möten efter kön och typ", f"{gender['label']}, {cell['label']}", cell["count"]]
            for cell in gender["cells"]
        ]
    rows.append(["BUS-individ", "Totalt", bus["total"]])
    return rows + _labelled("BUS-individ efter kön", bus["by_gender"])


def deviation_rows(section: dict) -> list[Row]:
    rows = [["Avvikelser", "Totalt", section["total"]]]
    rows += _labelled("Avvikelser efter kategori", section["by_category"])
    rows += _labelled("Avvikelser efter verksamhetspar", section["by_pair"])
    rows += _labelled("Avvikelser efter status", section["by_state"])
    answers = section["answers"]
    return rows + [["Svarstider", label, answers[key]] for key, label in ANSWERS]


def process_rows(process: dict) -> list[Row]:
    sip, bus = process["sip"], process["bus_individ"]
    return [
        ["Processen för SIP", "Genomförda SIP-möten", sip["total"]],
        *_labelled("Processen för SIP", sip["by_type"]),
        ["Processen för SIP", "Med kortare kallelsetid", sip["short_notice"]],
        ["Processen för SIP", "Andel med kortare kallelsetid (%)", sip["short_notice_share"]],
        ["Processen för BUS-individ", "Genomförda BUS-individ", bus["total"]],
        *_labelled("Processen för BUS-individ", bus["agreement"]),
    ]


def _labelled(section: str, rows: list[dict]) -> list[Row]:
    return [[section, row["label"], row["count"]] for row in rows]


def compilation_table(report: dict) -> tuple[list[tuple[str, str]], list[list[Cell]]]:
    """The BUS-sekretariat's compilation: columns as (group, heading), one row per BUS group
    and a total row."""
    lines = [*report["rows"], report["total"]]
    sip_genders = _columns(line["sip"]["by_gender"] for line in lines)
    bus_genders = _columns(line["bus_individ"]["by_gender"] for line in lines)
    columns = [
        ("", "BUS-grupp"),
        ("SIP-möten", "Totalt"),
        *(("SIP-möten", label) for _, label in sip_genders),
        ("BUS-individ", "Totalt"),
        *(("BUS-individ", label) for _, label in bus_genders),
        ("Avvikelser", "Totalt"),
        *(("Avvikelser", label) for _, label in ANSWERS),
    ]
    rows = [_compiled_row(line, sip_genders, bus_genders) for line in lines]
    return columns, rows


def flat_header(columns: list[tuple[str, str]]) -> list[str]:
    """Column names such as "SIP-möten: Flicka" for the CSV's single header row."""
    return [f"{group}: {heading}" if group else heading for group, heading in columns]


def _columns(groups: Iterable[list[dict]]) -> list[tuple[str, str]]:
    """Every (key, label) found, in the order first seen."""
    seen: dict[str, str] = {}
    for rows in groups:
        for row in rows:
            seen.setdefault(row["key"], row["label"])
    return list(seen.items())


def _compiled_row(line: dict, sip_genders: list, bus_genders: list) -> list[Cell]:
    sip, bus, dev = line["sip"], line["bus_individ"], line["deviations"]
    sip_counts = {row["key"]: row["count"] for row in sip["by_gender"]}
    bus_counts = {row["key"]: row["count"] for row in bus["by_gender"]}
    return [
        line["label"],
        sip["total"],
        *(sip_counts.get(key, 0) for key, _ in sip_genders),
        bus["total"],
        *(bus_counts.get(key, 0) for key, _ in bus_genders),
        dev["total"],
        *(dev[key] for key, _ in ANSWERS),
    ]
