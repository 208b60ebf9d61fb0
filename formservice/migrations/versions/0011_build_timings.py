"""build timings: how long each digest and record document took in the worker

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-10 09:00:00

One row per finished build (kind, seconds, when), read at scrape time by the build-duration
histograms of /metrics, so they count every worker on every host.
"""

import sqlalchemy as sa
from alembic import op

import formservice.models._types

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "build_timings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("seconds", sa.Float(), nullable=False),
        sa.Column(
            "finished_at", formservice.models._types.UTCDateTime(timezone=True), nullable=False
        ),
        sa.PrimaryKeyConstraint("id"),
    )


def downgrade() -> None:
    op.drop_table("build_timings")
