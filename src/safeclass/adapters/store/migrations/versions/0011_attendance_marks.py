"""attendance marks: each pupil's line of each ended session's register, its behaviour marks,
and the log entry they were computed from, for the head's view across a term (C19)

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-05 02:45:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "attendance_marks",
        sa.Column("session_id", sa.String(length=36), nullable=False),
        sa.Column("pupil_id", sa.String(length=36), nullable=False),
        sa.Column("school_id", sa.String(length=36), nullable=False),
        sa.Column("class_id", sa.String(length=36), nullable=True),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("mark", sa.Integer(), nullable=False),
        sa.Column("late_seconds", sa.Integer(), nullable=True),
        sa.Column("seconds_present", sa.Integer(), nullable=False),
        sa.Column("left_early", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["school_id"], ["schools.id"]),
        sa.ForeignKeyConstraint(["session_id"], ["sessions.id"]),
        sa.PrimaryKeyConstraint("session_id", "pupil_id"),
    )
    with op.batch_alter_table("attendance_marks", schema=None) as batch_op:
        batch_op.create_index(
            "ix_attendance_marks_school_mark",
            ["school_id", "mark", "starts_at", "pupil_id"],
            unique=False,
        )
        batch_op.create_index(
            "ix_attendance_marks_school_class",
            ["school_id", "class_id", "starts_at", "pupil_id", "mark"],
            unique=False,
        )
        batch_op.create_index("ix_attendance_marks_pupil", ["pupil_id", "starts_at"], unique=False)
    op.create_table(
        "behaviour_marks",
        sa.Column("session_id", sa.String(length=36), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("school_id", sa.String(length=36), nullable=False),
        sa.Column("class_id", sa.String(length=36), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("pupil_id", sa.String(length=36), nullable=True),
        sa.Column("by", sa.String(length=36), nullable=True),
        sa.ForeignKeyConstraint(["school_id"], ["schools.id"]),
        sa.ForeignKeyConstraint(["session_id"], ["sessions.id"]),
        sa.PrimaryKeyConstraint("session_id", "seq"),
    )
    with op.batch_alter_table("behaviour_marks", schema=None) as batch_op:
        batch_op.create_index("ix_behaviour_marks_school_at", ["school_id", "at"], unique=False)
    op.create_table(
        "attendance_stamps",
        sa.Column("session_id", sa.String(length=36), nullable=False),
        sa.Column("school_id", sa.String(length=36), nullable=False),
        sa.Column("log_seq", sa.Integer(), nullable=False),
        sa.Column("rules", sa.Integer(), nullable=False),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("class_id", sa.String(length=36), nullable=True),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("on_time", sa.Integer(), nullable=False),
        sa.Column("late", sa.Integer(), nullable=False),
        sa.Column("absent", sa.Integer(), nullable=False),
        sa.Column("other", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["school_id"], ["schools.id"]),
        sa.ForeignKeyConstraint(["session_id"], ["sessions.id"]),
        sa.PrimaryKeyConstraint("session_id"),
    )
    with op.batch_alter_table("attendance_stamps", schema=None) as batch_op:
        batch_op.create_index(
            "ix_attendance_stamps_school_start", ["school_id", "starts_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("attendance_stamps", schema=None) as batch_op:
        batch_op.drop_index("ix_attendance_stamps_school_start")
    op.drop_table("attendance_stamps")
    with op.batch_alter_table("behaviour_marks", schema=None) as batch_op:
        batch_op.drop_index("ix_behaviour_marks_school_at")
    op.drop_table("behaviour_marks")
    with op.batch_alter_table("attendance_marks", schema=None) as batch_op:
        batch_op.drop_index("ix_attendance_marks_pupil")
        batch_op.drop_index("ix_attendance_marks_school_class")
        batch_op.drop_index("ix_attendance_marks_school_mark")
    op.drop_table("attendance_marks")
