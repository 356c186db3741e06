"""One check of a source in progress: what was stored of it, and the schedule it leaves."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from monitors.models import FeedItem, FetchResult, PollMemo
from monitors.schedule import PollPolicy, decide, floors_from, remember
from monitors.store.rows import SourceState
from seeds.models import SourceSpec


@dataclass(frozen=True, slots=True)
class Check:
    """One check in progress: the source, what was stored of it, and when it started."""

    source: SourceSpec
    state: SourceState | None
    checked_at: datetime
    started: float
    polling: PollPolicy

    @property
    def first_poll(self) -> bool:
        """No check of this source ever worked: its feed is a back catalogue to us."""
        return self.state is None or self.state.last_ok_at is None

    def memo(
        self,
        result: FetchResult,
        *,
        failed: bool = False,
        new_items: int = 0,
        refresh: timedelta | None = None,
        body_hash: str | None = None,
    ) -> PollMemo:
        """When the source is due next, with the history the decision needs."""
        state = self.state
        history = state.recent_new if state else ()
        if not failed:
            history = remember(history, new_items, self.polling)
        failures = (state.consecutive_failures if state else 0) + 1 if failed else 0
        floors = floors_from(result.status_code, result.headers, self.checked_at, refresh)
        decision = decide(
            timedelta(minutes=self.source.poll_minutes),
            self.checked_at,
            failures=failures,
            recent_new=history,
            floors=floors,
            policy=self.polling,
        )
        return PollMemo(
            next_due_at=decision.next_due_at,
            recent_new=history,
            body_hash=body_hash,
            feed_refresh_s=int(refresh.total_seconds()) if refresh else None,
        )

    def kept_refresh(self) -> timedelta | None:
        """The feed's refresh hint from the last body read (a 304 has no body)."""
        seconds = self.state.feed_refresh_s if self.state else None
        return timedelta(seconds=seconds) if seconds else None

    def split_first_poll(self, fresh: list[FeedItem]) -> tuple[list[FeedItem], list[FeedItem]]:
        """(items to alert, back catalogue to record quietly); no catalogue after the first poll."""
        window = self.polling.first_poll_window
        if not self.first_poll or window is None:
            return fresh, []
        since = self.checked_at - window
        live = [i for i in fresh if i.published is not None and i.published >= since]
        return live, [i for i in fresh if i.published is None or i.published < since]
