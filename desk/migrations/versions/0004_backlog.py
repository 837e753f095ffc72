"""the form-consultation backlog: tickets and their history

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import desk.db

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

_TS = desk.db.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "tickets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("link_hash", sa.String(length=64), nullable=False),
        sa.Column("library_id", sa.Integer(), nullable=False),
        sa.Column("reader_id", sa.Integer(), nullable=True),
        sa.Column("consultation_id", sa.Integer(), nullable=True),
        sa.Column("language", sa.String(length=16), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("question", sa.Text(), nullable=False),
        sa.Column("contact_email", sa.String(length=254), nullable=True),
        sa.Column("transcript", sa.JSON(), nullable=False),
        sa.Column("handed_off_by", sa.String(length=16), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("claimed_by", sa.Integer(), nullable=True),
        sa.Column("claimed_at", _TS, nullable=True),
        sa.Column("answer", sa.Text(), nullable=True),
        sa.Column("answer_kind", sa.String(length=16), nullable=True),
        sa.Column("answered_by", sa.Integer(), nullable=True),
        sa.Column("answered_at", _TS, nullable=True),
        sa.Column("submitted_at", _TS, nullable=False),
        sa.Column("overdue_at", _TS, nullable=True),
        sa.Column("reminded_at", _TS, nullable=True),
        sa.Column("emailed_at", _TS, nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["answered_by"], ["consultants.id"], name=op.f("fk_tickets_answered_by_consultants")
        ),
        sa.ForeignKeyConstraint(
            ["claimed_by"], ["consultants.id"], name=op.f("fk_tickets_claimed_by_consultants")
        ),
        sa.ForeignKeyConstraint(
            ["consultation_id"],
            ["consultations.id"],
            name=op.f("fk_tickets_consultation_id_consultations"),
        ),
        sa.ForeignKeyConstraint(
            ["library_id"], ["libraries.id"], name=op.f("fk_tickets_library_id_libraries")
        ),
        sa.ForeignKeyConstraint(
            ["reader_id"], ["readers.id"], name=op.f("fk_tickets_reader_id_readers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tickets")),
        sa.UniqueConstraint("consultation_id", name=op.f("uq_tickets_consultation_id")),
        sa.UniqueConstraint("link_hash", name=op.f("uq_tickets_link_hash")),
    )
    op.create_index(op.f("ix_tickets_library_id"), "tickets", ["library_id"], unique=False)
    op.create_index("ix_tickets_state_submitted", "tickets", ["state", "submitted_at"])
    op.create_table(
        "ticket_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("at", _TS, nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("consultant_id", sa.Integer(), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["consultant_id"],
            ["consultants.id"],
            name=op.f("fk_ticket_events_consultant_id_consultants"),
        ),
        sa.ForeignKeyConstraint(
            ["ticket_id"], ["tickets.id"], name=op.f("fk_ticket_events_ticket_id_tickets")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ticket_events")),
    )
    op.create_index(
        op.f("ix_ticket_events_ticket_id"), "ticket_events", ["ticket_id"], unique=False
    )


def downgrade() -> None:
    op.drop_table("ticket_events")
    op.drop_index("ix_tickets_state_submitted", table_name="tickets")
    op.drop_index(op.f("ix_tickets_library_id"), table_name="tickets")
    op.drop_table("tickets")
