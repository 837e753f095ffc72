"""the delivery ledger, attachments on messages, and each library's file limits

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import desk.db

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

_TS = desk.db.UTCDateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("libraries") as batch:
        batch.add_column(sa.Column("file_limits", sa.JSON(), nullable=False, server_default="{}"))
    with op.batch_alter_table("messages") as batch:
        batch.add_column(sa.Column("attachment", sa.JSON(), nullable=True))
    op.create_table(
        "delivery_ledger",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("consultation_id", sa.Integer(), nullable=True),
        sa.Column("seq", sa.Integer(), nullable=True),
        sa.Column("ticket_id", sa.Integer(), nullable=True),
        sa.Column("direction", sa.String(length=16), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("consultant_id", sa.Integer(), nullable=True),
        sa.Column("serving_library_id", sa.Integer(), nullable=True),
        sa.Column("origin_library_id", sa.Integer(), nullable=False),
        sa.Column("reader_id", sa.Integer(), nullable=True),
        sa.Column("file_name", sa.String(length=255), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("content_type", sa.String(length=100), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("title", sa.String(length=500), nullable=False),
        sa.Column("authors", sa.String(length=500), nullable=False),
        sa.Column("source", sa.String(length=500), nullable=False),
        sa.Column("year", sa.Integer(), nullable=True),
        sa.Column("doc_type", sa.String(length=32), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("file_purged_at", _TS, nullable=True),
        sa.ForeignKeyConstraint(
            ["consultation_id"],
            ["consultations.id"],
            name=op.f("fk_delivery_ledger_consultation_id_consultations"),
        ),
        sa.ForeignKeyConstraint(
            ["ticket_id"], ["tickets.id"], name=op.f("fk_delivery_ledger_ticket_id_tickets")
        ),
        sa.ForeignKeyConstraint(
            ["consultant_id"],
            ["consultants.id"],
            name=op.f("fk_delivery_ledger_consultant_id_consultants"),
        ),
        sa.ForeignKeyConstraint(
            ["serving_library_id"],
            ["libraries.id"],
            name=op.f("fk_delivery_ledger_serving_library_id_libraries"),
        ),
        sa.ForeignKeyConstraint(
            ["origin_library_id"],
            ["libraries.id"],
            name=op.f("fk_delivery_ledger_origin_library_id_libraries"),
        ),
        sa.ForeignKeyConstraint(
            ["reader_id"], ["readers.id"], name=op.f("fk_delivery_ledger_reader_id_readers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_delivery_ledger")),
        sa.UniqueConstraint(
            "consultation_id", "seq", name=op.f("uq_delivery_ledger_consultation_id_seq")
        ),
    )
    with op.batch_alter_table("delivery_ledger") as batch:
        batch.create_index("ix_delivery_ledger_created_at", ["created_at"])
        batch.create_index("ix_delivery_ledger_consultant_created", ["consultant_id", "created_at"])
        batch.create_index(
            "ix_delivery_ledger_serving_created", ["serving_library_id", "created_at"]
        )
        batch.create_index("ix_delivery_ledger_origin_created", ["origin_library_id", "created_at"])
        batch.create_index("ix_delivery_ledger_sha256", ["sha256"])


def downgrade() -> None:
    op.drop_table("delivery_ledger")
    with op.batch_alter_table("messages") as batch:
        batch.drop_column("attachment")
    with op.batch_alter_table("libraries") as batch:
        batch.drop_column("file_limits")
