"""compliance results: each session's compliance report in short, with the log head it was
computed from, so the school-wide summary need not replay every log

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-05 03:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "compliance_results",
        sa.Column("session_id", sa.String(length=36), nullable=False),
        sa.Column("school_id", sa.String(length=36), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("head_hash", sa.String(length=64), nullable=False),
        sa.Column("last_seq", sa.Integer(), nullable=False),
        sa.Column("verified", sa.Boolean(), nullable=False),
        sa.Column("outcomes", sa.Text(), nullable=False),
        sa.Column("breaches", sa.Integer(), nullable=False),
        sa.Column("settled", sa.Boolean(), nullable=False),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["school_id"], ["schools.id"]),
        sa.ForeignKeyConstraint(["session_id"], ["sessions.id"]),
        sa.PrimaryKeyConstraint("session_id"),
    )
    with op.batch_alter_table("compliance_results", schema=None) as batch_op:
        batch_op.create_index(
            "ix_compliance_results_school_start", ["school_id", "starts_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("compliance_results", schema=None) as batch_op:
        batch_op.drop_index("ix_compliance_results_school_start")
    op.drop_table("compliance_results")
