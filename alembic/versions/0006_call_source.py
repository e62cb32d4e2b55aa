"""Call records say who wrote them: the ARI app ("app") or the dialplan's fallback journal ("dialplan").

The app closes the records it wrote whose channel vanished while nobody drove it (the app was down);
the index serves that lookup of open records.

Revision ID: 0006_call_source
Revises: 0005_scheduler
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0006_call_source"
down_revision: str | Sequence[str] | None = "0005_scheduler"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("calls", schema=None) as batch_op:
        batch_op.add_column(sa.Column("source", sa.String(length=16), server_default="app", nullable=False))
        batch_op.create_index(batch_op.f("ix_calls_open"), ["source", "ended_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("calls", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_calls_open"))
        batch_op.drop_column("source")
