"""answer time in working days; calendar files of meetings

Revision ID: 0014
Revises: 0008
Create Date: 2026-12-03 11:00:00

`bus_groups.answer_day_kind` ("Svarstid räknas i": `kalenderdagar` or `arbetsdagar`, default
`kalenderdagar`) decides how a group's answer time, its reminders and "besvarad i tid" count.

SIP meetings and steering-group meetings get `calendar_sequence` (the .ics SEQUENCE) and
`cancelled_at` ("Ställ in mötet"); a steering-group meeting gets an optional `start_time`.
"""

import sqlalchemy as sa
from alembic import op

from formservice.models._types import UTCDateTime

revision = "0014"
down_revision = "0008"
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


def _sequence() -> sa.Column:
    return sa.Column("calendar_sequence", sa.Integer(), nullable=False, server_default="0")


def _cancelled() -> sa.Column:
    return sa.Column("cancelled_at", UTCDateTime(timezone=True), nullable=True)


def downgrade() -> None:
    with op.batch_alter_table("group_meetings") as batch:
        batch.drop_column("cancelled_at")
        batch.drop_column("calendar_sequence")
        batch.drop_column("start_time")
    with op.batch_alter_table("sip_meetings") as batch:
        batch.drop_column("cancelled_at")
        batch.drop_column("calendar_sequence")
    with op.batch_alter_table("bus_groups") as batch:
        batch.drop_column("answer_day_kind")
