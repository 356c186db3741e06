"""The tables: source validators and health, seen items, matches, outbox, stories with their
lookup keys (exact identity keys and MinHash LSH bands).

The migrations (monitors/store/migrations) create and change these tables; this module is what
the code reads and writes, and a test checks the two agree.
"""

from __future__ import annotations

import hashlib

import sqlalchemy as sa

metadata = sa.MetaData()
UtcDateTime = sa.DateTime(timezone=True)

source_state = sa.Table(
    "source_state",
    metadata,
    sa.Column("source_id", sa.String(100), primary_key=True),
    sa.Column("etag", sa.Text),
    sa.Column("last_modified", sa.Text),
    sa.Column("last_checked_at", UtcDateTime),
    sa.Column("last_ok_at", UtcDateTime),
    sa.Column("last_status", sa.String(20)),
    sa.Column("last_reason", sa.String(40)),
    sa.Column("last_detail", sa.Text),
    sa.Column("consecutive_failures", sa.Integer, nullable=False, default=0),
    # The schedule (monitors.schedule): when the source is next due, new items of its recent
    # successful checks ("0 2 1"), its last fully read body's hash, its feed's refresh hint.
    sa.Column("next_due_at", UtcDateTime),
    sa.Column("recent_new", sa.String(200)),
    sa.Column("body_hash", sa.String(64)),
    sa.Column("feed_refresh_s", sa.Integer),
)

items = sa.Table(
    "items",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("source_id", sa.String(100), nullable=False),
    sa.Column("item_key", sa.Text, nullable=False),
    sa.Column("url", sa.Text, nullable=False),
    sa.Column("canonical_url", sa.Text, nullable=False),
    sa.Column("title", sa.Text, nullable=False),
    sa.Column("outlet", sa.Text, nullable=False),
    sa.Column("published_at", UtcDateTime),
    sa.Column("detected_at", UtcDateTime, nullable=False),
    sa.Column("fingerprint", sa.String(64), nullable=False, index=True),
    sa.Column("story_key", sa.Text, nullable=False, index=True),
    sa.UniqueConstraint("source_id", "item_key", name="uq_items_source_key"),
)

matches = sa.Table(
    "matches",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("item_id", sa.Integer, sa.ForeignKey("items.id", ondelete="CASCADE"), index=True),
    sa.Column("topic_id", sa.String(100), nullable=False),
    sa.Column("score", sa.Float, nullable=False),
    sa.Column("severity", sa.String(20), nullable=False),
    sa.Column("evidence_json", sa.Text, nullable=False),
    sa.UniqueConstraint("item_id", "topic_id", name="uq_matches_item_topic"),
)

outbox = sa.Table(
    "outbox",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("alert_key", sa.Text, nullable=False, unique=True),
    sa.Column("desk_id", sa.String(100), nullable=False),
    sa.Column("channel", sa.String(20), nullable=False),
    sa.Column("topic_id", sa.String(100), nullable=False),
    sa.Column("story_key", sa.Text, nullable=False),
    sa.Column("payload_json", sa.Text, nullable=False),
    # an OutboxStatus (monitors/store/rows.py); docs/DELIVERY.md says what each one means
    sa.Column("status", sa.String(20), nullable=False, index=True),
    sa.Column("attempts", sa.Integer, nullable=False, default=0),
    sa.Column("next_attempt_at", UtcDateTime, nullable=False),
    sa.Column("claimed_until", UtcDateTime),
    sa.Column("claim_token", sa.String(64)),
    sa.Column("last_error", sa.Text),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("sent_at", UtcDateTime),
)
sa.Index("ix_outbox_story_key", outbox.c.story_key)

stories = sa.Table(
    "stories",
    metadata,
    sa.Column("story_key", sa.Text, primary_key=True),
    # A signed 64-bit hash of story_key: the band rows refer to it instead of repeating the text.
    sa.Column("story_ref", sa.BigInteger, nullable=False, unique=True),
    sa.Column("first_seen", UtcDateTime, nullable=False),
    sa.Column("last_seen", UtcDateTime, nullable=False, index=True),
    sa.Column("title", sa.Text, nullable=False),
    sa.Column("url", sa.Text, nullable=False),
    sa.Column("signature", sa.LargeBinary, nullable=False),  # MinHash of up to 4 copies
    sa.Column("facts_json", sa.Text, nullable=False),  # figures any copy stated
    sa.Column("updates", sa.Integer, nullable=False, default=0),
    sa.Column("last_update_at", UtcDateTime),
)

# Lookup keys of stories: LSH bands of the member copies' signatures and the exact identity keys
# (canonical URL, GUID, text fingerprint, title) of every copy, all as signed 64-bit hashes.
story_bands = sa.Table(
    "story_bands",
    metadata,
    sa.Column("band_hash", sa.BigInteger, primary_key=True),
    sa.Column("story_ref", sa.BigInteger, primary_key=True, index=True),
    sqlite_with_rowid=False,  # two integers a row: the primary key is the table
)


def story_ref(story_key: str) -> int:
    """The signed 64-bit reference of a story key, as stored in the band rows."""
    digest = hashlib.blake2b(story_key.encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)
