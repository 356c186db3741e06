"""One source, end to end: fetch → parse → new items → extract → match → record → report."""

from __future__ import annotations

import hashlib
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
    FetchResult,
    FetchStatus,
    NewItem,
    OutboxDraft,
    ParsedFeed,
    PollMemo,
    SourceReport,
    SourceStatus,
    StoryNews,
    TopicMatch,
)
from monitors.polling import Check
from monitors.schedule import PollPolicy
from monitors.store import Store
from monitors.store.stories import StoryState
from monitors.transcripts import parse_transcript_index
from seeds.models import SourceKind, SourceSpec

log = logging.getLogger(__name__)

MAX_NEW_ITEMS_PER_CHECK = 50
DEFAULT_DEDUP = DedupPolicy()
DEFAULT_POLLING = PollPolicy()

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
    polling: PollPolicy = DEFAULT_POLLING,
) -> SourceReport:
    """Check one source; every failure becomes a report with a reason, never an exception."""
    check = Check(source, store.source_state(source.id), now(), time.monotonic(), polling)
    result = fetcher.get(source.url, store.validators(source.id))
    body_hash = hashlib.sha256(result.body).hexdigest() if result.status is FetchStatus.OK else None
    if result.status is FetchStatus.NOT_MODIFIED:
        return _unchanged(check, store, result, "")
    if body_hash is not None and check.state and body_hash == check.state.body_hash:
        # The server ignores conditional GET; the same bytes are no news either.
        return _unchanged(check, store, result, "same body as the last check")
    if result.status is not FetchStatus.OK:
        log.warning("source %s failed: %s (%s)", source.id, result.reason, result.detail)
        return _failed(check, store, result, result.reason, result.detail)
    try:
        parsed = _parse(source, result.body, result.headers, result.final_url or source.url)
    except (FeedParseError, ValueError) as exc:
        detail = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
        return _failed(check, store, result, FetchReason.BAD_FEED, detail)
    work = _Work(fetcher, store, matcher, plan_alerts, now, dedup)
    return _read_items(check, work, result, parsed, body_hash)


@dataclass(frozen=True, slots=True)
class _Work:
    """What recording new items needs: the adapters and the run's policies."""

    fetcher: Fetcher
    store: Store
    matcher: Matcher
    plan_alerts: AlertPlanner
    now: Callable[[], datetime]
    dedup: DedupPolicy


def _read_items(
    check: Check, work: _Work, result: FetchResult, parsed: ParsedFeed, body_hash: str | None
) -> SourceReport:
    """Record the feed's unseen items; a first poll alerts only those inside its window."""
    source, checked_at = check.source, check.checked_at
    # Entries older than the retention window would outlive their pruned state and alert again.
    recent = [
        i
        for i in parsed.items
        if not i.published or i.published >= checked_at - work.dedup.retention
    ]
    live, catalogue = check.split_first_poll(_unseen(work.store, source.id, recent))
    live = live[:MAX_NEW_ITEMS_PER_CHECK]
    outcomes = [_process_item(source, item, work) for item in live]
    # The whole back catalogue is recorded now (a later poll would alert what is left), its
    # pages fetched within the check's budget and the rest taken from the feed's own text.
    budget = MAX_NEW_ITEMS_PER_CHECK - len(live)
    quiet = [
        _process_item(source, item, work, quiet=True, fetch_page=n < budget)
        for n, item in enumerate(catalogue)
    ]
    failed = sum(not o.recorded for o in outcomes + quiet)
    memo = check.memo(
        result,
        new_items=sum(o.recorded for o in outcomes),
        refresh=parsed.refresh,
        # Validators and the body hash are kept only when every new item was recorded:
        # otherwise the next run would take the body as read and never retry the failed ones.
        body_hash=body_hash if failed == 0 else None,
    )
    detail = parsed.malformed or ""
    validators = result.validators if failed == 0 else None
    work.store.record_check(
        source.id, SourceStatus.OK, FetchReason.OK, detail, checked_at, validators, memo
    )
    return SourceReport(
        source_id=source.id,
        status=SourceStatus.OK,
        detail=detail,
        items_in_feed=len(parsed.items),
        items_new=sum(o.recorded for o in outcomes + quiet),
        items_catalogued=sum(o.recorded for o in quiet),
        items_failed=failed,
        matches=sum(o.matches for o in outcomes + quiet),
        alerts_queued=sum(o.alerts for o in outcomes),
        elapsed_s=round(time.monotonic() - check.started, 3),
        checked_at=checked_at,
        next_due_at=memo.next_due_at,
    )


def _unchanged(check: Check, store: Store, result: FetchResult, detail: str) -> SourceReport:
    """A 304, or a 200 with last check's bytes: nothing parsed, the schedule moves on."""
    state = check.state
    memo = check.memo(
        result,
        refresh=check.kept_refresh(),
        body_hash=state.body_hash if state else None,
    )
    status, reason = SourceStatus.NOT_MODIFIED, FetchReason.NOT_MODIFIED
    store.record_check(check.source.id, status, reason, detail, check.checked_at, memo=memo)
    return _report(check, status, reason, detail, memo)


def _failed(
    check: Check, store: Store, result: FetchResult, reason: FetchReason, detail: str
) -> SourceReport:
    """A failed check: kept with its reason, and the source backed off."""
    state = check.state
    memo = check.memo(
        result,
        failed=True,
        refresh=check.kept_refresh(),
        body_hash=state.body_hash if state else None,
    )
    status = SourceStatus.FAILED
    store.record_check(check.source.id, status, reason, detail, check.checked_at, memo=memo)
    return _report(check, status, reason, detail, memo)


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
    return list(fresh.values())  # capped by the caller: a back catalogue is recorded whole


def _process_item(
    source: SourceSpec,
    item: FeedItem,
    work: _Work,
    *,
    quiet: bool = False,
    fetch_page: bool = True,
) -> _ItemOutcome:
    """Extract, match and record one new item; a transient page failure leaves it for next run.

    A quiet item (a first poll's back catalogue) alerts nobody; without `fetch_page` it is read
    from the feed's own text.
    """
    store, matcher, dedup, now = work.store, work.matcher, work.dedup, work.now
    document = _document(source, item, work.fetcher if fetch_page else None)
    if document is None and quiet:  # a catalogue item is not retried: the feed's text will do
        document = Document(title=item.title, body=item.summary)
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
        drafts = [] if quiet else work.plan_alerts(new_item, found, news)
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


def _document(source: SourceSpec, item: FeedItem, fetcher: Fetcher | None) -> Document | None:
    """The article's main text; the feed's own text when the page is gone for good (or when
    there is no fetcher to get it)."""
    fallback = Document(title=item.title, body=item.summary)
    if fetcher is None or not source.fetch_articles or not item.url:
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
    check: Check, status: SourceStatus, reason: FetchReason, detail: str, memo: PollMemo
) -> SourceReport:
    return SourceReport(
        source_id=check.source.id,
        status=status,
        reason=reason,
        detail=detail,
        elapsed_s=round(time.monotonic() - check.started, 3),
        checked_at=check.checked_at,
        next_due_at=memo.next_due_at,
    )
