"""Per-source schedule: when each source is next due, and what the decision needs.

Adds to source_state: next_due_at (NULL: due now, as every source was before), recent_new (new
items of the last successful checks, space-separated), body_hash (the last fully read body, for
servers that ignore conditional GET) and feed_refresh_s (the feed's own <ttl> or sy:update*
hint). Existing rows keep their state; their sources are due at the next run.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

UtcDateTime = sa.DateTime(timezone=True)


def upgrade() -> None:
    """Four nullable columns; batch mode lets SQLite take them too."""
    with op.batch_alter_table("source_state") as batch:
        batch.add_column(sa.Column("next_due_at", UtcDateTime))
        batch.add_column(sa.Column("recent_new", sa.String(200)))
        batch.add_column(sa.Column("body_hash", sa.String(64)))
        batch.add_column(sa.Column("feed_refresh_s", sa.Integer))


def downgrade() -> None:
    with op.batch_alter_table("source_state") as batch:
        for name in ("feed_refresh_s", "body_hash", "recent_new", "next_due_at"):
            batch.drop_column(name)
