"""the FAQ bot's knowledge base, with the alliance's default entries

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import desk.db
from bots.kb_defaults import default_rows

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_TS = desk.db.UTCDateTime(timezone=True)


def upgrade() -> None:
    entries = op.create_table(
        "kb_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("library_id", sa.Integer(), nullable=True),
        sa.Column("language", sa.String(length=16), nullable=False),
        sa.Column("question", sa.String(length=500), nullable=False),
        sa.Column("answer", sa.Text(), nullable=False),
        sa.Column("keywords", sa.Text(), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("source_ref", sa.Integer(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("updated_at", _TS, nullable=False),
        sa.Column("updated_by", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["library_id"], ["libraries.id"], name=op.f("fk_kb_entries_library_id_libraries")
        ),
        sa.ForeignKeyConstraint(
            ["updated_by"], ["consultants.id"], name=op.f("fk_kb_entries_updated_by_consultants")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kb_entries")),
    )
    op.create_index(
        "ix_kb_entries_library_language", "kb_entries", ["library_id", "language"], unique=False
    )
    op.bulk_insert(entries, default_rows(desk.db.utcnow()))


def downgrade() -> None:
    op.drop_index("ix_kb_entries_library_language", table_name="kb_entries")
    op.drop_table("kb_entries")
