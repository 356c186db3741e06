"""State store on SQLAlchemy Core: source validators and health, seen items, matches, outbox,
stories with their lookup keys (exact identity keys and MinHash LSH bands).

SQLite (a file) by default; a `postgresql+psycopg://` URL works the same way.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine

from monitors.models import NewItem, OutboxDraft, TopicMatch, Validators

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
    # pending|claimed|sent|failed|suppressed|summarized|dropped: see alerts/outbox.py
    sa.Column("status", sa.String(20), nullable=False, index=True),
    sa.Column("attempts", sa.Integer, nullable=False, default=0),
    sa.Column("next_attempt_at", UtcDateTime, nullable=False),
    sa.Column("claimed_until", UtcDateTime),
    sa.Column("claim_token", sa.String(64)),
    sa.Column("last_error", sa.Text),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("sent_at", UtcDateTime),
)
# Added after the first release: created on existing databases too (see Store.__init__).
_outbox_story = sa.Index("ix_outbox_story_key", outbox.c.story_key)

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


# Outbox rows nobody will touch again (see docs/DELIVERY.md for what each status means).
FINAL_STATUSES = ("sent", "failed", "suppressed", "summarized", "dropped")


def utc(value: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes; everything stored is UTC."""
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def create_engine(url: str) -> Engine:
    """An engine with SQLite tuned for several writer threads (WAL, busy timeout)."""
    if url.startswith("sqlite"):
        engine = sa.create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})

        @sa.event.listens_for(engine, "connect")
        def _pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            # WAL with NORMAL sync survives a crash of the process; an fsync per commit made
            # every recorded item cost ~10 ms.
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        return engine
    return sa.create_engine(url, pool_pre_ping=True)


@dataclass(frozen=True, slots=True)
class SourceState:
    source_id: str
    last_status: str | None
    last_reason: str | None
    last_detail: str | None
    last_checked_at: datetime | None
    last_ok_at: datetime | None
    consecutive_failures: int


class Store:
    """Everything a poll cycle and a digest read or write, behind plain-value methods."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        metadata.create_all(engine)
        _outbox_story.create(engine, checkfirst=True)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def dispose(self) -> None:
        self.engine.dispose()

    # -- sources -------------------------------------------------------------------------------
    def validators(self, source_id: str) -> Validators:
        with self.engine.connect() as conn:
            row = conn.execute(
                sa.select(source_state.c.etag, source_state.c.last_modified).where(
                    source_state.c.source_id == source_id
                )
            ).first()
        return Validators(row.etag, row.last_modified) if row else Validators()

    def record_check(
        self,
        source_id: str,
        status: str,
        reason: str,
        detail: str,
        now: datetime,
        validators: Validators | None = None,
    ) -> None:
        """Remember the outcome; validators change only when given (a modified, fully read body)."""
        ok = status in ("ok", "not-modified")
        values: dict[str, Any] = {
            "last_checked_at": now,
            "last_status": status,
            "last_reason": reason,
            "last_detail": detail[:500],
        }
        if ok:
            values["last_ok_at"] = now
        if validators is not None:
            values["etag"], values["last_modified"] = validators.etag, validators.last_modified
        with self.engine.begin() as conn:
            current = conn.execute(
                sa.select(source_state.c.consecutive_failures).where(
                    source_state.c.source_id == source_id
                )
            ).scalar()
            values["consecutive_failures"] = 0 if ok else (current or 0) + 1
            if current is None:
                conn.execute(source_state.insert().values(source_id=source_id, **values))
            else:
                conn.execute(
                    source_state.update()
                    .where(source_state.c.source_id == source_id)
                    .values(**values)
                )

    def source_states(self) -> dict[str, SourceState]:
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(source_state)).mappings().all()
        return {
            row["source_id"]: SourceState(
                source_id=row["source_id"],
                last_status=row["last_status"],
                last_reason=row["last_reason"],
                last_detail=row["last_detail"],
                last_checked_at=utc(row["last_checked_at"]),
                last_ok_at=utc(row["last_ok_at"]),
                consecutive_failures=row["consecutive_failures"] or 0,
            )
            for row in rows
        }

    # -- items ---------------------------------------------------------------------------------
    def seen_keys(self, source_id: str, keys: Iterable[str]) -> set[str]:
        wanted = list(keys)
        if not wanted:
            return set()
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.select(items.c.item_key).where(
                    items.c.source_id == source_id, items.c.item_key.in_(wanted)
                )
            )
            return {row.item_key for row in rows}

    def story_for(self, fingerprint: str, canonical_url: str) -> str | None:
        """The story an identical text or the same canonical URL already belongs to."""
        with self.engine.connect() as conn:
            return conn.execute(
                sa.select(items.c.story_key)
                .where(
                    sa.or_(
                        items.c.fingerprint == fingerprint, items.c.canonical_url == canonical_url
                    )
                )
                .order_by(items.c.id)
                .limit(1)
            ).scalar()

    def record_item(
        self, item: NewItem, found: Sequence[TopicMatch], drafts: Sequence[OutboxDraft]
    ) -> int:
        """Store an item, its matches and its alerts in one transaction; return alerts queued."""
        with self.engine.begin() as conn:
            insert_item(conn, item, found)
            return sum(queue(conn, draft, item.detected_at) for draft in drafts)

    def table_sizes(self) -> dict[str, int]:
        """Row counts of the tables that grow with traffic."""
        with self.engine.connect() as conn:
            return {
                t.name: int(conn.execute(sa.select(sa.func.count()).select_from(t)).scalar() or 0)
                for t in (items, matches, stories, story_bands, outbox)
            }


def insert_item(conn: Connection, item: NewItem, found: Sequence[TopicMatch]) -> None:
    item_id = conn.execute(items.insert().values(**_item_row(item))).inserted_primary_key
    assert item_id is not None
    for match in found:
        conn.execute(matches.insert().values(**_match_row(item_id[0], match)))


def _item_row(item: NewItem) -> dict[str, Any]:
    row = asdict(item)
    row["published_at"] = row.pop("published")
    return row


def _match_row(item_id: int, match: TopicMatch) -> dict[str, Any]:
    evidence = [
        {"text": e.text, "start": e.start, "end": e.end, "highlights": list(e.highlights)}
        for e in match.evidence
    ]
    return {
        "item_id": item_id,
        "topic_id": match.topic,
        "score": match.score,
        "severity": match.severity,
        "evidence_json": json.dumps(evidence, ensure_ascii=False),
    }


def queue(conn: Connection, draft: OutboxDraft, now: datetime) -> int:
    """Insert an outbox row unless its alert key exists; 1 when inserted."""
    values = {**asdict(draft), "status": "pending", "attempts": 0}
    values |= {"next_attempt_at": now, "created_at": now}
    del values["kind"]  # the payload says new or update; the row does not need to
    stmt = insert_ignore(conn, outbox).values(**values)
    return len(conn.execute(stmt.returning(outbox.c.id)).all())


def insert_ignore(conn: Connection, table: sa.Table) -> Any:
    """INSERT … ON CONFLICT DO NOTHING on the two supported databases."""
    dialect = conn.dialect.name
    if dialect == "postgresql":
        return postgresql.insert(table).on_conflict_do_nothing()
    if dialect == "sqlite":
        return sqlite.insert(table).on_conflict_do_nothing()
    raise RuntimeError(f"unsupported database {dialect}")  # pragma: no cover
