"""statistics: a fact row per consultation, daily and monthly roll-ups, quality grades,
certificates of work, the quality-inspector duty, and a ticket revision after a failed grade

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import desk.db

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "stats_daily",
        sa.Column("day", sa.String(length=10), nullable=False),
        sa.Column("dim", sa.String(length=16), nullable=False),
        sa.Column("key", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("consultations", sa.Integer(), nullable=False),
        sa.Column("served", sa.Integer(), nullable=False),
        sa.Column("abandoned", sa.Integer(), nullable=False),
        sa.Column("handed_off", sa.Integer(), nullable=False),
        sa.Column("transferred", sa.Integer(), nullable=False),
        sa.Column("overflow", sa.Integer(), nullable=False),
        sa.Column("documents", sa.Integer(), nullable=False),
        sa.Column("tickets_answered", sa.Integer(), nullable=False),
        sa.Column("reader_messages", sa.Integer(), nullable=False),
        sa.Column("consultant_messages", sa.Integer(), nullable=False),
        sa.Column("satisfied", sa.Integer(), nullable=False),
        sa.Column("unsatisfied", sa.Integer(), nullable=False),
        sa.Column("excellent", sa.Integer(), nullable=False),
        sa.Column("passed", sa.Integer(), nullable=False),
        sa.Column("failed", sa.Integer(), nullable=False),
        sa.Column("durations", sa.Integer(), nullable=False),
        sa.Column("duration_sum", sa.Double(), nullable=False),
        sa.Column("waits", sa.JSON(), nullable=False),
        sa.Column("replies", sa.JSON(), nullable=False),
        sa.Column("wait_max", sa.Double(), nullable=False),
        sa.Column("reply_max", sa.Double(), nullable=False),
        sa.PrimaryKeyConstraint("day", "dim", "key", name=op.f("pk_stats_daily")),
    )
    op.create_table(
        "stats_dirty_days",
        sa.Column("day", sa.String(length=10), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("day", name=op.f("pk_stats_dirty_days")),
    )
    op.create_table(
        "stats_monthly",
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("dim", sa.String(length=16), nullable=False),
        sa.Column("key", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("consultations", sa.Integer(), nullable=False),
        sa.Column("served", sa.Integer(), nullable=False),
        sa.Column("abandoned", sa.Integer(), nullable=False),
        sa.Column("handed_off", sa.Integer(), nullable=False),
        sa.Column("transferred", sa.Integer(), nullable=False),
        sa.Column("overflow", sa.Integer(), nullable=False),
        sa.Column("documents", sa.Integer(), nullable=False),
        sa.Column("tickets_answered", sa.Integer(), nullable=False),
        sa.Column("reader_messages", sa.Integer(), nullable=False),
        sa.Column("consultant_messages", sa.Integer(), nullable=False),
        sa.Column("satisfied", sa.Integer(), nullable=False),
        sa.Column("unsatisfied", sa.Integer(), nullable=False),
        sa.Column("excellent", sa.Integer(), nullable=False),
        sa.Column("passed", sa.Integer(), nullable=False),
        sa.Column("failed", sa.Integer(), nullable=False),
        sa.Column("durations", sa.Integer(), nullable=False),
        sa.Column("duration_sum", sa.Double(), nullable=False),
        sa.Column("waits", sa.JSON(), nullable=False),
        sa.Column("replies", sa.JSON(), nullable=False),
        sa.Column("wait_max", sa.Double(), nullable=False),
        sa.Column("reply_max", sa.Double(), nullable=False),
        sa.PrimaryKeyConstraint("month", "dim", "key", name=op.f("pk_stats_monthly")),
    )
    op.create_table(
        "certificates",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("subject", sa.String(length=16), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("period_from", sa.String(length=10), nullable=False),
        sa.Column("period_to", sa.String(length=10), nullable=False),
        sa.Column("figures", sa.JSON(), nullable=False),
        sa.Column("issued_by", sa.Integer(), nullable=True),
        sa.Column("issued_at", desk.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", desk.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["issued_by"], ["consultants.id"], name=op.f("fk_certificates_issued_by_consultants")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_certificates")),
        sa.UniqueConstraint("code", name=op.f("uq_certificates_code")),
    )
    op.create_table(
        "grades",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("target", sa.String(length=16), nullable=False),
        sa.Column("target_id", sa.Integer(), nullable=False),
        sa.Column("consultant_id", sa.Integer(), nullable=True),
        sa.Column("library_id", sa.Integer(), nullable=True),
        sa.Column("day", sa.String(length=10), nullable=False),
        sa.Column("grade", sa.String(length=16), nullable=False),
        sa.Column("criteria", sa.JSON(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("inspector_id", sa.Integer(), nullable=True),
        sa.Column("created_at", desk.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("revised_at", desk.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("current", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["consultant_id"], ["consultants.id"], name=op.f("fk_grades_consultant_id_consultants")
        ),
        sa.ForeignKeyConstraint(
            ["inspector_id"], ["consultants.id"], name=op.f("fk_grades_inspector_id_consultants")
        ),
        sa.ForeignKeyConstraint(
            ["library_id"], ["libraries.id"], name=op.f("fk_grades_library_id_libraries")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_grades")),
    )
    with op.batch_alter_table("grades", schema=None) as batch_op:
        batch_op.create_index("ix_grades_consultant", ["consultant_id", "created_at"], unique=False)
        batch_op.create_index("ix_grades_target", ["target", "target_id"], unique=False)

    op.create_table(
        "consultation_facts",
        sa.Column("consultation_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("day", sa.String(length=10), nullable=False),
        sa.Column("library_id", sa.Integer(), nullable=False),
        sa.Column("language", sa.String(length=16), nullable=False),
        sa.Column("opened_at", desk.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("first_assigned_at", desk.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("wait_seconds", sa.Double(), nullable=True),
        sa.Column("first_reply_seconds", sa.Double(), nullable=True),
        sa.Column("consultant_id", sa.Integer(), nullable=True),
        sa.Column("serving_library_id", sa.Integer(), nullable=True),
        sa.Column("overflow", sa.Boolean(), nullable=False),
        sa.Column("transfers", sa.Integer(), nullable=False),
        sa.Column("ended_at", desk.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=True),
        sa.Column("duration_seconds", sa.Double(), nullable=True),
        sa.Column("reader_messages", sa.Integer(), nullable=False),
        sa.Column("consultant_messages", sa.Integer(), nullable=False),
        sa.Column("documents", sa.Integer(), nullable=False),
        sa.Column("rating", sa.Integer(), nullable=True),
        sa.Column("rating_comment", sa.Text(), nullable=False),
        sa.Column("grade", sa.String(length=16), nullable=True),
        sa.ForeignKeyConstraint(
            ["consultant_id"],
            ["consultants.id"],
            name=op.f("fk_consultation_facts_consultant_id_consultants"),
        ),
        sa.ForeignKeyConstraint(
            ["consultation_id"],
            ["consultations.id"],
            name=op.f("fk_consultation_facts_consultation_id_consultations"),
        ),
        sa.ForeignKeyConstraint(
            ["library_id"],
            ["libraries.id"],
            name=op.f("fk_consultation_facts_library_id_libraries"),
        ),
        sa.ForeignKeyConstraint(
            ["serving_library_id"],
            ["libraries.id"],
            name=op.f("fk_consultation_facts_serving_library_id_libraries"),
        ),
        sa.PrimaryKeyConstraint("consultation_id", name=op.f("pk_consultation_facts")),
    )
    with op.batch_alter_table("consultation_facts", schema=None) as batch_op:
        batch_op.create_index(
            "ix_consultation_facts_consultant_day", ["consultant_id", "day"], unique=False
        )
        batch_op.create_index("ix_consultation_facts_day", ["day"], unique=False)

    with op.batch_alter_table("consultants", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("inspector", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.create_index("ix_tickets_answered_at", ["answered_at"], unique=False)
    with op.batch_alter_table("grades", schema=None) as batch_op:
        batch_op.create_index("ix_grades_day", ["day"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.drop_index("ix_tickets_answered_at")
    with op.batch_alter_table("consultants", schema=None) as batch_op:
        batch_op.drop_column("inspector")

    with op.batch_alter_table("consultation_facts", schema=None) as batch_op:
        batch_op.drop_index("ix_consultation_facts_day")
        batch_op.drop_index("ix_consultation_facts_consultant_day")

    op.drop_table("consultation_facts")
    with op.batch_alter_table("grades", schema=None) as batch_op:
        batch_op.drop_index("ix_grades_day")
        batch_op.drop_index("ix_grades_target")
        batch_op.drop_index("ix_grades_consultant")

    op.drop_table("grades")
    op.drop_table("certificates")
    op.drop_table("stats_monthly")
    op.drop_table("stats_dirty_days")
    op.drop_table("stats_daily")
