"""The staff portal: users, their scoped role grants, ticket assignments, and the agency-queue index.

Revision ID: 0007
Revises: 0006_call_source
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa

import ticketing.db.types
from alembic import op

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006_call_source"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TS = ticketing.db.types.AwareDateTime


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("username", sa.String(length=40), nullable=False),
        sa.Column("display_name", sa.String(length=200), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("session_version", sa.Integer(), nullable=False),
        sa.Column("created_at", _TS(), nullable=False),
        sa.Column("updated_at", _TS(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("username", name=op.f("uq_users_username")),
    )
    op.create_table(
        "user_grants",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("agency", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_user_grants_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_user_grants")),
        sa.UniqueConstraint("user_id", "role", "agency", name=op.f("uq_user_grants_user_id")),
    )
    op.create_index(op.f("ix_user_grants_user_id"), "user_grants", ["user_id"], unique=False)
    op.create_table(
        "ticket_assignments",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("ticket_code", sa.String(length=32), nullable=False),
        sa.Column("username", sa.String(length=40), nullable=False),
        sa.Column("assigned_by", sa.String(length=100), nullable=False),
        sa.Column("assigned_at", _TS(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ticket_assignments")),
        sa.UniqueConstraint("ticket_code", name=op.f("uq_ticket_assignments_ticket_code")),
    )
    op.create_index(op.f("ix_ticket_assignments_username"), "ticket_assignments", ["username"], unique=False)
    op.create_index("ix_tickets_agency_created", "tickets", ["lead_agency", "created_at"], unique=False)
    op.create_index("ix_tickets_agency_status", "tickets", ["lead_agency", "status"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_tickets_agency_status", table_name="tickets")
    op.drop_index("ix_tickets_agency_created", table_name="tickets")
    op.drop_index(op.f("ix_ticket_assignments_username"), table_name="ticket_assignments")
    op.drop_table("ticket_assignments")
    op.drop_index(op.f("ix_user_grants_user_id"), table_name="user_grants")
    op.drop_table("user_grants")
    op.drop_table("users")
