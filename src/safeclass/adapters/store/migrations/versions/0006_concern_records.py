"""concern records: a concern's category, when it happened, its event in the session's log,
its pupils, and its hash-chained entries (account, additions, actions taken, read)

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-05 03:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("concerns", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("category", sa.String(length=80), nullable=False, server_default="")
        )
        batch_op.add_column(sa.Column("happened_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("event_seq", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("event_hash", sa.String(length=64), nullable=True))
    op.create_table(
        "concern_pupils",
        sa.Column("concern_id", sa.String(length=36), nullable=False),
        sa.Column("pupil_id", sa.String(length=36), nullable=False),
        sa.ForeignKeyConstraint(["concern_id"], ["concerns.id"]),
        sa.ForeignKeyConstraint(["pupil_id"], ["pupils.id"]),
        sa.PrimaryKeyConstraint("concern_id", "pupil_id"),
    )
    with op.batch_alter_table("concern_pupils", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_concern_pupils_pupil_id"), ["pupil_id"], unique=False)
    op.create_table(
        "concern_entries",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("concern_id", sa.String(length=36), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("happened_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("by_staff", sa.String(length=36), nullable=True),
        sa.Column("by_name", sa.String(length=200), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(["by_staff"], ["staff.id"]),
        sa.ForeignKeyConstraint(["concern_id"], ["concerns.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("concern_id", "seq", name="uq_concern_entries_seq"),
    )
    with op.batch_alter_table("concern_entries", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_concern_entries_concern_id"), ["concern_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("concern_entries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_concern_entries_concern_id"))
    op.drop_table("concern_entries")
    with op.batch_alter_table("concern_pupils", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_concern_pupils_pupil_id"))
    op.drop_table("concern_pupils")
    with op.batch_alter_table("concerns", schema=None) as batch_op:
        batch_op.drop_column("event_hash")
        batch_op.drop_column("event_seq")
        batch_op.drop_column("happened_at")
        batch_op.drop_column("category")
