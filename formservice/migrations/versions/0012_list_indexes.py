"""indexes for the paginated lists

Revision ID: 0012
Revises: 0017
Create Date: 2026-12-03 11:00:00

The long lists (services/lists.py) read a page of 50 in the order of their sort: each sort
column gets an index ending in the id, so the database walks the index in order and stops
after the page instead of sorting every row the user may see (docs/performance.md).
"""

from alembic import op

revision = "0012"
down_revision = "0017"
branch_labels = None
depends_on = None

INDEXES = (
    ("ix_deviations_sent_at_id", "deviations", ["sent_at", "id"]),
    ("ix_deviations_deadline_id", "deviations", ["deadline", "id"]),
    ("ix_deviations_group_sent_at_id", "deviations", ["group_id", "sent_at", "id"]),
    (
        "ix_deviations_to_answer",
        "deviations",
        ["receiving_unit_id", "state", "deadline", "id"],
    ),
    ("ix_sip_called_units_unit_id", "sip_called_units", ["unit_id"]),
    ("ix_sip_meetings_initiator_meeting_at", "sip_meetings", ["initiator_unit_id", "meeting_at"]),
    ("ix_group_meetings_group_date", "group_meetings", ["group_id", "meeting_date", "id"]),
)


def upgrade() -> None:
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns, unique=False)


def downgrade() -> None:
    for name, table, _ in reversed(INDEXES):
        op.drop_index(name, table_name=table)
