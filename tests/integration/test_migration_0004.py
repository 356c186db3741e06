"""Revision 0004 on SQLite and PostgreSQL: source_state gains the schedule columns; a source
stored by revision 0003 keeps its validators and health and is due at the next run; the
schedule a check leaves is read back as it was written."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from alembic import command

from flows.poll import split_due
from monitors.models import FetchReason, PollMemo, SourceStatus
from monitors.store import Store, create_engine
from monitors.store.migrate import _config
from seeds.models import SourceKind, SourceSpec
from tests.support.peek import database
from tests.support.release_0_1_schema import create_release_0_1, source_state

NOW = datetime(2025, 3, 4, 12, 0, tzinfo=UTC)
WIRE = SourceSpec(id="wire", name="Wire", kind=SourceKind.RSS, url="https://wire.example/rss")


def database_at_0003(url: str) -> None:
    """Release 0.1's tables upgraded to revision 0003, with one source's stored state."""
    engine = sa.create_engine(url)
    create_release_0_1(engine)
    with engine.begin() as conn:
        config = _config(conn)
        command.stamp(config, "0001")
        command.upgrade(config, "0003")
        conn.execute(
            source_state.insert().values(
                source_id="wire",
                etag='"v7"',
                last_status="failed",
                last_reason="http-5xx",
                consecutive_failures=3,
            )
        )
    engine.dispose()


def test_a_source_stored_by_0003_keeps_its_state_and_is_due(database_url: str) -> None:
    database_at_0003(database_url)
    store = Store(create_engine(database_url))
    try:
        state = store.source_states()["wire"]
        assert (state.last_status, state.consecutive_failures) == ("failed", 3)
        assert store.validators("wire").etag == '"v7"'
        assert (state.next_due_at, state.recent_new, state.body_hash) == (None, (), None)
        due, waiting = split_due([WIRE], store.source_states(), NOW)
        assert due == [WIRE] and waiting == {}
    finally:
        store.dispose()
    with database(database_url) as conn:
        assert conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar() == "0004"


def test_the_schedule_a_check_leaves_is_read_back(database_url: str) -> None:
    store = Store(create_engine(database_url))
    memo = PollMemo(
        next_due_at=NOW + timedelta(hours=1),
        recent_new=(0, 2, 1),
        body_hash="ab" * 32,
        feed_refresh_s=5400,
    )
    try:
        store.record_check("wire", SourceStatus.OK, FetchReason.OK, "", NOW, memo=memo)
        state = store.source_state("wire")
        assert state is not None
        assert (state.next_due_at, state.recent_new) == (NOW + timedelta(hours=1), (0, 2, 1))
        assert (state.body_hash, state.feed_refresh_s) == ("ab" * 32, 5400)
        assert store.source_state("elsewhere") is None
        due, waiting = split_due([WIRE], store.source_states(), NOW + timedelta(minutes=59))
        assert due == [] and waiting["wire"].status is SourceStatus.NOT_DUE
        forced, _ = split_due([WIRE], store.source_states(), NOW, force=True)
        assert forced == [WIRE]
    finally:
        store.dispose()
