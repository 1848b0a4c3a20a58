"""Direct reports' optional figures and follow-up tasks

``report_extras`` keeps what a region's officer types on ``/report`` beside the day's counts (new asymptomatic,
close contacts under observation, fever-clinic visits, pharmacy mask stock); the counts themselves are stored as
case_reports rows of an ordinary batch. ``tasks`` and ``task_events``: a duty officer's follow-up task for a region
and each step of it (已接收, 处理中, 已完成), who and when.

Revision ID: 0005
Revises: 0004
Created: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "report_extras",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=False),
        sa.Column("region_adcode", sa.String(length=6), nullable=False),
        sa.Column("as_of_date", sa.Date(), nullable=False),
        sa.Column("new_asymptomatic", sa.Integer(), nullable=True),
        sa.Column("contacts_under_observation", sa.Integer(), nullable=True),
        sa.Column("fever_clinic_visits", sa.Integer(), nullable=True),
        sa.Column("pharmacy_mask_stock", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["batch_id"], ["batches.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_report_extras_region_date", "report_extras", ["region_adcode", "as_of_date"])
    op.create_table(
        "tasks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("region_adcode", sa.String(length=6), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("detail", sa.String(length=2000), nullable=True),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("alert_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["alert_id"], ["alerts.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_tasks_region_status", "tasks", ["region_adcode", "status"])
    op.create_table(
        "task_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("task_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("note", sa.String(length=1000), nullable=True),
        sa.Column("by", sa.String(length=64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.ForeignKeyConstraint(["task_id"], ["tasks.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_task_events_task", "task_events", ["task_id"])


def downgrade() -> None:
    op.drop_index("ix_task_events_task", table_name="task_events")
    op.drop_table("task_events")
    op.drop_index("ix_tasks_region_status", table_name="tasks")
    op.drop_table("tasks")
    op.drop_index("ix_report_extras_region_date", table_name="report_extras")
    op.drop_table("report_extras")
