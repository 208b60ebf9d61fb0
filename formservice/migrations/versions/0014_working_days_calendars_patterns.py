"""answer time in working days; calendar files of meetings; recurring deviations

Revision ID: 0014
Revises: 0015
Create Date: 2026-12-03 11:00:00

`bus_groups.answer_day_kind` ("Svarstid räknas i": `kalenderdagar` or `arbetsdagar`, default
`kalenderdagar`) decides how a group's answer time, its reminders and "besvarad i tid" count.

SIP meetings and steering-group meetings get `calendar_sequence` (the .ics SEQUENCE) and
`cancelled_at` ("Ställ in mötet"); a steering-group meeting gets an optional `start_time`.

`pattern_notices` remembers each recurring pattern of deviations told to a group, with the
cases it held, so it is told again only when it grows.
"""

import sqlalchemy as sa
from alembic import op

from formservice.models._types import UTCDateTime

revision = "0014"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("bus_groups") as batch:
        batch.add_column(
            sa.Column(
                "answer_day_kind",
                sa.String(20),
                nullable=False,
                server_default="kalenderdagar",
            )
        )
    with op.batch_alter_table("sip_meetings") as batch:
        batch.add_column(_sequence())
        batch.add_column(_cancelled())
    with op.batch_alter_table("group_meetings") as batch:
        batch.add_column(sa.Column("start_time", sa.Time(), nullable=True))
        batch.add_column(_sequence())
        batch.add_column(_cancelled())
    op.create_table(
        "pattern_notices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.String(80), nullable=False),
        sa.Column("receiving_unit_id", sa.String(80), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column("case_ids", sa.JSON(), nullable=False),
        sa.Column("notified_at", UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["group_id"], ["bus_groups.id"], name=op.f("fk_pattern_notices_group_id_bus_groups")
        ),
        sa.ForeignKeyConstraint(
            ["receiving_unit_id"],
            ["units.id"],
            name=op.f("fk_pattern_notices_receiving_unit_id_units"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pattern_notices")),
        sa.UniqueConstraint(
            "group_id", "receiving_unit_id", "kind", "key", name=op.f("uq_pattern_notices_group_id")
        ),
    )


def _sequence() -> sa.Column:
    return sa.Column("calendar_sequence", sa.Integer(), nullable=False, server_default="0")


def _cancelled() -> sa.Column:
    return sa.Column("cancelled_at", UTCDateTime(timezone=True), nullable=True)


def downgrade() -> None:
    op.drop_table("pattern_notices")
    with op.batch_alter_table("group_meetings") as batch:
        batch.drop_column("cancelled_at")
        batch.drop_column("calendar_sequence")
        batch.drop_column("start_time")
    with op.batch_alter_table("sip_meetings") as batch:
        batch.drop_column("cancelled_at")
        batch.drop_column("calendar_sequence")
    with op.batch_alter_table("bus_groups") as batch:
        batch.drop_column("answer_day_kind")
