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
    from alerts.models import AlertMessage
    from flows.settings import Settings
    from monitors.store import OutboxStatus, Store
    from monitors.store.rows import OutboxEntry

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
    """`deskwatch outbox [list|show ID|retry ID|drop ID]`: one line per alert or change, or one
    alert as sent."""
    from datetime import UTC, datetime

    from flows.wiring import open_store, resolve_secrets
    from monitors.store import OutboxStatus

    if action != "list" and row_id is None:
        raise DeskwatchError(f"outbox {action}: give the alert id (see `deskwatch outbox`)")
    every = statuses and "all" in statuses
    chosen = list(OutboxStatus) if every else [OutboxStatus(s) for s in statuses or ()]
    settings = resolve_secrets(load_settings())
    store = open_store(settings)
    try:
        now = datetime.now(UTC)
        if action == "show":
            print(_shown(store, row_id or 0, settings), end="")
        elif action == "retry":
            before = store.outbox.retry(row_id or 0, now)
            print(f"alert {row_id}: {before} -> pending, due now")
        elif action == "drop":
            before = store.outbox.drop(row_id or 0, now)
            print(f"alert {row_id}: {before} -> dropped")
        else:
            wanted = chosen or OutboxStatus.waiting()
            _print_outbox(store.outbox.entries(wanted, limit), wanted)
    finally:
        store.dispose()
    return EXIT_OK


def upgrade_database() -> int:
    """`deskwatch db upgrade`: migrate the state database, print `database: 0001 -> 0004`."""
    from flows.wiring import resolve_secrets
    from monitors.store import upgrade

    before, after = upgrade(resolve_secrets(load_settings()).state_url.get_secret_value())
    print(f"database: {before or 'empty'} -> {after}")
    return EXIT_OK


LINE_MAX = 150  # a listed alert fits one line of a wide terminal
HEADLINE_MAX = 38


def _print_outbox(entries: Sequence[OutboxEntry], statuses: Sequence[OutboxStatus]) -> None:
    """A header and one line per alert: id, status, desk, channel, topic, tries, due, headline
    and as much of the last error as fits (`outbox show ID` prints all of it)."""
    if not entries:
        print(f"no {', '.join(statuses)} alerts")
        return
    print(
        f"{'id':>6}  {'status':<10} {'desk':<14} {'channel':<7} {'topic':<18} {'tries':>5}  "
        f"{'next attempt':<17}  {'headline':<{HEADLINE_MAX}}  last error"
    )
    for entry in entries:
        row = entry.row
        due = row.next_attempt_at.strftime("%Y-%m-%d %H:%MZ") if row.next_attempt_at else "-"
        line = (
            f"{row.id:>6}  {row.status:<10} {row.desk_id[:14]:<14} {row.channel[:7]:<7} "
            f"{row.topic_id[:18]:<18} {row.attempts:>5}  {due:<17}  "
            f"{_headline(entry.payload_json):<{HEADLINE_MAX}}  "
        )
        print((line + _cut(row.last_error or "", LINE_MAX - len(line))).rstrip())


def _headline(payload_json: str) -> str:
    """The alert's headline, on one line and cut to the column; read leniently, as stored."""
    try:
        payload = json.loads(payload_json)
    except ValueError:
        return "(unreadable payload)"
    headline = payload.get("headline") if isinstance(payload, dict) else None
    return _cut(headline if isinstance(headline, str) else "-", HEADLINE_MAX)


def _cut(text: str, limit: int) -> str:
    """Text on one line, at most `limit` characters, ending in an ellipsis when cut."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: max(limit - 1, 0)].rstrip() + "…"


def _shown(store: Store, row_id: int, settings: Settings) -> str:
    """The header block of one alert, a blank line, and the message its channel sends."""
    from pydantic import ValidationError

    from alerts.models import AlertMessage

    entry = store.outbox.entry(row_id)
    if entry is None:
        raise DeskwatchError(f"outbox: no alert with id {row_id}")
    row = entry.row
    due = row.next_attempt_at.isoformat(timespec="seconds") if row.next_attempt_at else "-"
    header = [
        f"id:           {row.id}",
        f"status:       {row.status}",
        f"attempts:     {row.attempts}",
        f"next attempt: {due}",
        f"last error:   {' '.join((row.last_error or '-').split())}",
        f"alert key:    {entry.alert_key}",
    ]
    try:
        alert = AlertMessage.model_validate_json(entry.payload_json)
    except ValidationError as exc:
        header.append(f"payload:      unreadable ({exc.error_count()} error(s)), as stored:")
        return "\n".join(header) + "\n\n" + entry.payload_json + "\n"
    return "\n".join(header) + "\n\n" + _as_sent(alert, settings)


def _as_sent(alert: AlertMessage, settings: Settings) -> str:
    """What the alert's channel sends, or what the file channel writes, as text."""
    from alerts.delivery.apprise_channel import render_notice
    from alerts.delivery.channels import FILE_SENDER, EmailTransport, email_transport
    from alerts.delivery.render_summary import email_message, slack_json
    from seeds.models import ChannelKind

    if alert.channel is ChannelKind.EMAIL:
        smtp = email_transport(alert.recipients, settings.smtp_url is not None)
        sender = settings.smtp_sender if smtp is EmailTransport.SMTP else FILE_SENDER
        return email_message(alert, sender).as_bytes().decode("utf-8", "replace")
    if alert.channel is ChannelKind.APPRISE:
        notice = render_notice(alert)
        return f"title: {notice.title}\n\n{notice.body}\n"
    return slack_json(alert)  # Slack, and the file channel's .slack.json
