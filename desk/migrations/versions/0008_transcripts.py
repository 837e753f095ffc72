"""transcripts: search documents and their full-text index, the audit log, typical cases,
and the consultations' anonymisation mark

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import desk.db
from transcripts import search

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

_TS = desk.db.UTCDateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("consultations") as batch:
        batch.add_column(sa.Column("anonymised_at", _TS, nullable=True))
    op.create_table(
        "transcript_docs",
        sa.Column("consultation_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("library_id", sa.Integer(), nullable=False),
        sa.Column("serving_library_id", sa.Integer(), nullable=True),
        sa.Column("consultant_id", sa.Integer(), nullable=True),
        sa.Column("language", sa.String(length=16), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("ended_at", _TS, nullable=True),
        sa.Column("messages", sa.Integer(), nullable=False),
        sa.Column("rating", sa.Integer(), nullable=True),
        sa.Column("tags", sa.JSON(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("has_personal_data", sa.Boolean(), nullable=False),
        sa.Column("indexed_at", _TS, nullable=False),
        sa.ForeignKeyConstraint(
            ["consultation_id"],
            ["consultations.id"],
            name=op.f("fk_transcript_docs_consultation_id_consultations"),
        ),
        sa.ForeignKeyConstraint(
            ["library_id"], ["libraries.id"], name=op.f("fk_transcript_docs_library_id_libraries")
        ),
        sa.ForeignKeyConstraint(
            ["serving_library_id"],
            ["libraries.id"],
            name=op.f("fk_transcript_docs_serving_library_id_libraries"),
        ),
        sa.ForeignKeyConstraint(
            ["consultant_id"],
            ["consultants.id"],
            name=op.f("fk_transcript_docs_consultant_id_consultants"),
        ),
        sa.PrimaryKeyConstraint("consultation_id", name=op.f("pk_transcript_docs")),
    )
    with op.batch_alter_table("transcript_docs") as batch:
        batch.create_index("ix_transcript_docs_library_ended", ["library_id", "ended_at"])
        batch.create_index("ix_transcript_docs_serving_ended", ["serving_library_id", "ended_at"])
        batch.create_index("ix_transcript_docs_consultant_ended", ["consultant_id", "ended_at"])
        batch.create_index("ix_transcript_docs_ended", ["ended_at"])
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", _TS, nullable=False),
        sa.Column("consultant_id", sa.Integer(), nullable=True),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("consultation_id", sa.Integer(), nullable=True),
        sa.Column("library_id", sa.Integer(), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["consultant_id"],
            ["consultants.id"],
            name=op.f("fk_audit_log_consultant_id_consultants"),
        ),
        sa.ForeignKeyConstraint(
            ["library_id"], ["libraries.id"], name=op.f("fk_audit_log_library_id_libraries")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    with op.batch_alter_table("audit_log") as batch:
        batch.create_index("ix_audit_log_at", ["at"])
        batch.create_index("ix_audit_log_consultation", ["consultation_id"])
        batch.create_index("ix_audit_log_consultant_at", ["consultant_id", "at"])
    op.create_table(
        "typical_cases",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("consultation_id", sa.Integer(), nullable=True),
        sa.Column("library_id", sa.Integer(), nullable=False),
        sa.Column("language", sa.String(length=16), nullable=False),
        sa.Column("category", sa.String(length=64), nullable=False),
        sa.Column("tags", sa.JSON(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("question", sa.Text(), nullable=False),
        sa.Column("answer", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("updated_by", sa.Integer(), nullable=True),
        sa.Column("updated_at", _TS, nullable=False),
        sa.Column("published_by", sa.Integer(), nullable=True),
        sa.Column("published_at", _TS, nullable=True),
        sa.Column("kb_entry_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["consultation_id"],
            ["consultations.id"],
            name=op.f("fk_typical_cases_consultation_id_consultations"),
        ),
        sa.ForeignKeyConstraint(
            ["library_id"], ["libraries.id"], name=op.f("fk_typical_cases_library_id_libraries")
        ),
        sa.ForeignKeyConstraint(
            ["created_by"], ["consultants.id"], name=op.f("fk_typical_cases_created_by_consultants")
        ),
        sa.ForeignKeyConstraint(
            ["updated_by"], ["consultants.id"], name=op.f("fk_typical_cases_updated_by_consultants")
        ),
        sa.ForeignKeyConstraint(
            ["published_by"],
            ["consultants.id"],
            name=op.f("fk_typical_cases_published_by_consultants"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_typical_cases")),
    )
    with op.batch_alter_table("typical_cases") as batch:
        batch.create_index("ix_typical_cases_state_library", ["state", "library_id"])
    ddl = search.SQLITE_DDL if op.get_bind().dialect.name == "sqlite" else search.POSTGRES_DDL
    for statement in ddl:
        op.execute(statement)


def downgrade() -> None:
    drop = search.SQLITE_DROP if op.get_bind().dialect.name == "sqlite" else search.POSTGRES_DROP
    for statement in drop:
        op.execute(statement)
    op.drop_table("typical_cases")
    op.drop_table("audit_log")
    op.drop_table("transcript_docs")
    with op.batch_alter_table("consultations") as batch:
        batch.drop_column("anonymised_at")
