"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import desk.db

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "libraries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("name_en", sa.String(length=200), nullable=False),
        sa.Column("allowed_origins", sa.JSON(), nullable=False),
        sa.Column("languages", sa.JSON(), nullable=False),
        sa.Column("service_hours", sa.JSON(), nullable=False),
        sa.Column("phone", sa.String(length=64), nullable=False),
        sa.Column("routing_mode", sa.String(length=16), nullable=False),
        sa.Column("offer_timeout_seconds", sa.Integer(), nullable=False),
        sa.Column("overflow_delay_seconds", sa.Integer(), nullable=False),
        sa.Column("created_at", desk.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_libraries")),
        sa.UniqueConstraint("code", name=op.f("uq_libraries_code")),
    )
    op.create_table(
        "consultants",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("library_id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("display_name", sa.String(length=100), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("languages", sa.JSON(), nullable=False),
        sa.Column("max_chats", sa.Integer(), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", desk.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["library_id"], ["libraries.id"], name=op.f("fk_consultants_library_id_libraries")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consultants")),
        sa.UniqueConstraint("username", name=op.f("uq_consultants_username")),
    )
    with op.batch_alter_table("consultants", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_consultants_library_id"), ["library_id"], unique=False)

    op.create_table(
        "readers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=True),
        sa.Column("display_name", sa.String(length=100), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=True),
        sa.Column("first_library_id", sa.Integer(), nullable=True),
        sa.Column("created_at", desk.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["first_library_id"],
            ["libraries.id"],
            name=op.f("fk_readers_first_library_id_libraries"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_readers")),
        sa.UniqueConstraint("email", name=op.f("uq_readers_email")),
    )
    op.create_table(
        "consultations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("library_id", sa.Integer(), nullable=False),
        sa.Column("reader_id", sa.Integer(), nullable=False),
        sa.Column("language", sa.String(length=16), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("assignee_id", sa.Integer(), nullable=True),
        sa.Column("route_library_id", sa.Integer(), nullable=False),
        sa.Column("serving_library_id", sa.Integer(), nullable=True),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("last_seq", sa.Integer(), nullable=False),
        sa.Column("reader_read_seq", sa.Integer(), nullable=False),
        sa.Column("staff_read_seq", sa.Integer(), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("offer_expires_at", desk.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", desk.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("queued_at", desk.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("assigned_at", desk.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("ended_at", desk.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("ended_by", sa.String(length=16), nullable=True),
        sa.Column("end_reason", sa.String(length=64), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["assignee_id"],
            ["consultants.id"],
            name=op.f("fk_consultations_assignee_id_consultants"),
        ),
        sa.ForeignKeyConstraint(
            ["library_id"], ["libraries.id"], name=op.f("fk_consultations_library_id_libraries")
        ),
        sa.ForeignKeyConstraint(
            ["reader_id"], ["readers.id"], name=op.f("fk_consultations_reader_id_readers")
        ),
        sa.ForeignKeyConstraint(
            ["route_library_id"],
            ["libraries.id"],
            name=op.f("fk_consultations_route_library_id_libraries"),
        ),
        sa.ForeignKeyConstraint(
            ["serving_library_id"],
            ["libraries.id"],
            name=op.f("fk_consultations_serving_library_id_libraries"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consultations")),
    )
    with op.batch_alter_table("consultations", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_consultations_library_id"), ["library_id"], unique=False
        )
        batch_op.create_index("ix_consultations_reader_state", ["reader_id", "state"], unique=False)
        batch_op.create_index(
            "ix_consultations_state_assignee", ["state", "assignee_id"], unique=False
        )
        batch_op.create_index(
            "uq_consultations_active_reader_library",
            ["reader_id", "library_id"],
            unique=True,
            sqlite_where=sa.text("state IN ('waiting', 'offered', 'assigned')"),
            postgresql_where=sa.text("state IN ('waiting', 'offered', 'assigned')"),
        )

    op.create_table(
        "reader_tokens",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("reader_id", sa.Integer(), nullable=False),
        sa.Column("created_at", desk.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["reader_id"], ["readers.id"], name=op.f("fk_reader_tokens_reader_id_readers")
        ),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_reader_tokens")),
    )
    with op.batch_alter_table("reader_tokens", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_reader_tokens_reader_id"), ["reader_id"], unique=False)

    op.create_table(
        "staff_sessions",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("consultant_id", sa.Integer(), nullable=False),
        sa.Column("created_at", desk.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", desk.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["consultant_id"],
            ["consultants.id"],
            name=op.f("fk_staff_sessions_consultant_id_consultants"),
        ),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_staff_sessions")),
    )
    with op.batch_alter_table("staff_sessions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_staff_sessions_consultant_id"), ["consultant_id"], unique=False
        )

    op.create_table(
        "assignment_history",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("consultation_id", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("consultant_id", sa.Integer(), nullable=True),
        sa.Column("library_id", sa.Integer(), nullable=True),
        sa.Column("by_consultant_id", sa.Integer(), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("at", desk.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["by_consultant_id"],
            ["consultants.id"],
            name=op.f("fk_assignment_history_by_consultant_id_consultants"),
        ),
        sa.ForeignKeyConstraint(
            ["consultant_id"],
            ["consultants.id"],
            name=op.f("fk_assignment_history_consultant_id_consultants"),
        ),
        sa.ForeignKeyConstraint(
            ["consultation_id"],
            ["consultations.id"],
            name=op.f("fk_assignment_history_consultation_id_consultations"),
        ),
        sa.ForeignKeyConstraint(
            ["library_id"],
            ["libraries.id"],
            name=op.f("fk_assignment_history_library_id_libraries"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assignment_history")),
    )
    with op.batch_alter_table("assignment_history", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_assignment_history_consultation_id"), ["consultation_id"], unique=False
        )

    op.create_table(
        "messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("consultation_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("client_msg_id", sa.String(length=64), nullable=True),
        sa.Column("author_kind", sa.String(length=16), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("visibility", sa.String(length=8), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", desk.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["consultation_id"],
            ["consultations.id"],
            name=op.f("fk_messages_consultation_id_consultations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_messages")),
        sa.UniqueConstraint(
            "consultation_id",
            "client_msg_id",
            name=op.f("uq_messages_consultation_id_client_msg_id"),
        ),
        sa.UniqueConstraint("consultation_id", "seq", name=op.f("uq_messages_consultation_id_seq")),
    )


def downgrade() -> None:
    op.drop_table("messages")
    with op.batch_alter_table("assignment_history", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_assignment_history_consultation_id"))

    op.drop_table("assignment_history")
    with op.batch_alter_table("staff_sessions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_staff_sessions_consultant_id"))

    op.drop_table("staff_sessions")
    with op.batch_alter_table("reader_tokens", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_reader_tokens_reader_id"))

    op.drop_table("reader_tokens")
    with op.batch_alter_table("consultations", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_consultations_active_reader_library",
            sqlite_where=sa.text("state IN ('waiting', 'offered', 'assigned')"),
            postgresql_where=sa.text("state IN ('waiting', 'offered', 'assigned')"),
        )
        batch_op.drop_index("ix_consultations_state_assignee")
        batch_op.drop_index("ix_consultations_reader_state")
        batch_op.drop_index(batch_op.f("ix_consultations_library_id"))

    op.drop_table("consultations")
    op.drop_table("readers")
    with op.batch_alter_table("consultants", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_consultants_library_id"))

    op.drop_table("consultants")
    op.drop_table("libraries")
