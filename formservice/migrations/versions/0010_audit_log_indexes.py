"""indexes for reading the audit log and finding a child's records

Revision ID: 0010
Revises: 0006
Create Date: 2026-12-10 08:00:00

The log follow-up (/admin/granskningslogg) filters the audit log by person (actor, user_id),
by object (a deviation and what belongs to it, a SIP meeting, a BUS-individ record) and by
event, each newest first, and the GDPR extract (/admin/registerutdrag) finds SIP meetings by
the child's personnummer. On PostgreSQL the indexes are built CONCURRENTLY, outside the
migration's transaction: every page view writes to audit_events, and a plain CREATE INDEX
would hold those writes back for as long as the build of a large log takes.
"""

from alembic import op

revision = "0010"
down_revision = "0006"
branch_labels = None
depends_on = None

INDEXES = [
    ("ix_audit_events_actor_at", "audit_events", ["actor", "at"]),
    ("ix_audit_events_user_id_at", "audit_events", ["user_id", "at"]),
    ("ix_audit_events_object_at", "audit_events", ["object_type", "object_id", "at"]),
    ("ix_audit_events_action_at", "audit_events", ["action", "at"]),
    ("ix_sip_meetings_child_personnummer", "sip_meetings", ["child_personnummer"]),
]


def _postgresql() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def upgrade() -> None:
    if _postgresql():
        with op.get_context().autocommit_block():
            for name, table, columns in INDEXES:
                op.create_index(
                    name, table, columns, postgresql_concurrently=True, if_not_exists=True
                )
        return
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns)


def downgrade() -> None:
    for name, table, _ in reversed(INDEXES):
        op.drop_index(name, table_name=table)
