"""bots: per-library settings, their texts, and what the waiting bot last told each reader

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import desk.db

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("libraries") as batch:
        batch.add_column(sa.Column("bot_settings", sa.JSON(), nullable=False, server_default="{}"))
    op.create_table(
        "bot_texts",
        sa.Column("library_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=32), nullable=False),
        sa.Column("language", sa.String(length=16), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("updated_by", sa.Integer(), nullable=True),
        sa.Column("updated_at", desk.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["library_id"], ["libraries.id"], name=op.f("fk_bot_texts_library_id_libraries")
        ),
        sa.ForeignKeyConstraint(
            ["updated_by"], ["consultants.id"], name=op.f("fk_bot_texts_updated_by_consultants")
        ),
        sa.PrimaryKeyConstraint("library_id", "key", "language", name=op.f("pk_bot_texts")),
    )
    op.create_table(
        "bot_marks",
        sa.Column("consultation_id", sa.Integer(), nullable=False),
        sa.Column("told_at", desk.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("position", sa.Integer(), nullable=True),
        sa.Column("minutes", sa.Integer(), nullable=True),
        sa.Column("offered_form", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["consultation_id"],
            ["consultations.id"],
            name=op.f("fk_bot_marks_consultation_id_consultations"),
        ),
        sa.PrimaryKeyConstraint("consultation_id", name=op.f("pk_bot_marks")),
    )


def downgrade() -> None:
    op.drop_table("bot_marks")
    op.drop_table("bot_texts")
    with op.batch_alter_table("libraries") as batch:
        batch.drop_column("bot_settings")
