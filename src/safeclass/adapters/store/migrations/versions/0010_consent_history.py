"""consent history: every change of a pupil's consent, never overwritten (C17, C23)

Revision ID: 0010
Revises: 0008
Create Date: 2026-12-05 03:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "consent_changes",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("school_id", sa.String(length=36), nullable=False),
        sa.Column("pupil_id", sa.String(length=36), nullable=False),
        sa.Column("basis", sa.String(length=20), nullable=False),
        sa.Column("source", sa.String(length=100), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("session_id", sa.String(length=36), nullable=True),
        sa.ForeignKeyConstraint(["pupil_id"], ["pupils.id"]),
        sa.ForeignKeyConstraint(["school_id"], ["schools.id"]),
        sa.ForeignKeyConstraint(["session_id"], ["sessions.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("consent_changes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_consent_changes_pupil_id"), ["pupil_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_consent_changes_school_id"), ["school_id"], unique=False
        )
    # the consent each pupil has now is where their history begins
    op.execute(
        "INSERT INTO consent_changes (school_id, pupil_id, basis, source, recorded_at, changed_at)"
        " SELECT school_id, pupil_id, basis, source, recorded_at, recorded_at FROM consents"
    )


def downgrade() -> None:
    with op.batch_alter_table("consent_changes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_consent_changes_school_id"))
        batch_op.drop_index(batch_op.f("ix_consent_changes_pupil_id"))
    op.drop_table("consent_changes")
