"""Sign-in sessions kept on the server, so logging out (or a disabled account) ends a session everywhere

Until now a session was only Flask's signed cookie: a copy taken before logout kept working. A session is now a
row here, keyed by the SHA-256 of a random token that only the cookie holds; logout sets ``ended_at``. Staff
sessions of the earlier release (cookies naming the account itself) are no longer accepted: staff sign in once
more after the upgrade; wall screens keep theirs (their token's revocation ends them).

Revision ID: 0002
Revises: 0001
Created: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_sha256", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("wall_token_id", sa.Integer(), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("address", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"]),
        sa.ForeignKeyConstraint(["wall_token_id"], ["wall_tokens.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_sha256"),
    )


def downgrade() -> None:
    op.drop_table("sessions")
