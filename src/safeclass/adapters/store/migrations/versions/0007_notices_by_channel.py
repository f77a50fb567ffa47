"""notifications by channel: each row goes by email or by the school's signed webhook, and a
parents' notice names its pupil

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-05 03:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("channel", sa.String(length=10), server_default="email", nullable=False)
        )
        batch_op.add_column(sa.Column("pupil_id", sa.String(length=36), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.drop_column("pupil_id")
        batch_op.drop_column("channel")
