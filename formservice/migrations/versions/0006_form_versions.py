"""versions of the deviation form; reports keep category codes

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03 08:00:00

`form_versions` holds each version of the form's categories as [{code, label}]; version 1 is
the default list of SPEC §3. Existing reports' categories change from labels to codes (a label
found that is not on the default list is kept on version 1 under a code of its own, so every
report still renders as filed). The downgrade turns codes back into labels.
"""

import re
import unicodedata
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op
from sqlalchemy.engine import Connection

import formservice.models._types

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

#: Version 1, as it was when this revision was written (not imported: the app's list may
#: change later, this migration must not).
VERSION_1 = [
    ("overenskommelsen-foljs-inte", "Överenskommelsen följs inte"),
    ("kallad-part-deltog-inte-i-sip-mote", "Kallad part deltog inte i SIP-möte"),
    ("overenskommen-insats-i-sip-utfors-inte", "Överenskommen insats i SIP utförs inte"),
    ("oenighet-om-ansvar-eller-huvudmannaskap", "Oenighet om ansvar eller huvudmannaskap"),
    (
        "remiss-eller-forfragan-obesvarad-eller-avvisad",
        "Remiss eller förfrågan obesvarad eller avvisad",
    ),
    ("brister-i-information-och-kommunikation", "Brister i information och kommunikation"),
    ("vantetid-eller-tillganglighet", "Väntetid eller tillgänglighet"),
    ("ovrigt", "Övrigt"),
]

deviations = sa.table(
    "deviations",
    sa.column("id", sa.Integer()),
    sa.column("categories", sa.JSON()),
    sa.column("form_version", sa.Integer()),
)
form_versions = sa.table(
    "form_versions",
    sa.column("version", sa.Integer()),
    sa.column("created_at", formservice.models._types.UTCDateTime(timezone=True)),
    sa.column("categories", sa.JSON()),
)


def _slug(label: str, taken: set[str]) -> str:
    text = unicodedata.normalize("NFKD", label).encode("ascii", "ignore").decode()
    base = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:60] or "kategori"
    code, n = base, 1
    while code in taken:
        n += 1
        code = f"{base}-{n}"
    return code


def _rewrite(conn: Connection, mapping: dict[str, str]) -> None:
    """Every report's categories through `mapping`, on version 1 (one executemany)."""
    rows = conn.execute(sa.select(deviations.c.id, deviations.c.categories)).all()
    if not rows:
        return
    conn.execute(
        sa.update(deviations)
        .where(deviations.c.id == sa.bindparam("row_id"))
        .values(categories=sa.bindparam("new", type_=sa.JSON()), form_version=1),
        [
            {"row_id": row_id, "new": [mapping.get(c, c) for c in categories or []]}
            for row_id, categories in rows
        ],
    )


def upgrade() -> None:
    op.create_table(
        "form_versions",
        sa.Column("version", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column(
            "created_at", formservice.models._types.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column("categories", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("version", name=op.f("pk_form_versions")),
    )
    conn = op.get_bind()
    codes = {label: code for code, label in VERSION_1}
    categories = [{"code": code, "label": label} for code, label in VERSION_1]
    for (found,) in conn.execute(sa.select(deviations.c.categories)):
        for label in found or []:
            if label not in codes:  # filed under a label not on the default list: kept
                codes[label] = _slug(label, set(codes.values()))
                categories.append({"code": codes[label], "label": label})
    conn.execute(
        form_versions.insert().values(
            version=1, created_at=datetime.now(UTC), categories=categories
        )
    )
    _rewrite(conn, codes)


def downgrade() -> None:
    conn = op.get_bind()
    labels: dict[str, str] = {}
    query = sa.select(form_versions.c.categories).order_by(form_versions.c.version.desc())
    for (categories,) in conn.execute(query):
        for category in categories:
            labels.setdefault(category["code"], category["label"])  # the newest label
    _rewrite(conn, labels)
    op.drop_table("form_versions")
