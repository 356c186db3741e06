"""Source health for operators: when a source counts as dead or back, and what the desk is told.

Pure decisions over source health values (alerts.delivery.source_alerts); the digest's silence
rule (alerts.digest.health) decides what "silent" means.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from alerts.delivery.render_summary import email_message, slack_payload
from alerts.delivery.source_alerts import (
    SourceEvent,
    health_events,
    last_told,
    notice_drafts,
)
from alerts.digest.health import SourceCheck, source_health
from alerts.models import AlertMessage, DigestSource
from monitors.store.rows import StoryMark
from seeds.models import DeskSpec, SourceSpec

NOW = datetime(2024, 12, 17, 9, 0, tzinfo=UTC)
LAST_OK = NOW - timedelta(hours=1)
SPEC = SourceSpec(id="wire", name="Example Wire", kind="rss", url="https://wire.example/rss")
HOURLY = [NOW - timedelta(hours=h) for h in range(1, 40)]  # a new item every hour


def health(
    failures: int = 0, last_item: datetime | None = NOW - timedelta(hours=1)
) -> DigestSource:
    """The wire's health after `failures` failed checks in a row (0: its last check worked)."""
    check = SourceCheck(
        status="failed" if failures else "ok",
        reason="http-status" if failures else "ok",
        detail="HTTP 503" if failures else "",
        checked_at=NOW,
        ok_at=LAST_OK,
        consecutive_failures=failures,
    )
    recent = [t for t in HOURLY if last_item is not None and t <= last_item]
    return source_health(SPEC, check, last_item, recent, NOW)


def kinds(events: list[SourceEvent]) -> list[str]:
    return [e.kind for e in events]


def test_two_failures_are_not_yet_an_outage() -> None:
    assert health_events([health(failures=2)], {}, after_failures=3) == []


def test_the_third_failure_in_a_row_is_announced_as_down() -> None:
    (event,) = health_events([health(failures=3)], {}, after_failures=3)
    assert event.kind == "source-down"
    assert event.headline == "Example Wire: 3 failed checks in a row"
    assert "http-status (HTTP 503)" in event.details[0]
    assert event.story_key == "source-down:wire:2024-12-17T08:00:00Z"  # the outage's start


def test_the_number_of_failures_is_the_desks_to_choose() -> None:
    assert kinds(health_events([health(failures=1)], {}, after_failures=1)) == ["source-down"]


def test_a_source_told_down_is_not_told_again_while_it_keeps_failing() -> None:
    assert health_events([health(failures=4)], {"wire": "source-down"}, after_failures=3) == []


def test_a_source_much_quieter_than_usual_is_announced_as_down() -> None:
    # Items came every hour; none for five days (beyond the 48 h floor) although checks work.
    (event,) = health_events([health(last_item=NOW - timedelta(days=5))], {}, 3)
    assert event.kind == "source-down"
    assert event.headline.startswith("Example Wire: no new item for")
    assert event.story_key == "source-down:wire:2024-12-12T09:00:00Z"  # the last item


def test_a_source_that_never_brought_an_item_is_not_called_silent() -> None:
    assert health_events([health(last_item=None)], {}, 3) == []


def test_recovery_is_announced_only_after_an_announced_down() -> None:
    assert health_events([health()], {}, 3) == []
    (event,) = health_events([health()], {"wire": "source-down"}, 3)
    assert event.kind == "source-up"
    assert event.headline == "Example Wire: checks succeed again"


def test_a_source_back_from_failures_but_without_items_yet_is_announced_back() -> None:
    (event,) = health_events([health(last_item=None)], {"wire": "source-down"}, 3)
    assert event.kind == "source-up"


def test_a_silent_source_told_down_stays_down_until_items_come() -> None:
    quiet = health(last_item=NOW - timedelta(days=5))
    assert health_events([quiet], {"wire": "source-down"}, 3) == []


def test_a_failure_after_an_outage_neither_repeats_the_down_nor_announces_recovery() -> None:
    assert health_events([health(failures=1)], {"wire": "source-down"}, 3) == []


def test_after_a_recovery_a_new_outage_is_announced_again() -> None:
    told = last_told(
        [
            StoryMark("source-health", "source-down:wire:2024-12-16T08:00:00Z", NOW),
            StoryMark("source-health", "source-up:wire:2024-12-16T10:00:00Z", NOW),
        ]
    )
    assert told == {"wire": "source-up"}
    assert kinds(health_events([health(failures=3)], told, 3)) == ["source-down"]


def test_notices_are_keyed_per_desk_channel_and_outage() -> None:
    desk = DeskSpec.model_validate(
        {
            "id": "operators",
            "name": "Operators",
            "source_health": True,
            "channels": [{"kind": "email", "to": ["ops@newsroom.example"]}, {"kind": "file"}],
        }
    )
    events = health_events([health(failures=3)], {}, 3)
    drafts = notice_drafts(desk, events, {"wire": SPEC.url}, NOW)
    assert [d.alert_key for d in drafts] == [
        "operators|email|source-down:wire:2024-12-17T08:00:00Z",
        "operators|file|source-down:wire:2024-12-17T08:00:00Z",
    ]
    alert = AlertMessage.model_validate_json(drafts[0].payload_json)
    assert (alert.kind, alert.severity, alert.recipients) == (
        "source-down",
        "high",
        desk.channels[0].to,
    )
    email = email_message(alert, "deskwatch <ops@example.org>")
    assert email["Subject"] == "[deskwatch] Source down: Example Wire: 3 failed checks in a row"
    body = email.get_body(preferencelist=("plain",))
    assert body is not None and "Last error: http-status (HTTP 503)" in body.get_content()
    slack = slack_payload(alert.model_copy(update={"channel": "slack"}))
    assert str(slack["text"]).startswith("[deskwatch] Source down: Example Wire: 3")


def test_a_desk_follows_topics_unless_it_watches_sources() -> None:
    with pytest.raises(ValidationError, match="at least one topic"):
        DeskSpec.model_validate({"id": "d", "name": "D", "channels": [{"kind": "file"}]})


@pytest.mark.parametrize(
    ("fields", "emailed"),
    [
        ({}, False),
        ({"mode": "digest-only"}, True),
        ({"mode": "digest-only", "digest": {"email": False}}, False),
        ({"digest": {"email": True}}, True),
    ],
)
def test_the_digest_is_emailed_as_the_desk_says_else_when_it_is_all_the_desk_reads(
    fields: dict[str, object], emailed: bool
) -> None:
    base = {"id": "d", "name": "D", "topics": ["t"], "channels": [{"kind": "file"}]}
    assert DeskSpec.model_validate(base | fields).emails_digest is emailed
