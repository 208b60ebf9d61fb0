"""digest steps and failures, document failures: codes instead of Swedish text

Revision ID: 0007
Revises: 0009
Create Date: 2026-12-05 08:00:00

`digests.step`, `digests.error` and `document_error` of SIP meetings and BUS-individ records
held the Swedish text the pages showed; they now hold a code, with what its text needs in a new
JSON column beside each (`step_args`, `error_args`, `document_error_args`), and the templates
render the text (templates/html/_status.html). The texts the service wrote are mapped to their
codes; any other value is left as it is (the pages show it unchanged). The downgrade writes
the texts back and drops the new columns.
"""

import re
from collections.abc import Callable

import sqlalchemy as sa
from alembic import op
from sqlalchemy.engine import Connection

#: A value and its args to their new value and args; None: keep the row as it is.
Change = Callable[[str, dict | None], tuple | None]

revision = "0007"
down_revision = "0009"
branch_labels = None
depends_on = None

#: The texts as the service wrote them when this revision was made (code, pattern, text with
#: the args as format fields). Not imported: the templates may change, this must not.
STEPS = [
    ("queued", r"I kö", "I kö"),
    ("gathering", r"Hämtar ärendena", "Hämtar ärendena"),
    (
        "writing",
        r"Skriver Word-dokumentet \((?P<cases>\d+) ärenden\)",
        "Skriver Word-dokumentet ({cases} ärenden)",
    ),
    (
        "converting",
        r"Gör PDF med LibreOffice \(del (?P<part>\d+) av (?P<parts>\d+)\)",
        "Gör PDF med LibreOffice (del {part} av {parts})",
    ),
    ("attaching", r"Lägger till bilagor", "Lägger till bilagor"),
    ("saving", r"Sparar", "Sparar"),
    ("done", r"Klar", "Klar"),
    ("failed", r"Misslyckades", "Misslyckades"),
]
CONVERSION = [
    (
        "conversion_failed",
        r"LibreOffice kunde inte omvandla dokumentet till PDF\.",
        "LibreOffice kunde inte omvandla dokumentet till PDF.",
    ),
    (
        "conversion_no_start",
        r"LibreOffice kunde inte startas \((?P<program>.*)\)\.",
        "LibreOffice kunde inte startas ({program}).",
    ),
    (
        "conversion_timeout",
        r"LibreOffice svarade inte inom (?P<seconds>\d+) sekunder\.",
        "LibreOffice svarade inte inom {seconds} sekunder.",
    ),
]
DIGEST_ERRORS = [
    *CONVERSION,
    (
        "abandoned",
        r"Sammanställningen avbröts innan den blev klar\. Försök igen\.",
        "Sammanställningen avbröts innan den blev klar. Försök igen.",
    ),
    (
        "unexpected",
        r"Ett oväntat fel inträffade när sammanställningen gjordes\.",
        "Ett oväntat fel inträffade när sammanställningen gjordes.",
    ),
]
#: (table, text column, args column, known texts)
COLUMNS = [
    ("digests", "step", "step_args", STEPS),
    ("digests", "error", "error_args", DIGEST_ERRORS),
    ("sip_meetings", "document_error", "document_error_args", CONVERSION),
    ("bus_individ", "document_error", "document_error_args", CONVERSION),
]
#: The JSON columns this revision adds.
NEW_COLUMNS = [(name, args) for name, _, args, _ in COLUMNS]


def _code(text: str, known: list) -> tuple[str, dict | None] | None:
    """The code and args of a text the service wrote; None for any other text."""
    for code, pattern, _ in known:
        match = re.fullmatch(pattern, text)
        if match:
            args = {
                key: value if key == "program" else int(value)
                for key, value in match.groupdict().items()
            }
            return code, args or None
    return None


def _text(code: str, args: dict | None, known: list) -> str | None:
    """The text of a code (None: not a code, the value stays)."""
    for known_code, _, text in known:
        if code == known_code:
            return text.format(**(args or {}))
    return None


def _table(name: str, column: str, args: str) -> sa.TableClause:
    return sa.table(
        name,
        sa.column("id", sa.Integer()),
        sa.column(column, sa.Text()),
        sa.column(args, sa.JSON()),
    )


def _rewrite(conn: Connection, name: str, column: str, args: str, change: Change) -> None:
    """Every row's value through `change` ((value, args) -> (value, args) or None: keep)."""
    table = _table(name, column, args)
    rows = conn.execute(
        sa.select(table.c.id, table.c[column], table.c[args]).where(table.c[column].is_not(None))
    ).all()
    updates = []
    for row_id, value, found_args in rows:
        changed = change(value, found_args)
        if changed is not None:
            updates.append({"row_id": row_id, "value": changed[0], "args": changed[1]})
    if updates:
        conn.execute(
            sa.update(table)
            .where(table.c.id == sa.bindparam("row_id"))
            .values({column: sa.bindparam("value"), args: sa.bindparam("args", type_=sa.JSON())}),
            updates,
        )


def upgrade() -> None:
    for name, column in NEW_COLUMNS:
        op.add_column(name, sa.Column(column, sa.JSON(), nullable=True))
    conn = op.get_bind()
    for name, column, args, known in COLUMNS:

        def forward(value: str, _args: dict | None, known: list = known) -> tuple | None:
            return _code(value, known)

        _rewrite(conn, name, column, args, forward)


def downgrade() -> None:
    conn = op.get_bind()
    for name, column, args, known in COLUMNS:

        def back(value: str, found: dict | None, known: list = known) -> tuple | None:
            text = _text(value, found, known)
            return None if text is None else (text, None)

        _rewrite(conn, name, column, args, back)
    for name, column in NEW_COLUMNS[::-1]:
        with op.batch_alter_table(name) as batch:
            batch.drop_column(column)
