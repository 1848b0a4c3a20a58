"""Anonymous CSV downloads of the open API counted per day and endpoint, instead of an audit row each

Each anonymous ``?format=csv`` request used to add a permanent row to the append-only audit log: anyone could grow
it without limit. Signed-in users' downloads are still audited one by one.

Revision ID: 0003
Revises: 0002
Created: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "download_counts",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("endpoint", sa.String(length=100), nullable=False),
        sa.Column("downloads", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("day", "endpoint"),
    )


def downgrade() -> None:
    op.drop_table("download_counts")
