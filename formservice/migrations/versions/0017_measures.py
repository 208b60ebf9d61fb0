"""decided measures followed up: one row per "Beslutade åtgärder" row of a closing

Revision ID: 0017
Revises: 0014
Create Date: 2026-12-03 11:00:00

Each measure of a closing becomes a row of `measures` with a state (`oppen`, `genomford`),
its reminder flags and the report of it done. The closings made before are carried over:
their measures become open rows; a measure whose date has passed counts as reminded, so the
first reminder run after the upgrade sends no late reminders.
"""

from datetime import UTC, date, datetime

import sqlalchemy as sa
from alembic import op

import formservice.models._types

revision = "0017"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    moment = formservice.models._types.UTCDateTime(timezone=True)
    op.create_table(
        "measures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("closing_id", sa.Integer(), nullable=False),
        sa.Column("deviation_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("action", sa.Text(), nullable=False),
        sa.Column("unit_id", sa.String(length=80), nullable=False),
        sa.Column("due", sa.Date(), nullable=True),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("created_at", moment, nullable=False),
        sa.Column("reminded_before_at", moment, nullable=True),
        sa.Column("reminded_due_at", moment, nullable=True),
        sa.Column("done_at", moment, nullable=True),
        sa.Column("done_by", sa.String(length=254), nullable=True),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["closing_id"], ["deviation_closings.id"]),
        sa.ForeignKeyConstraint(["deviation_id"], ["deviations.id"]),
        sa.ForeignKeyConstraint(["unit_id"], ["units.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_measures_closing_id", "measures", ["closing_id"])
    op.create_index("ix_measures_deviation_id", "measures", ["deviation_id"])
    op.create_index("ix_measures_unit_id", "measures", ["unit_id"])
    op.create_index("ix_measures_state_due", "measures", ["state", "due"])
    _carry_over(moment)


def _carry_over(moment: sa.types.TypeEngine) -> None:
    """The measures of the closings made before this revision, as open rows."""
    closings = sa.table(
        "deviation_closings",
        sa.column("id", sa.Integer()),
        sa.column("deviation_id", sa.Integer()),
        sa.column("measures", sa.JSON()),
        sa.column("closed_at", moment),
    )
    measures = sa.table(
        "measures",
        *(sa.column(name) for name in ("closing_id", "deviation_id", "position", "action")),
        *(sa.column(name) for name in ("unit_id", "state", "comment")),
        sa.column("due", sa.Date()),
        sa.column("created_at", moment),
        sa.column("reminded_before_at", moment),
        sa.column("reminded_due_at", moment),
    )
    now = datetime.now(UTC)
    rows = []
    for closing in op.get_bind().execute(sa.select(closings)).mappings():
        for position, item in enumerate(closing["measures"] or [], start=1):
            if not item.get("unit_id"):
                continue
            due = date.fromisoformat(item["due"]) if item.get("due") else None
            past = due is not None and due < now.date()
            rows.append(
                {
                    "closing_id": closing["id"],
                    "deviation_id": closing["deviation_id"],
                    "position": position,
                    "action": item.get("action") or "",
                    "unit_id": item["unit_id"],
                    "state": "oppen",
                    "comment": "",
                    "due": due,
                    "created_at": closing["closed_at"] or now,
                    "reminded_before_at": now if past else None,
                    "reminded_due_at": now if past else None,
                }
            )
    if rows:
        op.bulk_insert(measures, rows)


def downgrade() -> None:
    op.drop_table("measures")
