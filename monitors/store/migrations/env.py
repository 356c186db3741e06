"""Alembic environment: runs on the connection monitors/store/migrate.py hands over."""

from __future__ import annotations

from alembic import context

from monitors.store.schema import metadata

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=metadata)
with context.begin_transaction():
    context.run_migrations()
