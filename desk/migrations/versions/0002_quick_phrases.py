"""quick phrases, with the alliance's defaults for every existing library

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import desk.db
from desk.phrases import default_rows

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    phrases = op.create_table(
        "quick_phrases",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("library_id", sa.Integer(), nullable=False),
        sa.Column("consultant_id", sa.Integer(), nullable=True),
        sa.Column("shortcut", sa.String(length=32), nullable=False),
        sa.Column("title", sa.String(length=100), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("language", sa.String(length=16), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("created_at", desk.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", desk.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["consultant_id"],
            ["consultants.id"],
            name=op.f("fk_quick_phrases_consultant_id_consultants"),
        ),
        sa.ForeignKeyConstraint(
            ["library_id"], ["libraries.id"], name=op.f("fk_quick_phrases_library_id_libraries")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quick_phrases")),
    )
    op.create_index(
        "ix_quick_phrases_owner", "quick_phrases", ["library_id", "consultant_id"], unique=False
    )
    library_ids = [row[0] for row in op.get_bind().execute(sa.text("SELECT id FROM libraries"))]
    rows = [row for lib in library_ids for row in default_rows(lib)]
    if rows:
        op.bulk_insert(phrases, rows)


def downgrade() -> None:
    op.drop_index("ix_quick_phrases_owner", table_name="quick_phrases")
    op.drop_table("quick_phrases")
