"""workers and room leases: which worker of a cluster owns each live room, under which epoch

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-05 07:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "workers",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("address", sa.String(length=255), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("alive_until", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "room_leases",
        sa.Column("session_id", sa.String(length=36), nullable=False),
        sa.Column("worker_id", sa.String(length=64), nullable=False),
        sa.Column("epoch", sa.Integer(), nullable=False),
        sa.Column("taken_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("session_id"),
    )
    with op.batch_alter_table("room_leases", schema=None) as batch_op:
        batch_op.create_index("ix_room_leases_worker_id", ["worker_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("room_leases", schema=None) as batch_op:
        batch_op.drop_index("ix_room_leases_worker_id")
    op.drop_table("room_leases")
    op.drop_table("workers")
