"""Closed vocabularies: reasons, statuses, severities and channel kinds keep their words.

The enums are StrEnums whose values are the words stored in the database, written in JSON
payloads and digests and printed by the CLI; these tests pin the words and the round trips.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime

import httpx
import pytest

from alerts.delivery.summaries import burst_summary, with_item
from alerts.digest.health import SourceCheck, source_health
from alerts.digest.text import problem_sources, source_line
from alerts.models import AlertMessage, Digest, DigestSource, SummaryItem
from flows.cli.report import print_cycle
from flows.poll import PollSummary
from flows.tasks import DeliverySummary
from monitors.fetch import Fetcher, FetchPolicy
from monitors.models import (
    HEALTHY,
    FetchReason,
    FetchResult,
    FetchStatus,
    SourceReport,
    SourceStatus,
)
from seeds.models import ChannelKind, ChannelSpec, DeskSpec, Severity, SourceKind, SourceSpec

NOW = datetime(2025, 3, 4, 12, 0, tzinfo=UTC)


# --- the words -------------------------------------------------------------------------------


def test_every_vocabulary_keeps_its_stored_words() -> None:
    assert [r.value for r in FetchReason] == [
        "ok",
        "not-modified",
        "timeout",
        "connect-error",
        "dns-error",
        "tls-error",
        "http-4xx",
        "http-5xx",
        "rate-limited",
        "too-large",
        "blocked-address",
        "bad-url",
        "protocol-error",
        "bad-feed",
    ]
    assert [s.value for s in SourceStatus] == [
        "ok",
        "not-modified",
        "failed",
        "silent",
        "never-checked",
        "not-due",
    ]
    assert [s.value for s in Severity] == ["low", "medium", "high"]
    assert [c.value for c in ChannelKind] == ["email", "slack", "file", "apprise"]


def test_members_are_their_words_in_comparisons_and_formatting() -> None:
    assert SourceStatus.NOT_MODIFIED == "not-modified" and FetchReason.HTTP_5XX == "http-5xx"
    assert f"{SourceStatus.FAILED}: {FetchReason.TIMEOUT}" == "failed: timeout"
    assert f"{ChannelKind.EMAIL:<6}|" == "email |"
    assert "ok" in HEALTHY and "failed" not in HEALTHY


def test_only_ok_and_not_modified_are_healthy() -> None:
    assert {s for s in SourceStatus if s.healthy} == {SourceStatus.OK, SourceStatus.NOT_MODIFIED}


def test_severity_ranks_low_below_medium_below_high() -> None:
    assert Severity.LOW.rank < Severity.MEDIUM.rank < Severity.HIGH.rank
    assert sorted(["high", "low", "medium"], key=lambda s: Severity(s).rank) == [
        "low",
        "medium",
        "high",
    ]


# --- fetch classification --------------------------------------------------------------------


def _respond(code: int) -> Callable[[httpx.Request], httpx.Response]:
    return lambda request: httpx.Response(code, request=request)


def _fail(exc: type[httpx.HTTPError], message: str) -> Callable[[httpx.Request], httpx.Response]:
    def handler(request: httpx.Request) -> httpx.Response:
        raise exc(message, request=request)  # type: ignore[call-arg]

    return handler


@pytest.mark.parametrize(
    ("handler", "status", "reason"),
    [
        (_respond(200), FetchStatus.OK, FetchReason.OK),
        (_respond(304), FetchStatus.NOT_MODIFIED, FetchReason.NOT_MODIFIED),
        (_respond(404), FetchStatus.HARD, FetchReason.HTTP_4XX),
        (_respond(429), FetchStatus.SOFT, FetchReason.RATE_LIMITED),
        (_respond(503), FetchStatus.SOFT, FetchReason.HTTP_5XX),
        (_fail(httpx.ConnectTimeout, "timed out"), FetchStatus.SOFT, FetchReason.TIMEOUT),
        (_fail(httpx.ConnectError, "refused"), FetchStatus.SOFT, FetchReason.CONNECT_ERROR),
        (
            _fail(httpx.ConnectError, "[Errno -2] Name or service not known"),
            FetchStatus.SOFT,
            FetchReason.DNS_ERROR,
        ),
        (
            _fail(httpx.ConnectError, "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed"),
            FetchStatus.HARD,
            FetchReason.TLS_ERROR,
        ),
        (_fail(httpx.UnsupportedProtocol, "no"), FetchStatus.HARD, FetchReason.BAD_URL),
        (_fail(httpx.RemoteProtocolError, "eof"), FetchStatus.SOFT, FetchReason.PROTOCOL_ERROR),
    ],
)
def test_every_fetch_outcome_carries_a_reason_member(
    handler: Callable[[httpx.Request], httpx.Response],
    status: FetchStatus,
    reason: FetchReason,
) -> None:
    fetcher = Fetcher(
        FetchPolicy(allow_private_networks=True), transport=httpx.MockTransport(handler)
    )
    result = fetcher.get("https://feed.example/rss.xml")
    fetcher.close()
    assert (result.status, result.reason) == (status, reason)
    assert type(result.reason) is FetchReason


def test_a_url_that_is_not_http_is_a_hard_bad_url() -> None:
    fetcher = Fetcher(FetchPolicy(), transport=httpx.MockTransport(_respond(200)))
    result = fetcher.get("ftp://feed.example/rss.xml")
    fetcher.close()
    assert result == FetchResult(FetchStatus.HARD, result.url, FetchReason.BAD_URL, result.detail)


# --- JSON round trips ------------------------------------------------------------------------


def _alert(**changes: object) -> AlertMessage:
    fields: dict[str, object] = {
        "alert_key": "newsdesk|slack|arms-transfers|story-1",
        "desk_id": "newsdesk",
        "desk_name": "News Desk",
        "channel": ChannelKind.SLACK,
        "topic_id": "arms-transfers",
        "topic_title": "Arms transfers",
        "severity": Severity.HIGH,
        "score": 6.0,
        "headline": "Shells cross the border",
        "url": "https://news.example/shells",
        "outlet": "Example News",
        "detected_at": NOW,
    }
    fields.update(changes)
    return AlertMessage.model_validate(fields)


def test_alert_payload_keeps_the_plain_words_and_reads_back_as_members() -> None:
    alert = _alert()
    payload = json.loads(alert.model_dump_json())
    assert (payload["channel"], payload["severity"]) == ("slack", "high")
    again = AlertMessage.model_validate_json(alert.model_dump_json())
    assert again == alert
    assert again.channel is ChannelKind.SLACK and again.severity is Severity.HIGH


def test_a_payload_queued_before_the_enums_still_reads() -> None:
    stored = _alert().model_dump(mode="json") | {"channel": "email", "severity": "low"}
    alert = AlertMessage.model_validate_json(json.dumps(stored))
    assert alert.channel is ChannelKind.EMAIL and alert.severity is Severity.LOW


def test_summary_items_keep_severity_and_the_summary_takes_the_highest() -> None:
    slack = ChannelSpec(kind=ChannelKind.SLACK, webhook="news")
    desk = DeskSpec(id="newsdesk", name="News Desk", topics=["arms-transfers"], channels=[slack])
    low, high = _alert(severity=Severity.LOW), _alert(alert_key="k2", severity=Severity.HIGH)
    summary = burst_summary(desk, low, NOW, NOW, 1, NOW)
    summary = with_item(with_item(summary, low), high)
    assert summary.severity is Severity.HIGH
    payload = json.loads(summary.model_dump_json())
    assert [i["severity"] for i in payload["items"]] == ["low", "high"]
    assert SummaryItem.model_validate(payload["items"][0]).severity is Severity.LOW


def test_source_report_serialises_status_and_reason_as_words() -> None:
    report = SourceReport(
        source_id="wire", status=SourceStatus.FAILED, reason=FetchReason.HTTP_5XX, detail="503"
    )
    dumped = report.model_dump(mode="json")
    assert (dumped["status"], dumped["reason"]) == ("failed", "http-5xx")
    again = SourceReport.model_validate_json(report.model_dump_json())
    assert again.status is SourceStatus.FAILED and again.reason is FetchReason.HTTP_5XX
    assert SourceReport(source_id="wire", status=SourceStatus.OK).reason is FetchReason.OK


@pytest.mark.parametrize("status", list(SourceStatus))
def test_digest_source_status_round_trips_through_json(status: SourceStatus) -> None:
    source = DigestSource(source_id="wire", name="Wire", status=status)
    assert json.loads(source.model_dump_json())["status"] == status.value
    assert DigestSource.model_validate_json(source.model_dump_json()).status is status


# --- stored strings read back ----------------------------------------------------------------

SPEC = SourceSpec(id="wire", name="Wire", kind=SourceKind.RSS, url="https://wire.example/rss")


@pytest.mark.parametrize(
    ("stored", "expected"),
    [
        ("ok", SourceStatus.OK),
        ("not-modified", SourceStatus.NOT_MODIFIED),
        ("failed", SourceStatus.FAILED),
        ("gone", SourceStatus.FAILED),  # a word the pipeline never writes counts as a failure
    ],
)
def test_stored_check_words_become_source_status_members(
    stored: str, expected: SourceStatus
) -> None:
    check = SourceCheck(stored, "http-5xx" if stored != "ok" else "ok", "", NOW, NOW, 0)
    health = source_health(SPEC, check, NOW, [], NOW)
    assert health.status is expected


# --- the words people read -------------------------------------------------------------------


def test_digest_source_lines_print_the_same_words() -> None:
    failed = DigestSource(
        source_id="feed",
        name="Feed",
        status=SourceStatus.FAILED,
        reason=FetchReason.HTTP_5XX,
        detail="HTTP 503",
        consecutive_failures=3,
    )
    never = DigestSource(source_id="new", name="New", status=SourceStatus.NEVER_CHECKED)
    assert source_line(failed, None) == "failed: http-5xx; HTTP 503; 3 failures in a row"
    assert source_line(never, None) == "never-checked"
    ok = DigestSource(source_id="ok", name="Ok", status=SourceStatus.NOT_MODIFIED)
    digest = Digest(
        desk_id="d",
        desk_name="D",
        date=NOW.date(),
        timezone="UTC",
        window_start=NOW,
        window_end=NOW,
        sources=[never, ok, failed],
    )
    assert [s.source_id for s in problem_sources(digest)] == ["feed", "new"]


def test_cli_cycle_report_prints_status_and_reason_words(
    capsys: pytest.CaptureFixture[str],
) -> None:
    reports = [
        SourceReport(source_id="wire", status=SourceStatus.OK, items_new=2),
        SourceReport(
            source_id="cache", status=SourceStatus.NOT_MODIFIED, reason=FetchReason.NOT_MODIFIED
        ),
        SourceReport(
            source_id="broken",
            status=SourceStatus.FAILED,
            reason=FetchReason.BAD_FEED,
            detail="not a feed",
        ),
    ]
    delivery = DeliverySummary(sent=0, retrying=0, failed=0, sent_alerts=[], errors=[])
    print_cycle(PollSummary(reports=reports, delivery=delivery), {})
    lines = capsys.readouterr().out.splitlines()
    rows = {line.split()[0]: line.split(maxsplit=5) for line in lines if line.startswith("  ")}
    assert rows["wire"][1] == "ok" and len(rows["wire"]) == 5
    assert rows["cache"][1] == "not-modified" and len(rows["cache"]) == 5
    assert rows["broken"][1] == "failed" and rows["broken"][5] == "bad-feed: not a feed"
    assert lines[-1] == "2 of 3 sources ok; 0 alerts sent."
