"""staff devices: browsers staff have signed in on, so sign-in limits never lock them out;
parent reports: what parents told the school through a link, each kept once

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 09:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "staff_devices",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("staff_id", sa.String(length=36), nullable=False),
        sa.Column("school_id", sa.String(length=36), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["school_id"], ["schools.id"]),
        sa.ForeignKeyConstraint(["staff_id"], ["staff.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
    )
    with op.batch_alter_table("staff_devices", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_staff_devices_school_id"), ["school_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_staff_devices_staff_id"), ["staff_id"], unique=False)
    op.create_table(
        "parent_reports",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("school_id", sa.String(length=36), nullable=False),
        sa.Column("session_id", sa.String(length=36), nullable=False),
        sa.Column("pupil_id", sa.String(length=36), nullable=False),
        sa.Column("reason", sa.String(length=40), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("emailed", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["pupil_id"], ["pupils.id"]),
        sa.ForeignKeyConstraint(["school_id"], ["schools.id"]),
        sa.ForeignKeyConstraint(["session_id"], ["sessions.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("parent_reports", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_parent_reports_school_id"), ["school_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_parent_reports_session_id"), ["session_id"], unique=False
        )


def downgrade() -> None:
    op.drop_table("parent_reports")
    with op.batch_alter_table("staff_devices", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_staff_devices_staff_id"))
        batch_op.drop_index(batch_op.f("ix_staff_devices_school_id"))
    op.drop_table("staff_devices")
