"""Cases placed at a functional zone or above the county

A case list's residence may name only a functional zone (西安市高新区, 西咸新区) or only a unit (西安市某街道), or
nothing at all. Such cases used to be rejected as 地区未识别 and counted nowhere; now they are stored at the lowest
level the residence names (the unit, or the province) and ``zone`` keeps the zone's name, so a unit's figure
includes them and its table can list them as rows of their own.

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


def downgrade() -> None:
    with op.batch_alter_table("case_list") as batch:
        batch.drop_column("zone")
