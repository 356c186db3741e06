"""The `deskwatch` command line."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from monitors.errors import DeskwatchError
from monitors.store.rows import OutboxStatus

EXIT_OK = 0
EXIT_BAD_INPUT = 2
EXIT_PARTIAL = 3  # the cycle ran, but some sources failed or some alerts could not be delivered


def _seed_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--sources", type=Path, help="sources YAML (default: bundled seeds)")
    parser.add_argument("--topics", type=Path, help="topics YAML (default: bundled seeds)")
    parser.add_argument("--desks", type=Path, help="desks YAML (default: bundled seeds)")


def _outbox_parser(commands: Any) -> None:
    box = commands.add_parser(
        "outbox",
        help="alerts waiting or failed; retry or drop one",
        description="List outbox alerts (default: pending, claimed and failed), put one back "
        "in the queue (retry: due now, attempts reset) or drop it (kept, never sent).",
    )
    box.add_argument("action", nargs="?", default="list", choices=["list", "retry", "drop"])
    box.add_argument("id", nargs="?", type=int, help="alert id (retry, drop)")
    box.add_argument(
        "--status",
        action="append",
        choices=[*OutboxStatus, "all"],
        help="list only alerts with this status (repeatable)",
    )
    box.add_argument("--limit", type=int, default=50, help="list at most N alerts (default 50)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="deskwatch",
        description="Media monitoring: poll feeds and transcripts, match topics, alert desks.",
        epilog="Exit codes: 0 ok, 2 bad input or configuration, 3 partial failure.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = commands.add_parser("run", help="one full cycle: poll, deliver, write today's digest")
    _seed_options(run)

    demo = commands.add_parser("demo", help="the same cycle against a bundled offline site")
    demo.add_argument("--port", type=int, default=8765, help="replay site port (0: any free)")

    digest = commands.add_parser("digest", help="write the digest files for a day")
    digest.add_argument("--date", default="today", help="YYYY-MM-DD, 'today' or 'yesterday'")
    digest.add_argument("--desk", help="only this desk id")
    digest.add_argument(
        "--email",
        action="store_true",
        help="also email it to the desk (DESKWATCH_SMTP_URL, else an .eml under the outbox dir)",
    )
    _seed_options(digest)

    match = commands.add_parser("match", help="match .txt or .html files against the topics")
    match.add_argument("--topics", type=Path, help="topics YAML (default: bundled seeds)")
    match.add_argument("paths", nargs="+", type=Path, metavar="PATH")

    sources = commands.add_parser("sources", help="source utilities")
    sources_commands = sources.add_subparsers(dest="sources_command", required=True)
    check = sources_commands.add_parser("check", help="fetch every source once and report")
    check.add_argument("--sources", type=Path, help="sources YAML (default: bundled seeds)")

    _outbox_parser(commands)

    db = commands.add_parser("db", help="database utilities")
    db_commands = db.add_subparsers(dest="db_command", required=True)
    db_commands.add_parser("upgrade", help="migrate the state database to the newest schema")

    topics = commands.add_parser("topics", help="topic utilities")
    topics_commands = topics.add_subparsers(dest="topics_command", required=True)
    explain = topics_commands.add_parser("explain", help="why a file matches a topic or not")
    explain.add_argument("--topics", type=Path, help="topics YAML (default: bundled seeds)")
    explain.add_argument("topic_id", metavar="ID")
    explain.add_argument("path", type=Path, metavar="FILE")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return _dispatch(args)
    except DeskwatchError as exc:
        print(f"deskwatch: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        return 130


def _dispatch(args: argparse.Namespace) -> int:
    # Imports are local so that `match` and `--help` never pay for importing Prefect.
    if args.command == "match":
        from flows.cli.commands import match_files

        return match_files(args.topics, args.paths)
    if args.command == "topics":
        from flows.cli.commands import explain_topic

        return explain_topic(args.topics, args.topic_id, args.path)
    if args.command == "sources":
        from flows.cli.commands import check_sources

        return check_sources(args.sources)
    if args.command == "digest":
        from flows.cli.commands import write_digests

        return write_digests(
            args.date, args.desk, args.sources, args.topics, args.desks, args.email
        )
    if args.command == "outbox":
        from flows.cli.commands import outbox_command

        return outbox_command(args.action, args.id, args.status, args.limit)
    if args.command == "db":
        from flows.cli.commands import upgrade_database

        return upgrade_database()
    if args.command == "demo":
        from flows.local.demo import run_demo

        return run_demo(args.port)
    from flows.cli.commands import run_cycle

    return run_cycle(args.sources, args.topics, args.desks)


def print_json_line(value: object) -> None:
    print(json.dumps(value, ensure_ascii=False), flush=True)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
