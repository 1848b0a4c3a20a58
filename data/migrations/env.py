"""Alembic's environment for the store: always run from data/migrate.py with an open connection (no alembic.ini,
no URL of its own), so the CLI, the app and the tests migrate exactly the store they were given."""

from __future__ import annotations

from alembic import context

from data import store

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=store.metadata,
    render_as_batch=connection.dialect.name == "sqlite",  # SQLite alters a table by copying it
    compare_type=True,
    transaction_per_migration=True,
)
with context.begin_transaction():
    context.run_migrations()
