"""The schema of the first release: the tables it created with create_all, and the index
ix_outbox_story_key it added by hand.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

UtcDateTime = sa.DateTime(timezone=True)


def upgrade() -> None:
    """Create the first release's tables and indexes."""
    op.create_table(
        "source_state",
        sa.Column("source_id", sa.String(100), primary_key=True),
        sa.Column("etag", sa.Text),
        sa.Column("last_modified", sa.Text),
        sa.Column("last_checked_at", UtcDateTime),
        sa.Column("last_ok_at", UtcDateTime),
        sa.Column("last_status", sa.String(20)),
        sa.Column("last_reason", sa.String(40)),
        sa.Column("last_detail", sa.Text),
        sa.Column("consecutive_failures", sa.Integer, nullable=False),
    )
    op.create_table(
        "items",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("source_id", sa.String(100), nullable=False),
        sa.Column("item_key", sa.Text, nullable=False),
        sa.Column("url", sa.Text, nullable=False),
        sa.Column("canonical_url", sa.Text, nullable=False),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("outlet", sa.Text, nullable=False),
        sa.Column("published_at", UtcDateTime),
        sa.Column("detected_at", UtcDateTime, nullable=False),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("story_key", sa.Text, nullable=False),
        sa.UniqueConstraint("source_id", "item_key", name="uq_items_source_key"),
    )
    op.create_index("ix_items_fingerprint", "items", ["fingerprint"])
    op.create_index("ix_items_story_key", "items", ["story_key"])
    op.create_table(
        "matches",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("item_id", sa.Integer, sa.ForeignKey("items.id", ondelete="CASCADE")),
        sa.Column("topic_id", sa.String(100), nullable=False),
        sa.Column("score", sa.Float, nullable=False),
        sa.Column("severity", sa.String(20), nullable=False),
        sa.Column("evidence_json", sa.Text, nullable=False),
        sa.UniqueConstraint("item_id", "topic_id", name="uq_matches_item_topic"),
    )
    op.create_index("ix_matches_item_id", "matches", ["item_id"])
    _outbox()
    _stories()


def _outbox() -> None:
    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("alert_key", sa.Text, nullable=False, unique=True),
        sa.Column("desk_id", sa.String(100), nullable=False),
        sa.Column("channel", sa.String(20), nullable=False),
        sa.Column("topic_id", sa.String(100), nullable=False),
        sa.Column("story_key", sa.Text, nullable=False),
        sa.Column("payload_json", sa.Text, nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("next_attempt_at", UtcDateTime, nullable=False),
        sa.Column("claimed_until", UtcDateTime),
        sa.Column("claim_token", sa.String(64)),
        sa.Column("last_error", sa.Text),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("sent_at", UtcDateTime),
    )
    op.create_index("ix_outbox_status", "outbox", ["status"])
    op.create_index("ix_outbox_story_key", "outbox", ["story_key"])


def _stories() -> None:
    op.create_table(
        "stories",
        sa.Column("story_key", sa.Text, primary_key=True),
        sa.Column("story_ref", sa.BigInteger, nullable=False, unique=True),
        sa.Column("first_seen", UtcDateTime, nullable=False),
        sa.Column("last_seen", UtcDateTime, nullable=False),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("url", sa.Text, nullable=False),
        sa.Column("signature", sa.LargeBinary, nullable=False),
        sa.Column("facts_json", sa.Text, nullable=False),
        sa.Column("updates", sa.Integer, nullable=False),
        sa.Column("last_update_at", UtcDateTime),
    )
    op.create_index("ix_stories_last_seen", "stories", ["last_seen"])
    op.create_table(
        "story_bands",
        sa.Column("band_hash", sa.BigInteger, primary_key=True),
        sa.Column("story_ref", sa.BigInteger, primary_key=True),
        sqlite_with_rowid=False,
    )
    op.create_index("ix_story_bands_story_ref", "story_bands", ["story_ref"])


def downgrade() -> None:
    """Nothing before the first release."""
    for table in ("story_bands", "stories", "outbox", "matches", "items", "source_state"):
        op.drop_table(table)
