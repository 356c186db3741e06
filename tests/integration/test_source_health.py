"""Source health end to end: the real store (SQLite and PostgreSQL), outbox and file channel.

An operators' desk reads email; with no SMTP server its messages land as .eml files, so each
file is one message the desk got. The wire fails three checks in a row, a fourth, then works.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email import policy
from email.parser import BytesParser
from pathlib import Path

import pytest

from alerts.delivery.channels import FileChannel
from alerts.delivery.outbox import Outbox, deliver_pending
from alerts.delivery.source_alerts import queue_source_notices
from monitors.models import FetchReason, SourceStatus
from monitors.store import Store, create_engine
from seeds.models import DeskSpec, Seeds, SourceSpec

START = datetime(2024, 12, 17, 9, 0, tzinfo=UTC)
WIRE = SourceSpec(id="wire", name="Example Wire", kind="rss", url="https://wire.example/rss")
OPERATORS = DeskSpec.model_validate(
    {
        "id": "operators",
        "name": "Operators",
        "source_health": {"after_failures": 3},
        "channels": [{"kind": "email", "to": ["ops@newsroom.example"]}],
    }
)
SEEDS = Seeds(sources=(WIRE,), topics=(), desks=(OPERATORS,))


@pytest.fixture
def store(database_url: str) -> Iterator[Store]:
    opened = Store(create_engine(database_url))
    yield opened
    opened.dispose()


def check(store: Store, outbox_dir: Path, minutes: int, ok: bool) -> list[str]:
    """Record one check of the wire, run the health check and deliver; subjects sent so far."""
    now = START + timedelta(minutes=minutes)
    if ok:
        store.record_check("wire", SourceStatus.OK, FetchReason.OK, "", now)
    else:
        store.record_check("wire", SourceStatus.FAILED, FetchReason.HTTP_5XX, "HTTP 503", now)
    queue_source_notices(store, SEEDS, now)
    channel = FileChannel(outbox_dir)
    report = deliver_pending(
        Outbox(store.outbox), lambda alert: channel, now=lambda: now, desks=SEEDS.desks
    )
    assert report.failed == 0
    parse = BytesParser(policy=policy.default)
    mails = [parse.parsebytes(p.read_bytes()) for p in sorted(outbox_dir.rglob("*.eml"))]
    return sorted(str(m["Subject"]).strip() for m in mails)


def test_a_dying_source_is_announced_once_and_its_recovery_once(
    store: Store, tmp_path: Path
) -> None:
    outbox_dir = tmp_path / "outbox"
    store.record_check("wire", SourceStatus.OK, FetchReason.OK, "", START)
    assert check(store, outbox_dir, 15, ok=False) == []
    assert check(store, outbox_dir, 30, ok=False) == []
    down = "[deskwatch] Source down: Example Wire: 3 failed checks in a row"
    assert check(store, outbox_dir, 45, ok=False) == [down]
    assert check(store, outbox_dir, 60, ok=False) == [down]  # a fourth failure: nothing new
    queue_source_notices(store, SEEDS, START + timedelta(minutes=61))  # a repeated check
    up = "[deskwatch] Source recovered: Example Wire: checks succeed again"
    assert check(store, outbox_dir, 75, ok=True) == [down, up]
    assert check(store, outbox_dir, 90, ok=True) == [down, up]
    keys = [e.alert_key for e in store.outbox.entries(["sent"], limit=10)]
    assert sorted(keys) == [
        "operators|email|source-down:wire:2024-12-17T09:00:00Z",
        "operators|email|source-up:wire:2024-12-17T10:15:00Z",
    ]


def test_quiet_hours_of_the_operators_desk_hold_the_notice_as_for_any_alert(
    store: Store, tmp_path: Path
) -> None:
    fields = OPERATORS.model_dump(by_alias=True, exclude_none=True)
    desk = DeskSpec.model_validate(fields | {"quiet_hours": {"start": "08:00", "end": "12:00"}})
    seeds = Seeds(sources=(WIRE,), topics=(), desks=(desk,))
    for minutes in (15, 30, 45):
        now = START + timedelta(minutes=minutes)
        store.record_check("wire", SourceStatus.FAILED, FetchReason.TIMEOUT, "", now)
    queue_source_notices(store, seeds, START + timedelta(minutes=45))
    channel = FileChannel(tmp_path / "outbox")
    at = START + timedelta(minutes=50)
    report = deliver_pending(
        Outbox(store.outbox), lambda alert: channel, now=lambda: at, desks=seeds.desks
    )
    assert (report.sent, report.held) == (0, 1)
