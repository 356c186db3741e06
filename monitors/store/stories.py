"""Story persistence: assign a copy to a story in one locked transaction."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from monitors.dedup import Candidate, Identity, widened
from monitors.facts import Fact, facts_json, parse_facts
from monitors.models import NewItem, OutboxDraft, TopicMatch
from monitors.store.engine import insert_ignore, utc
from monitors.store.items import insert_item
from monitors.store.outbox import queue
from monitors.store.schema import items, outbox, stories, story_bands, story_ref

MAX_CANDIDATES = 50  # stories verified per copy; more only happens on boilerplate text
MAX_OTHERS = 20
MAX_FACTS = 1000
# Story assignment reads, decides and writes: one copy at a time per process (a poll runs its
# sources in threads) and per database on PostgreSQL (an advisory lock, for several workers).
STORY_LOCK = threading.RLock()
_PG_STORY_LOCK_ID = 0x64657364


@contextmanager
def story_session(engine: Engine) -> Iterator[StorySession]:
    """A locked transaction in which one copy is assigned a story and recorded."""
    with STORY_LOCK, engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(sa.select(sa.func.pg_advisory_xact_lock(_PG_STORY_LOCK_ID)))
        yield StorySession(conn)


@dataclass(frozen=True, slots=True)
class StoryState:
    """A stored story as the update decision and the alert planner need it."""

    facts: frozenset[Fact]
    updates: int
    last_update_at: datetime | None
    told: frozenset[tuple[str, str]]  # (desk, channel) pairs with an alert row for the story
    others: tuple[tuple[str, str], ...]


class StorySession:
    """Reads and writes of one copy's story step, inside the locked transaction."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def candidates(self, probe: Identity) -> list[Candidate]:
        """Stories sharing a lookup key with the copy, most keys shared first, oldest first."""
        layer_of = dict(probe.lookup)
        hits: dict[int, set[str]] = {}
        rows = self._conn.execute(
            sa.select(story_bands.c.band_hash, story_bands.c.story_ref).where(
                story_bands.c.band_hash.in_(list(layer_of))
            )
        )
        for row in rows:
            hits.setdefault(row.story_ref, set()).add(layer_of[row.band_hash])
        ranked = sorted(hits, key=lambda k: -len(hits[k]))[:MAX_CANDIDATES]
        found = self._conn.execute(
            sa.select(stories.c.story_key, stories.c.story_ref, stories.c.signature)
            .where(stories.c.story_ref.in_(ranked))
            .order_by(stories.c.first_seen, stories.c.story_key)
        )
        return [Candidate(r.story_key, frozenset(hits[r.story_ref]), r.signature) for r in found]

    def state(self, story_key: str, source_id: str) -> StoryState:
        """What the story already has: facts, updates, desks told, other outlets."""
        row = self._conn.execute(sa.select(stories).where(stories.c.story_key == story_key)).first()
        # By (desk, channel), not by key: rows keyed per topic by an older release count too.
        told = self._conn.execute(
            sa.select(outbox.c.desk_id, outbox.c.channel)
            .where(outbox.c.story_key == story_key)
            .distinct()
        )
        others = self._conn.execute(
            sa.select(items.c.outlet, items.c.url)
            .where(items.c.story_key == story_key, items.c.source_id != source_id)
            .order_by(items.c.id)
            .limit(MAX_OTHERS)
        )
        return StoryState(
            facts=parse_facts(row.facts_json) if row else frozenset(),
            updates=row.updates if row else 0,
            last_update_at=utc(row.last_update_at) if row else None,
            told=frozenset((t.desk_id, t.channel) for t in told),
            others=tuple((o.outlet, o.url) for o in others),
        )

    def record(
        self,
        item: NewItem,
        probe: Identity,
        found: Sequence[TopicMatch],
        drafts: Sequence[OutboxDraft],
        update: int = 0,
    ) -> int:
        """Store the copy, its matches, its story's keys and its alerts; return alerts queued."""
        insert_item(self._conn, item, found)
        self._keep_story(item, probe)
        queued = updates = 0
        for draft in drafts:
            inserted = queue(self._conn, draft, item.detected_at)
            queued += inserted
            updates += inserted and draft.kind == "update"
        if updates:
            self._conn.execute(
                stories.update()
                .where(stories.c.story_key == item.story_key)
                .values(updates=update, last_update_at=item.detected_at)
            )
        return queued

    def _keep_story(self, item: NewItem, probe: Identity) -> None:
        """Create the story or widen it: last seen, figures, members and this copy's keys."""
        now = item.detected_at
        row = self._conn.execute(
            sa.select(stories.c.facts_json, stories.c.signature).where(
                stories.c.story_key == item.story_key
            )
        ).first()
        keys = [(h, layer) for h, layer in probe.lookup if layer != "band"]
        if row is None:
            values = {"story_key": item.story_key, "story_ref": story_ref(item.story_key)}
            values |= {"first_seen": now, "last_seen": now}
            values |= {"title": item.title, "url": item.url, "signature": probe.signature}
            values |= {"facts_json": facts_json(probe.facts, MAX_FACTS), "updates": 0}
            self._conn.execute(stories.insert().values(**values))
            keys = list(probe.lookup)
        else:
            # The stored fact comes first, so it keeps the wording of the copy that stated it.
            facts = parse_facts(row.facts_json) | probe.facts
            values = {"last_seen": now, "facts_json": facts_json(facts, MAX_FACTS)}
            members = widened(row.signature, probe.signature)
            if members is not None:  # a differing copy: its bands find the story too
                values["signature"] = members
                keys = list(probe.lookup)
            self._conn.execute(
                stories.update().where(stories.c.story_key == item.story_key).values(**values)
            )
        ref = story_ref(item.story_key)
        rows = [{"band_hash": h, "story_ref": ref} for h, _ in keys]
        if rows:
            self._conn.execute(insert_ignore(self._conn, story_bands), rows)
