"""The commands that need no Prefect: match, topics explain, sources check, outbox."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from flows.settings import load_settings
from monitors.errors import DeskwatchError, SeedError
from monitors.extract import extract_article
from monitors.match import Matcher
from monitors.models import Document, FetchStatus
from seeds.loader import bundled_seed_path, load_file
from seeds.models import SourcesFile, TopicsFile

if TYPE_CHECKING:
    from monitors.store import OutboxRow, OutboxStatus

EXIT_OK, EXIT_BAD_INPUT, EXIT_PARTIAL = 0, 2, 3


def read_document(path: Path) -> Document:
    """A .txt file (first line is the title) or an HTML file (main text extracted)."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise DeskwatchError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    if path.suffix.lower() in (".html", ".htm"):
        extracted = extract_article(raw, path.resolve().as_uri())
        return Document(extracted.title, extracted.text) if extracted else Document("", "")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DeskwatchError(f"{path}: not UTF-8 text (byte {exc.start})") from exc
    title, _, body = text.partition("\n")
    return Document(title.strip(), body.strip())


def _matcher(topics_path: Path | None) -> Matcher:
    return Matcher(load_file(topics_path or bundled_seed_path("topics.yaml"), TopicsFile).topics)


def match_files(topics_path: Path | None, paths: Sequence[Path]) -> int:
    """One JSON line per input: {"path", "matches": [{"topic", "score", "evidence": [...]}]}."""
    matcher = _matcher(topics_path)
    status = EXIT_OK
    for path in paths:
        try:
            document = read_document(path)
        except DeskwatchError as exc:
            print(f"deskwatch: {exc}", file=sys.stderr)
            status = EXIT_BAD_INPUT
            continue
        found = matcher.match(document)
        line = {
            "path": str(path),
            "matches": [
                {
                    "topic": m.topic,
                    "score": m.score,
                    "evidence": [
                        {"text": e.text, "start": e.start, "end": e.end} for e in m.evidence
                    ],
                }
                for m in found
            ],
        }
        print(json.dumps(line, ensure_ascii=False), flush=True)
    return status


def explain_topic(topics_path: Path | None, topic_id: str, path: Path) -> int:
    """Print which terms of each group occur, which clauses hold, the score and the verdict."""
    matcher = _matcher(topics_path)
    if topic_id not in {t.id for t in matcher.topics}:
        known = ", ".join(t.id for t in matcher.topics)
        raise SeedError(f"unknown topic {topic_id!r} (known: {known})")
    document = read_document(path)
    why = matcher.explain(document, topic_id)
    topic = why.topic
    print(f"topic {topic.id}: {topic.title} (severity {topic.severity})")
    print("groups")
    for name, located in why.group_hits.items():
        words = [f"{document.text[h.hit.start : h.hit.end]} ({h.field})" for h in located[:8]]
        more = f" … {len(located) - 8} more" if len(located) > 8 else ""
        print(f"  {name:<16} {', '.join(words) + more if words else '-'}")
    print("rule")
    for clause in why.clauses:
        print(f"  [{'x' if clause.holds else ' '}] {clause.path:<12} {clause.text}")
    for clause in why.exclusions:
        state = "SUPPRESSES" if clause.holds else "does not hold"
        print(f"  exclude {clause.path:<12} {clause.text}: {state}")
    verdict = "MATCH" if why.match else "no match"
    print(f"score {why.score} / threshold {topic.threshold}: {verdict}")
    for evidence in why.match.evidence if why.match else ():
        print(f"  [{evidence.start}:{evidence.end}] {evidence.text}")
    return EXIT_OK


def check_sources(sources_path: Path | None) -> int:
    """Fetch each source once, without touching stored state, and report reachability."""
    from flows.wiring import build_fetcher

    settings = load_settings()
    sources = load_file(sources_path or bundled_seed_path("sources.yaml"), SourcesFile).sources
    fetcher = build_fetcher(settings)
    failed = 0
    try:
        for source in sources:
            result = fetcher.get(source.url)
            ok = result.status is FetchStatus.OK
            failed += not ok
            detail = f"{len(result.body)} bytes" if ok else f"{result.reason} {result.detail}"
            print(f"{source.id:<28} {result.status.value:<6} {detail[:90]}")
    finally:
        fetcher.close()
    return EXIT_OK if failed == 0 else EXIT_PARTIAL


def outbox_command(action: str, row_id: int | None, statuses: list[str] | None, limit: int) -> int:
    """`deskwatch outbox [list|retry ID|drop ID]`: one line per alert, or per change."""
    from datetime import UTC, datetime

    from flows.wiring import open_store, resolve_secrets
    from monitors.store import OutboxStatus

    if action != "list" and row_id is None:
        raise DeskwatchError(f"outbox {action}: give the alert id (see `deskwatch outbox`)")
    every = statuses and "all" in statuses
    chosen = list(OutboxStatus) if every else [OutboxStatus(s) for s in statuses or ()]
    store = open_store(resolve_secrets(load_settings()))
    try:
        now = datetime.now(UTC)
        if action == "retry":
            before = store.outbox.retry(row_id or 0, now)
            print(f"alert {row_id}: {before} -> pending, due now")
        elif action == "drop":
            before = store.outbox.drop(row_id or 0, now)
            print(f"alert {row_id}: {before} -> dropped")
        else:
            wanted = chosen or OutboxStatus.waiting()
            _print_outbox(store.outbox.list_rows(wanted, limit), wanted)
    finally:
        store.dispose()
    return EXIT_OK


def upgrade_database() -> int:
    """`deskwatch db upgrade`: migrate the state database, print `database: 0001 -> 0002`."""
    from flows.wiring import resolve_secrets
    from monitors.store import upgrade

    before, after = upgrade(resolve_secrets(load_settings()).state_url.get_secret_value())
    print(f"database: {before or 'empty'} -> {after}")
    return EXIT_OK


def _print_outbox(rows: Sequence[OutboxRow], statuses: Sequence[OutboxStatus]) -> None:
    """A header and one line per alert: id, status, desk, channel, topic, tries, due, error."""
    if not rows:
        print(f"no {', '.join(statuses)} alerts")
        return
    print(
        f"{'id':>6}  {'status':<10} {'desk':<16} {'channel':<7} {'topic':<24} {'tries':>5}  "
        f"{'next attempt':<17}  last error"
    )
    for row in rows:
        due = row.next_attempt_at.strftime("%Y-%m-%d %H:%MZ") if row.next_attempt_at else "-"
        error = " ".join((row.last_error or "").split())[:70]
        print(
            f"{row.id:>6}  {row.status:<10} {row.desk_id[:16]:<16} {row.channel[:7]:<7} "
            f"{row.topic_id[:24]:<24} {row.attempts:>5}  {due:<17}  {error}"
        )
