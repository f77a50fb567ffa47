"""sealed concern heads: each concern keeps its last entry's seq, sealed with that entry's hash
under the concern key, so deleting only the newest entries of a record is found

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-05 14:40:00.000000

The concerns that exist now are sealed as they are, here, so that after this migration a
concern without a seal is one whose seal was taken away. That needs the server's secret:
`upgrade(url, secret=...)`.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import context, op

from safeclass.app.concerns import head_seal

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("concerns") as batch:
        batch.add_column(sa.Column("head_seq", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("head_seal", sa.String(length=64), nullable=True))
    concerns = sa.table(
        "concerns",
        sa.column("id", sa.String),
        sa.column("head_seq", sa.Integer),
        sa.column("head_seal", sa.String),
    )
    entries = sa.table(
        "concern_entries",
        sa.column("concern_id", sa.String),
        sa.column("seq", sa.Integer),
        sa.column("hash", sa.String),
    )
    bind = op.get_bind()
    last = (
        sa.select(entries.c.concern_id, sa.func.max(entries.c.seq).label("seq"))
        .group_by(entries.c.concern_id)
        .subquery()
    )
    heads = bind.execute(
        sa.select(entries.c.concern_id, entries.c.seq, entries.c.hash).join(
            last, sa.and_(last.c.concern_id == entries.c.concern_id, last.c.seq == entries.c.seq)
        )
    ).all()
    if not heads:
        return
    key = context.config.attributes.get("concern_key")
    if not isinstance(key, bytes):
        raise RuntimeError(
            "this database holds safeguarding concerns; sealing their records needs the "
            "server's secret (run `safeclass db upgrade --data-dir DIR` where DIR holds "
            "secret.key, or set SAFECLASS_SECRET_FILE)"
        )
    for concern_id, seq, digest in heads:
        bind.execute(
            concerns.update()
            .where(concerns.c.id == concern_id)
            .values(head_seq=seq, head_seal=head_seal(key, concern_id, seq, digest))
        )


def downgrade() -> None:
    with op.batch_alter_table("concerns") as batch:
        batch.drop_column("head_seal")
        batch.drop_column("head_seq")
