"""shared limits and cluster jobs: the sign-in and family-lookup counts a cluster's workers share,
and when each job that runs once across the cluster last finished

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-12 09:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "limit_counts",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("count", sa.Float(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    with op.batch_alter_table("limit_counts", schema=None) as batch_op:
        batch_op.create_index("ix_limit_counts_expires_at", ["expires_at"], unique=False)
    op.create_table(
        "cluster_jobs",
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("done_by", sa.String(length=100), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )


def downgrade() -> None:
    op.drop_table("cluster_jobs")
    with op.batch_alter_table("limit_counts", schema=None) as batch_op:
        batch_op.drop_index("ix_limit_counts_expires_at")
    op.drop_table("limit_counts")
