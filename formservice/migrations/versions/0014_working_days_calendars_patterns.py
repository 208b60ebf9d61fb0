"""answer time in working days

Revision ID: 0014
Revises: 0008
Create Date: 2026-12-03 11:00:00

`bus_groups.answer_day_kind` ("Svarstid räknas i": `kalenderdagar` or `arbetsdagar`, default
`kalenderdagar`) decides how a group's answer time, its reminders and "besvarad i tid" count.
"""

import sqlalchemy as sa
from alembic import op

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


def downgrade() -> None:
    with op.batch_alter_table("bus_groups") as batch:
        batch.drop_column("answer_day_kind")
