"""Cases placed at a functional zone or above the county; column mappings remembered by header

A case list's residence may name only a functional zone (西安市高新区, 西咸新区) or only a unit (西安市某街道), or
nothing at all. Such cases used to be rejected as 地区未识别 and counted nowhere; now they are stored at the lowest
level the residence names (the unit, or the province) and ``zone`` keeps the zone's name, so a unit's figure
includes them and its table can list them as rows of their own.

``column_maps`` keeps the column mapping an officer gave for a file whose headers no synonym knows (``--columns``
or the upload page's form), so the next file with the same header is read the same way.

Revision ID: 0004
Revises: 0003
Created: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("case_list") as batch:
        batch.add_column(sa.Column("zone", sa.String(length=20), nullable=True))
    op.create_table(
        "column_maps",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("header_key", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("mapping", sa.JSON(), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("header_key", "kind", name="uq_column_maps_header_kind"),
    )


def downgrade() -> None:
    op.drop_table("column_maps")
    with op.batch_alter_table("case_list") as batch:
        batch.drop_column("zone")
