"""Tracking-code numbers from a PostgreSQL sequence.

Until now every filing took its number with ``UPDATE code_sequences ... RETURNING`` inside its own
transaction, so concurrent filings queued on that row's lock until each one committed. On
PostgreSQL the number now comes from ``nextval('ticket_code_seq')``, which never waits; the
sequence starts after the counter's last value. SQLite (one writer at a time anyway) keeps the
counter row. See docs/decisions/200-ticket-codes-from-a-sequence.md.

Revision ID: 0017
Revises: 0016
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0017"
down_revision: str | Sequence[str] | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SEQUENCE = "ticket_code_seq"


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    op.execute(f"CREATE SEQUENCE IF NOT EXISTS {SEQUENCE} AS bigint MINVALUE 1 START WITH 1")
    last = bind.execute(sa.text("SELECT value FROM code_sequences WHERE name = 'ticket'")).scalar()
    if last:
        bind.execute(sa.text(f"SELECT setval('{SEQUENCE}', :last, true)"), {"last": int(last)})


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    # the counter row takes over again from the sequence's last number
    last = bind.execute(
        sa.text(f"SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM {SEQUENCE}")
    ).scalar()
    if last:
        updated = bind.execute(
            sa.text("UPDATE code_sequences SET value = :last WHERE name = 'ticket'"), {"last": int(last)}
        ).rowcount
        if not updated:
            bind.execute(
                sa.text("INSERT INTO code_sequences (name, value) VALUES ('ticket', :last)"),
                {"last": int(last)},
            )
    op.execute(f"DROP SEQUENCE IF EXISTS {SEQUENCE}")
