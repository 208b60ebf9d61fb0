"""login limits in Redis: the per-account lockout columns go

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 12:00:00

Failed logins are counted in Redis per client address and per e-mail address, existing or
not (formservice/ratelimit.py); the database lockout only ever locked existing accounts,
which told a stranger which addresses had one.
"""

import sqlalchemy as sa
from alembic import op

import formservice.models._types

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.drop_column("locked_until")
        batch.drop_column("failed_logins")


def downgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(
            sa.Column("failed_logins", sa.Integer(), nullable=False, server_default="0")
        )
        batch.add_column(
            sa.Column(
                "locked_until",
                formservice.models._types.UTCDateTime(timezone=True),
                nullable=True,
            )
        )
