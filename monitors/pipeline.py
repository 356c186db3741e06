"""One source, end to end: fetch → parse → new items → extract → match → record → report."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from monitors.dedup import DedupPolicy, choose_story, identify, update_due
from monitors.errors import FeedParseError
from monitors.extract import extract_article
from monitors.facts import Fact, fact_changes
from monitors.feeds import parse_feed
from monitors.fetch import Fetcher
from monitors.match import Matcher
from monitors.models import (
    Document,
    FeedItem,
    FetchReason,
    FetchStatus,
    NewItem,
    OutboxDraft,
    ParsedFeed,
    SourceReport,
    SourceStatus,
    StoryNews,
    TopicMatch,
)
from monitors.store import Store
from monitors.store.stories import StoryState
from monitors.transcripts import parse_transcript_index
from seeds.models import SourceKind, SourceSpec

log = logging.getLogger(__name__)

MAX_NEW_ITEMS_PER_CHECK = 50
DEFAULT_DEDUP = DedupPolicy()

AlertPlanner = Callable[[NewItem, Sequence[TopicMatch], StoryNews], list[OutboxDraft]]


@dataclass(frozen=True, slots=True)
class _ItemOutcome:
    recorded: bool
    matches: int = 0
    alerts: int = 0


def check_source(
    source: SourceSpec,
    fetcher: Fetcher,
    store: Store,
    matcher: Matcher,
    plan_alerts: AlertPlanner,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
    *,
    dedup: DedupPolicy = DEFAULT_DEDUP,
) -> SourceReport:
    """Check one source; every failure becomes a report with a reason, never an exception."""
    started = time.monotonic()
    checked_at = now()
    result = fetcher.get(source.url, store.validators(source.id))
    if result.status is FetchStatus.NOT_MODIFIED:
        status, reason = SourceStatus.NOT_MODIFIED, FetchReason.NOT_MODIFIED
        store.record_check(source.id, status, reason, "", checked_at)
        return _report(source, status, reason, "", started, checked_at)
    if result.status is not FetchStatus.OK:
        store.record_check(source.id, SourceStatus.FAILED, result.reason, result.detail, checked_at)
        log.warning("source %s failed: %s (%s)", source.id, result.reason, result.detail)
        return _report(
            source, SourceStatus.FAILED, result.reason, result.detail, started, checked_at
        )
    try:
        parsed = _parse(source, result.body, result.headers, result.final_url or source.url)
    except (FeedParseError, ValueError) as exc:
        detail = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
        reason = FetchReason.BAD_FEED
        store.record_check(source.id, SourceStatus.FAILED, reason, detail, checked_at)
        return _report(source, SourceStatus.FAILED, reason, detail, started, checked_at)

    # Entries older than the retention window would outlive their pruned state and alert again.
    recent = [
        i for i in parsed.items if not i.published or i.published >= checked_at - dedup.retention
    ]
    fresh = _unseen(store, source.id, recent)
    outcomes = [
        _process_item(source, item, fetcher, store, matcher, plan_alerts, now, dedup)
        for item in fresh
    ]
    failed = sum(not o.recorded for o in outcomes)
    # Validators are kept only when every new item was recorded: otherwise the next run
    # would get a 304 and never retry the items that failed this time.
    store.record_check(
        source.id,
        SourceStatus.OK,
        FetchReason.OK,
        parsed.malformed or "",
        checked_at,
        validators=result.validators if failed == 0 else None,
    )
    return SourceReport(
        source_id=source.id,
        status=SourceStatus.OK,
        detail=parsed.malformed or "",
        items_in_feed=len(parsed.items),
        items_new=sum(o.recorded for o in outcomes),
        items_failed=failed,
        matches=sum(o.matches for o in outcomes),
        alerts_queued=sum(o.alerts for o in outcomes),
        elapsed_s=round(time.monotonic() - started, 3),
        checked_at=checked_at,
    )


def _parse(source: SourceSpec, body: bytes, headers: dict[str, str], url: str) -> ParsedFeed:
    if source.kind is SourceKind.TRANSCRIPT_PAGE:
        return parse_transcript_index(body, url, source.item_link_pattern)
    return parse_feed(body, headers, url)


def _unseen(store: Store, source_id: str, feed_items: Sequence[FeedItem]) -> list[FeedItem]:
    seen = store.seen_keys(source_id, (i.key for i in feed_items))
    fresh: dict[str, FeedItem] = {}
    for item in feed_items:
        if item.key not in seen and item.key not in fresh:
            fresh[item.key] = item
    return list(fresh.values())[:MAX_NEW_ITEMS_PER_CHECK]


def _process_item(
    source: SourceSpec,
    item: FeedItem,
    fetcher: Fetcher,
    store: Store,
    matcher: Matcher,
    plan_alerts: AlertPlanner,
    now: Callable[[], datetime],
    dedup: DedupPolicy,
) -> _ItemOutcome:
    """Extract, match and record one new item; a transient page failure leaves it for next run."""
    document = _document(source, item, fetcher)
    if document is None:
        return _ItemOutcome(recorded=False)
    found = matcher.match(document)
    probe = identify(document.title, document.body, item.url, item.key, dedup)
    with store.story_session() as session:
        joined = choose_story(probe, session.candidates(probe), dedup)
        new_item = NewItem(
            source_id=source.id,
            item_key=item.key,
            url=item.url or item.key,
            canonical_url=probe.canonical_url,
            title=document.title,
            outlet=source.name,
            published=item.published,
            detected_at=now(),
            fingerprint=probe.fingerprint,
            story_key=joined or probe.canonical_url,
        )
        news = StoryNews()
        if joined is not None:
            state = session.state(joined, source.id)
            news = story_news(state, probe.facts, new_item.detected_at, dedup)
        drafts = plan_alerts(new_item, found, news)
        queued = session.record(new_item, probe, found, drafts, news.update)
    return _ItemOutcome(recorded=True, matches=len(found), alerts=queued)


def story_news(
    state: StoryState, facts: frozenset[Fact], detected_at: datetime, dedup: DedupPolicy
) -> StoryNews:
    """A later copy of a known story: who was told, and whether its body brings a material fact."""
    # `facts` come from the copy's body alone: a new headline is a cosmetic edit, whatever
    # figures it has, and so are datelines, times and figures the story already had.
    changes = fact_changes(facts, state.facts)
    due = bool(changes) and update_due(state.last_update_at, detected_at, dedup)
    return StoryNews(
        told=state.told,
        update=state.updates + 1 if due else 0,
        changes=changes if due else (),
        others=state.others,
    )


def _document(source: SourceSpec, item: FeedItem, fetcher: Fetcher) -> Document | None:
    """The article's main text; the feed's own text when the page is gone for good."""
    fallback = Document(title=item.title, body=item.summary)
    if not source.fetch_articles or not item.url:
        return fallback
    page = fetcher.get(item.url)
    if page.status is FetchStatus.SOFT:
        log.info("article %s deferred: %s", item.url, page.reason)
        return None
    if page.status is not FetchStatus.OK:
        return fallback
    extracted = extract_article(page.body, page.final_url or item.url)
    if extracted is None:
        return fallback
    return Document(title=item.title or extracted.title, body=extracted.text)


def _report(
    source: SourceSpec,
    status: SourceStatus,
    reason: FetchReason,
    detail: str,
    started: float,
    checked_at: datetime,
) -> SourceReport:
    return SourceReport(
        source_id=source.id,
        status=status,
        reason=reason,
        detail=detail,
        elapsed_s=round(time.monotonic() - started, 3),
        checked_at=checked_at,
    )
