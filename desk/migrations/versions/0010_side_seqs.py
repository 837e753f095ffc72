"""consultations: the seq of the last message each side is shown (a live message's ``prev``)

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

_SIDES = {
    "last_reader_seq": ("all", "reader"),
    "last_staff_seq": ("all", "staff"),
}


def upgrade() -> None:
    with op.batch_alter_table("consultations") as batch:
        for column in _SIDES:
            batch.add_column(sa.Column(column, sa.Integer(), nullable=False, server_default="0"))
    for column, seen in _SIDES.items():
        visible = ", ".join(f"'{v}'" for v in seen)
        op.execute(
            f"UPDATE consultations SET {column} = COALESCE((SELECT MAX(m.seq) FROM messages m"  # noqa: S608 (constants only)
            f" WHERE m.consultation_id = consultations.id AND m.visibility IN ({visible})), 0)"
        )


def downgrade() -> None:
    with op.batch_alter_table("consultations") as batch:
        for column in _SIDES:
            batch.drop_column(column)
