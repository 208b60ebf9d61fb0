"""chef A's feedback on the answer and chef B's supplementary answer

Revision ID: 0015
Revises: 0008
Create Date: 2026-12-03 11:00:00

`answer_feedback` ("Återkoppling på svaret", one per report: the verdict's code, the
motivation, the supplement's deadline and its reminders) and `answer_supplements`
("Kompletterande svar", one per report).
"""

import sqlalchemy as sa
from alembic import op

import formservice.models._types

revision = "0015"
down_revision = "0008"
branch_labels = None
depends_on = None


def _moment(name: str, nullable: bool = True) -> sa.Column:
    return sa.Column(name, formservice.models._types.UTCDateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "answer_feedback",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("deviation_id", sa.Integer(), nullable=False),
        sa.Column("verdict", sa.String(length=20), nullable=False),
        sa.Column("motivation", sa.Text(), nullable=False),
        sa.Column("given_by_email", sa.String(length=254), nullable=False),
        _moment("created_at", nullable=False),
        sa.Column("supplement_deadline", sa.Date(), nullable=True),
        _moment("reminded_before_at"),
        _moment("reminded_due_at"),
        sa.ForeignKeyConstraint(
            ["deviation_id"],
            ["deviations.id"],
            name=op.f("fk_answer_feedback_deviation_id_deviations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_answer_feedback")),
        sa.UniqueConstraint("deviation_id", name=op.f("uq_answer_feedback_deviation_id")),
    )
    op.create_table(
        "answer_supplements",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("deviation_id", sa.Integer(), nullable=False),
        sa.Column("responder_name", sa.String(length=200), nullable=False),
        sa.Column("responder_email", sa.String(length=254), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        _moment("created_at", nullable=False),
        sa.ForeignKeyConstraint(
            ["deviation_id"],
            ["deviations.id"],
            name=op.f("fk_answer_supplements_deviation_id_deviations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_answer_supplements")),
        sa.UniqueConstraint("deviation_id", name=op.f("uq_answer_supplements_deviation_id")),
    )


def downgrade() -> None:
    op.drop_table("answer_supplements")
    op.drop_table("answer_feedback")
