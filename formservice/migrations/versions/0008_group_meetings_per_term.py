"""a steering group's meeting rhythm is a setting of the group

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-10 09:00:00

`bus_groups.meetings_per_term` ("Möten per termin", default 2) replaces the constant the
meeting list's suggestions used; the administrator sets it under "BUS-grupper". A huvudman
imported with the type spelled "fristående" gets the code the admin pages use, "fristaende"
(the import now stores that spelling too); the downgrade leaves the code as it is.
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("bus_groups") as batch:
        batch.add_column(
            sa.Column("meetings_per_term", sa.Integer(), nullable=False, server_default="2")
        )
    huvudman = sa.table("huvudman", sa.column("type", sa.String()))
    op.execute(huvudman.update().where(huvudman.c.type == "fristående").values(type="fristaende"))


def downgrade() -> None:
    with op.batch_alter_table("bus_groups") as batch:
        batch.drop_column("meetings_per_term")
