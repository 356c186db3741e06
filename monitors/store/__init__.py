"""The state store, the one owner of the database: source state, seen items and matches,
stories, the outbox, the digest's reads, retention and schema migrations.

SQLite (a file) by default; a `postgresql+psycopg://` URL works the same way. Callers get plain
typed rows (monitors/store/rows.py); no database type leaves this package.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from contextlib import AbstractContextManager
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from monitors.errors import StoreError
from monitors.models import (
    FetchReason,
    NewItem,
    OutboxDraft,
    PollMemo,
    SourceStatus,
    TopicMatch,
    Validators,
)
from monitors.store import items as _items
from monitors.store import sources as _sources
from monitors.store.digest import DigestReads, digest_reads
from monitors.store.engine import create_engine, utc
from monitors.store.migrate import upgrade_engine
from monitors.store.outbox import OutboxQueue, queue
from monitors.store.retention import prune
from monitors.store.rows import (
    ClaimedRow,
    MatchedItem,
    OutboxRow,
    OutboxStatus,
    SourceState,
    StoryMark,
    SummaryDraft,
)
from monitors.store.schema import items, matches, outbox, stories, story_bands
from monitors.store.settling import Settling
from monitors.store.stories import StorySession, StoryState, story_session

__all__ = [
    "ClaimedRow",
    "DigestReads",
    "MatchedItem",
    "OutboxQueue",
    "OutboxRow",
    "OutboxStatus",
    "Settling",
    "SourceState",
    "Store",
    "StoreError",
    "StoryMark",
    "StorySession",
    "StoryState",
    "SummaryDraft",
    "create_engine",
    "open_store",
    "upgrade",
    "utc",
]


class Store:
    """Everything a poll cycle and a digest read or write, behind plain-value methods.

    Opening a store upgrades its database to the newest schema revision first.
    """

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        upgrade_engine(engine)
        self.outbox = OutboxQueue(engine)

    @property
    def dialect(self) -> str:
        return self._engine.dialect.name

    @property
    def url(self) -> str:
        """The database URL, password included (for tools that open their own connection)."""
        return self._engine.url.render_as_string(hide_password=False)

    def dispose(self) -> None:
        self._engine.dispose()

    # -- sources -------------------------------------------------------------------------------
    def validators(self, source_id: str) -> Validators:
        return _sources.validators(self._engine, source_id)

    def record_check(
        self,
        source_id: str,
        status: SourceStatus,
        reason: FetchReason,
        detail: str,
        now: datetime,
        validators: Validators | None = None,
        memo: PollMemo | None = None,
    ) -> None:
        """Remember the outcome; validators change only when given (a modified, fully read body),
        the schedule and body hash only with a memo."""
        _sources.record_check(
            self._engine, source_id, status, reason, detail, now, validators, memo
        )

    def source_states(self) -> dict[str, SourceState]:
        return _sources.source_states(self._engine)

    def source_state(self, source_id: str) -> SourceState | None:
        """One source's stored state; None before its first check."""
        return _sources.state_of(self._engine, source_id)

    # -- items and stories ---------------------------------------------------------------------
    def seen_keys(self, source_id: str, keys: Iterable[str]) -> set[str]:
        return _items.seen_keys(self._engine, source_id, keys)

    def story_for(self, fingerprint: str, canonical_url: str) -> str | None:
        """The story an identical text or the same canonical URL already belongs to."""
        return _items.story_for(self._engine, fingerprint, canonical_url)

    def record_item(
        self, item: NewItem, found: Sequence[TopicMatch], drafts: Sequence[OutboxDraft]
    ) -> int:
        """Store an item, its matches and its alerts in one transaction; return alerts queued."""
        with self._engine.begin() as conn:
            _items.insert_item(conn, item, found)
            return sum(queue(conn, draft, item.detected_at) for draft in drafts)

    def story_session(self) -> AbstractContextManager[StorySession]:
        """A locked transaction in which one copy is assigned a story and recorded."""
        return story_session(self._engine)

    def prune(self, cutoff: datetime) -> dict[str, int]:
        """Delete stories, items, matches and finished alerts older than `cutoff`; counts."""
        return prune(self._engine, cutoff)

    def table_sizes(self) -> dict[str, int]:
        """Row counts of the tables that grow with traffic."""
        with self._engine.connect() as conn:
            return {
                t.name: int(conn.execute(sa.select(sa.func.count()).select_from(t)).scalar() or 0)
                for t in (items, matches, stories, story_bands, outbox)
            }

    # -- digest --------------------------------------------------------------------------------
    def digest_reads(self) -> AbstractContextManager[DigestReads]:
        """The digest's read-only queries, on one connection."""
        return digest_reads(self._engine)


def open_store(url: str) -> Store:
    """A store on `url`, upgraded; StoreError when the database cannot be reached."""
    engine = _engine_for(url)
    try:
        return Store(engine)
    except sa.exc.OperationalError as exc:
        engine.dispose()
        raise StoreError(f"database: cannot open: {_first_line(exc)}") from None


def upgrade(url: str) -> tuple[str | None, str]:
    """Upgrade the database at `url` to the newest revision; (revision before, after)."""
    engine = _engine_for(url)
    try:
        return upgrade_engine(engine)
    except sa.exc.OperationalError as exc:
        raise StoreError(f"database: cannot open: {_first_line(exc)}") from None
    finally:
        engine.dispose()


def _engine_for(url: str) -> Engine:
    try:
        return create_engine(url)
    except (sa.exc.ArgumentError, ImportError) as exc:
        raise StoreError(f"database: bad URL: {exc}") from None


def _first_line(exc: sa.exc.DBAPIError) -> str:
    lines = str(exc.orig).strip().splitlines()
    return lines[0] if lines else type(exc.orig).__name__
