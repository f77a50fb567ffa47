"""keyed log chains: each session's log head is sealed under the server's log-chain key, and
the logs written before (plain SHA-256) are marked, as they are, where their old entries end

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-04 20:40:00.000000

Old entries are not rewritten (that would destroy the evidence they are); each existing head
gets `legacy_seq` = its last entry and a seal made with the key, so only the logs that exist
now can ever be checked the old way. That needs the server's secret: `upgrade(url, secret=...)`.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import context, op

from safeclass.adapters.store.event_log import head_seal

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("session_log_heads") as batch:
        batch.add_column(sa.Column("legacy_seq", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("seal", sa.String(length=64), nullable=True))
    heads = sa.table(
        "session_log_heads",
        sa.column("session_id", sa.String),
        sa.column("last_seq", sa.Integer),
        sa.column("last_hash", sa.String),
        sa.column("legacy_seq", sa.Integer),
        sa.column("seal", sa.String),
    )
    bind = op.get_bind()
    existing = bind.execute(sa.select(heads.c.session_id, heads.c.last_seq, heads.c.last_hash))
    rows = existing.all()
    if not rows:
        return
    key = context.config.attributes.get("chain_key")
    if not isinstance(key, bytes):
        raise RuntimeError(
            "this database holds event logs written before keyed chains; upgrading it needs "
            "the server's secret (run `safeclass db upgrade --data-dir DIR` where DIR holds "
            "secret.key, or set SAFECLASS_SECRET_FILE)"
        )
    for session_id, last_seq, last_hash in rows:
        bind.execute(
            heads.update()
            .where(heads.c.session_id == session_id)
            .values(
                legacy_seq=last_seq,
                seal=head_seal(key, session_id, last_seq, last_hash, last_seq),
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("session_log_heads") as batch:
        batch.drop_column("seal")
        batch.drop_column("legacy_seq")
