"""Schema migrations on SQLite and PostgreSQL: a database left by release 0.1 is upgraded in
place when a store opens it (or by `deskwatch db upgrade`), its rows kept and the item keys of
GUID-less feeds re-keyed by the canonical URL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from courlan import normalize_url

# Imported while collecting, as the CLI would: urllib3 then files its optional-dependency
# warning under its own filter instead of under the tests' "error".
from flows.cli import (
    commands,  # noqa: F401
    main,
)
from monitors.identity import canonical_url
from monitors.store import OutboxStatus, Store, create_engine, upgrade
from monitors.store.schema import metadata
from tests.support.peek import database
from tests.support.release_0_1_schema import create_release_0_1, items, outbox, source_state
from tests.support.release_0_1_schema import stories as stories_0_1

NOW = datetime(2024, 12, 17, 9, 0, tzinfo=UTC)
# A GUID-less feed whose articles differ only by ?idxno=: release 0.1 stored the first and
# took the others as seen (one key for all); its rows carry that collapsed key.
ARTICLE = "https://www.koreanews.example/news/articleView.html?idxno={n}"
# A feed with GUIDs: its keys are the GUIDs and stay as they are.
GUID = "tag:wire.example,2024:kursk-{n}"
# A tracked http link with a trailing slash: the old key kept http and dropped the slash.
HERALD = "http://herald.example/politics/troops-kursk/?utm_source=rss"


def legacy_key(url: str) -> str:
    """How release 0.1 keyed an entry without a GUID (strict normaliser, queries dropped)."""
    raw = url.strip()
    try:
        normalized = normalize_url(raw, strict=True)
    except (ValueError, AttributeError):
        normalized = raw
    return normalized.rstrip("/") if normalized.count("/") > 3 else normalized


def item_row(source: str, key: str, url: str, n: int) -> dict[str, object]:
    return {
        "source_id": source,
        "item_key": key,
        "url": url,
        "canonical_url": canonical_url(url),
        "title": f"North Korean troops in Kursk, report {n}",
        "outlet": source.title(),
        "published_at": NOW,
        "detected_at": NOW + timedelta(minutes=n),
        "fingerprint": f"fp{n}",
        "story_key": canonical_url(ARTICLE.format(n=1001)),
    }


def outbox_row(n: int, status: OutboxStatus) -> dict[str, object]:
    return {
        "alert_key": f"korea-desk|email|troop-deployment|s{n}",
        "desk_id": "korea-desk",
        "channel": "email",
        "topic_id": "troop-deployment",
        "story_key": canonical_url(ARTICLE.format(n=1001)),
        "payload_json": "{}",
        "status": status,
        "attempts": 1,
        "next_attempt_at": NOW,
        "created_at": NOW,
        "sent_at": NOW if status == OutboxStatus.SENT else None,
    }


def release_0_1_database(url: str) -> None:
    """Tables as release 0.1 made them, with a few rows it would have written."""
    engine = sa.create_engine(url)
    create_release_0_1(engine)
    engine.dispose()
    rows = [
        item_row("koreanews", legacy_key(ARTICLE.format(n=1001)), ARTICLE.format(n=1001), 1),
        item_row("wire", GUID.format(n=1), "https://wire.example/kursk-1", 2),
        item_row("herald", legacy_key(HERALD), HERALD, 3),
        # This source's GUID already is the canonical link of its other, GUID-less entry.
        item_row("mixed", canonical_url(ARTICLE.format(n=7)), ARTICLE.format(n=7), 4),
        item_row("mixed", legacy_key(ARTICLE.format(n=7)), ARTICLE.format(n=7), 5),
    ]
    statuses = [OutboxStatus.SENT, OutboxStatus.PENDING, OutboxStatus.FAILED]
    statuses += [OutboxStatus.SUPPRESSED]
    with database(url) as conn:
        conn.execute(items.insert(), rows)
        conn.execute(outbox.insert(), [outbox_row(n, s) for n, s in enumerate(statuses)])
        conn.execute(
            source_state.insert().values(
                source_id="koreanews", etag='"v1"', last_status="ok", consecutive_failures=0
            )
        )
        conn.execute(
            stories_0_1.insert().values(
                story_key=canonical_url(ARTICLE.format(n=1001)),
                story_ref=1,
                first_seen=NOW,
                last_seen=NOW,
                title="North Korean troops in Kursk",
                url=ARTICLE.format(n=1001),
                signature=b"\x00" * 16,
                facts_json="[]",
                updates=0,
            )
        )


def keys(url: str) -> dict[tuple[str, str], list[str]]:
    """(source, url) -> item keys, as stored."""
    found: dict[tuple[str, str], list[str]] = {}
    with database(url) as conn:
        for source_id, link, key in conn.execute(
            sa.select(items.c.source_id, items.c.url, items.c.item_key).order_by(items.c.id)
        ):
            found.setdefault((source_id, link), []).append(key)
    return found


def test_opening_a_release_0_1_database_upgrades_it_and_keeps_its_rows(database_url: str) -> None:
    release_0_1_database(database_url)
    store = Store(create_engine(database_url))
    try:
        assert store.table_sizes() == {
            "items": 5,
            "matches": 0,
            "stories": 1,
            "story_bands": 0,
            "outbox": 4,
        }
        assert store.outbox.counts() == {"sent": 1, "pending": 1, "failed": 1, "suppressed": 1}
        assert store.source_states()["koreanews"].last_status == "ok"
        assert store.validators("koreanews").etag == '"v1"'
        # The next article of the feed is new now; the stored one is still seen.
        first, second = canonical_url(ARTICLE.format(n=1001)), canonical_url(ARTICLE.format(n=1002))
        assert store.seen_keys("koreanews", [first, second]) == {first}
    finally:
        store.dispose()
    assert keys(database_url) == {
        ("koreanews", ARTICLE.format(n=1001)): [first],
        ("wire", "https://wire.example/kursk-1"): [GUID.format(n=1)],
        ("herald", HERALD): ["https://herald.example/politics/troops-kursk"],
        # the new key was taken by the source's GUID row: the old-style row keeps its key
        ("mixed", ARTICLE.format(n=7)): [
            canonical_url(ARTICLE.format(n=7)),
            legacy_key(ARTICLE.format(n=7)),
        ],
    }


def test_db_upgrade_command_reports_the_revisions_and_then_does_nothing(
    database_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    release_0_1_database(database_url)
    monkeypatch.setenv("DESKWATCH_STATE_URL", database_url)
    assert main(["db", "upgrade"]) == 0
    assert capsys.readouterr().out == "database: 0001 -> 0004\n"
    migrated = keys(database_url)
    assert main(["db", "upgrade"]) == 0
    assert capsys.readouterr().out == "database: 0004 -> 0004\n"
    assert keys(database_url) == migrated
    assert upgrade(database_url) == ("0004", "0004")


def test_a_fresh_database_is_created_by_the_migrations(database_url: str) -> None:
    assert upgrade(database_url) == (None, "0004")
    with database(database_url) as conn:
        assert conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar() == "0004"
        # What the code reads and writes is what the migrations made.
        assert compare_metadata(MigrationContext.configure(conn), metadata) == []


def test_upgraded_release_0_1_schema_is_the_fresh_schema(database_url: str) -> None:
    release_0_1_database(database_url)
    upgrade(database_url)
    with database(database_url) as conn:
        assert compare_metadata(MigrationContext.configure(conn), metadata) == []


def test_an_unreachable_database_is_a_one_line_error(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Nothing listens on port 1 of the loopback address.
    monkeypatch.setenv("DESKWATCH_STATE_URL", "postgresql+psycopg://desk:s3cret@127.0.0.1:1/dw")
    assert main(["db", "upgrade"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("deskwatch: database: cannot open") and err.count("\n") == 1
    assert "s3cret" not in err
