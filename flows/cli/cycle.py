"""The commands that run Prefect flows: `run` (poll, deliver, digest) and `digest`."""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path
from typing import cast

from prefect import State

from flows.cli.report import print_cycle
from flows.poll import Day, PollSummary, daily_digest, poll_flow, source_health
from flows.settings import Settings, load_settings
from flows.wiring import open_store, resolve_secrets, seeds_from
from monitors.errors import DeliveryError, DeskwatchError

EXIT_OK, EXIT_PARTIAL = 0, 3


def write_digests(
    day: str,
    desk: str | None,
    sources: Path | None,
    topics: Path | None,
    desks: Path | None,
    email: bool = False,
) -> int:
    """Write (and with `email`, send) each desk's digest; 3 when an email could not go."""
    when = parse_day(day)
    settings = load_settings()
    seeds = seeds_from(settings, sources, topics, desks)  # bad seeds stop before any run
    reach_store(settings)
    if desk is not None and desk not in {d.id for d in seeds.desks}:
        known = ", ".join(d.id for d in seeds.desks)
        raise DeskwatchError(f"--desk: unknown desk {desk!r} (known: {known})")
    try:
        written = daily_digest(when, desk, _str(sources), _str(topics), _str(desks), email)
    except DeliveryError as exc:
        print(f"deskwatch: digests written, but {exc}", file=sys.stderr)
        return EXIT_PARTIAL
    for desk_id, paths in written.items():
        print(f"digest {desk_id}: {paths[0]}")
    return EXIT_OK


def run_cycle(sources: Path | None, topics: Path | None, desks: Path | None) -> int:
    """Poll every source once, due or not, deliver, write today's digests, and print what
    happened.

    A cycle run by hand is the operator asking for everything now; the deployments poll only
    what is due.
    """
    settings = load_settings()
    seeds_from(settings, sources, topics, desks)  # a bad entry stops here, before any run
    reach_store(settings)
    summary = _poll(settings, sources, topics, desks)
    # Without a Prefect schedule this cycle is the only check an operators' desk gets; the run
    # prints what it queued, and its failures are the poll's (already in the exit code).
    source_health(_str(sources), _str(topics), _str(desks), return_state=True)
    # The cycle writes today's digest as it goes; emailing it is the scheduled run's business.
    written = daily_digest("today", None, _str(sources), _str(topics), _str(desks), False)
    print_cycle(summary, written)
    partial = summary.failed_sources or summary.delivery.retrying or summary.delivery.failed
    return EXIT_PARTIAL if partial else EXIT_OK


def reach_store(settings: Settings) -> None:
    """Open the state database once: one that cannot be reached stops here, not in a run."""
    open_store(resolve_secrets(settings)).dispose()


def parse_day(text: str) -> Day:
    """--date as the digest flow takes it: 'today', 'yesterday' or a date."""
    if text == "today":
        return "today"
    if text == "yesterday":
        return "yesterday"
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise DeskwatchError(f"--date: {text!r} is not YYYY-MM-DD, today or yesterday") from None


def _poll(
    settings: Settings, sources: Path | None, topics: Path | None, desks: Path | None
) -> PollSummary:
    """The poll run's summary, also when the run ended Failed because sources did."""
    run = poll_flow(settings)
    # Through `Flow[..., R]` mypy picks the plain overload; return_state=True gives a State.
    state = cast(
        State[PollSummary],
        run(_str(sources), _str(topics), _str(desks), force=True, return_state=True),
    )
    outcome = state.result(raise_on_failure=False)
    if isinstance(outcome, BaseException):  # the run failed before it had a summary
        raise outcome
    return outcome  # the report says which sources failed, and the exit code is 3


def _str(path: Path | None) -> str | None:
    return str(path) if path else None
