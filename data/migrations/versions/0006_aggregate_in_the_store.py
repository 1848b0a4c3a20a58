"""Indexes for aggregating in the store (issue 22)

The read side no longer loads the case list and the flow table into every process: it asks the store for what a
view needs. ``ix_case_list_batch_place`` (batch, place, zone, day) answers the case list's count per place and day
from the index alone, batch by batch; ``ix_flows_batch_date`` (batch, day) finds the first and last day of each
flow batch without reading the table.

Revision ID: 0006
Revises: 0005
Created: 2026-12-06
"""

from __future__ import annotations

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_case_list_batch_place", "case_list", ["batch_id", "region_adcode", "zone", "report_date"])
    op.create_index("ix_flows_batch_date", "flows", ["batch_id", "date"])


def downgrade() -> None:
    op.drop_index("ix_flows_batch_date", table_name="flows")
    op.drop_index("ix_case_list_batch_place", table_name="case_list")
