"""recordings by participant: whose media each file holds, its kinds and size; revocations
indexed (the server watches staff logins and pupil passes revoked by another process)

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01 09:10:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("recordings") as batch:
        batch.add_column(sa.Column("participant_id", sa.String(length=36), nullable=True))
        batch.add_column(sa.Column("shown_name", sa.String(length=120), nullable=True))
        batch.add_column(sa.Column("kinds", sa.String(length=20), nullable=True))
        batch.add_column(sa.Column("size_bytes", sa.BigInteger(), nullable=True))
    op.create_index("ix_staff_logins_revoked_at", "staff_logins", ["revoked_at"])
    op.create_index("ix_pupil_passes_revoked_at", "pupil_passes", ["revoked_at"])


def downgrade() -> None:
    op.drop_index("ix_pupil_passes_revoked_at", table_name="pupil_passes")
    op.drop_index("ix_staff_logins_revoked_at", table_name="staff_logins")
    with op.batch_alter_table("recordings") as batch:
        batch.drop_column("size_bytes")
        batch.drop_column("kinds")
        batch.drop_column("shown_name")
        batch.drop_column("participant_id")
