"""The `deskwatch` command line."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from monitors.errors import DeskwatchError

EXIT_OK = 0
EXIT_BAD_INPUT = 2
EXIT_PARTIAL = 3  # the cycle ran, but some sources failed or some alerts could not be delivered

# What each command runs, as "module:function", and the arguments it takes from the command line
# (keyed by the leaf parser's `command_key`). `_dispatch` imports the module only when its
# command runs: `--help`, `match` and `topics explain` never import Prefect or the state store,
# which cost seconds; `run`, `digest` and `demo` import them (flows.cli.cycle).
Arguments = Callable[[argparse.Namespace], tuple[object, ...]]
COMMANDS: dict[str, tuple[str, Arguments]] = {
    "run": ("flows.cli.cycle:run_cycle", lambda a: (a.sources, a.topics, a.desks)),
    "demo": ("flows.local.demo:run_demo", lambda a: (a.port,)),
    "digest": (
        "flows.cli.cycle:write_digests",
        lambda a: (a.date, a.desk, a.sources, a.topics, a.desks, a.email),
    ),
    "match": ("flows.cli.commands:match_files", lambda a: (a.topics, a.paths)),
    "sources check": ("flows.cli.commands:check_sources", lambda a: (a.sources,)),
    "outbox": ("flows.cli.commands:outbox_command", lambda a: (a.action, a.id, a.status, a.limit)),
    "db upgrade": ("flows.cli.commands:upgrade_database", lambda a: ()),
    "topics explain": (
        "flows.cli.commands:explain_topic",
        lambda a: (a.topics, a.topic_id, a.path),
    ),
    "sources list": ("flows.cli.health:list_sources", lambda a: (a.sources,)),
    "notify test": ("flows.cli.health:notify_test", lambda a: (a.desk, a.desks)),
    "operators setup": ("flows.cli.operators:setup_operators", lambda a: ()),
    "replay serve": ("flows.cli.replay_cmd:serve_replay", lambda a: (a.port, a.write_sources)),
}


def _seed_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--sources", type=Path, help="sources YAML (default: bundled seeds)")
    parser.add_argument("--topics", type=Path, help="topics YAML (default: bundled seeds)")
    parser.add_argument("--desks", type=Path, help="desks YAML (default: bundled seeds)")


class _OutboxStatusChoices:
    """`--status` choices: the store's outbox statuses and "all", read when first needed.

    Importing the store costs about a second; only `outbox` needs its statuses, not `--help`.
    """

    def _names(self) -> list[str]:
        from monitors.store.rows import OutboxStatus

        return [*(status.value for status in OutboxStatus), "all"]

    def __contains__(self, value: object) -> bool:
        return value in self._names()

    def __iter__(self) -> Iterator[str]:
        return iter(self._names())


def _outbox_parser(commands: Any) -> None:
    box = commands.add_parser(
        "outbox",
        help="alerts waiting or failed; show, retry or drop one",
        description="List outbox alerts (default: pending, claimed and failed), show one as "
        "it was (or will be) sent, put one back in the queue (retry: due now, attempts reset) "
        "or drop it (kept, never sent).",
    )
    box.set_defaults(command_key="outbox")
    box.add_argument("action", nargs="?", default="list", choices=["list", "show", "retry", "drop"])
    box.add_argument("id", nargs="?", type=int, help="alert id (show, retry, drop)")
    box.add_argument(
        "--status",
        action="append",
        choices=_OutboxStatusChoices(),
        metavar="STATUS",  # a metavar: argparse would list the choices while building the parser
        help="list only alerts with this status, one of %(choices)s (repeatable)",
    )
    box.add_argument("--limit", type=int, default=50, help="list at most N alerts (default 50)")


def _notify_parser(commands: Any) -> None:
    notify = commands.add_parser("notify", help="test a desk's channels")
    notify_commands = notify.add_subparsers(dest="notify_command", required=True)
    test = notify_commands.add_parser(
        "test",
        help="send a test message through each of the desk's channels now",
        description="Send a test message through each channel of the desk at once (no quiet "
        "hours, no outbox) and say per channel where it went or why it failed; exit 3 if any "
        "channel failed.",
    )
    test.set_defaults(command_key="notify test")
    test.add_argument("--desk", required=True, metavar="ID", help="the desk id")
    test.add_argument("--desks", type=Path, help="desks YAML (default: bundled seeds)")


def _operator_parsers(commands: Any) -> None:
    operators = commands.add_parser("operators", help="the operators' failure notifications")
    operators_commands = operators.add_subparsers(dest="operators_command", required=True)
    setup = operators_commands.add_parser(
        "setup",
        help="save the operators' webhook block and the failed-run automation in Prefect",
        description="From DESKWATCH_OPERATOR_WEBHOOK_URL, save a Prefect notification block "
        "and create or update the automation that uses it when a poll-sources or "
        "source-health run fails or crashes; without the setting, do nothing.",
    )
    setup.set_defaults(command_key="operators setup")

    replay = commands.add_parser("replay", help="the offline replay site, for deployments")
    replay_commands = replay.add_subparsers(dest="replay_command", required=True)
    serve = replay_commands.add_parser(
        "serve",
        help="serve the replay site on 127.0.0.1 until Ctrl-C and write its sources file",
        description="Serve the bundled offline site and write a sources file pointing at it, "
        "to pass as a deployment's sources_file parameter.",
    )
    serve.set_defaults(command_key="replay serve")
    serve.add_argument("--port", type=int, default=8765, help="port (0: any free; default 8765)")
    serve.add_argument(
        "--write-sources",
        type=Path,
        default=Path("var/replay/sources.yaml"),
        metavar="FILE",
        help="where to write the sources file (default var/replay/sources.yaml)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="deskwatch",
        description="Media monitoring: poll feeds and transcripts, match topics, alert desks.",
        epilog="Exit codes: 0 ok, 2 bad input or configuration, 3 partial failure.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = commands.add_parser("run", help="one full cycle: poll, deliver, write today's digest")
    run.set_defaults(command_key="run")
    _seed_options(run)

    demo = commands.add_parser("demo", help="the same cycle against a bundled offline site")
    demo.set_defaults(command_key="demo")
    demo.add_argument("--port", type=int, default=8765, help="replay site port (0: any free)")

    digest = commands.add_parser("digest", help="write the digest files for a day")
    digest.set_defaults(command_key="digest")
    digest.add_argument("--date", default="today", help="YYYY-MM-DD, 'today' or 'yesterday'")
    digest.add_argument("--desk", help="only this desk id")
    digest.add_argument(
        "--email",
        action="store_true",
        help="also email it to the desk (DESKWATCH_SMTP_URL, else an .eml under the outbox dir)",
    )
    _seed_options(digest)

    match = commands.add_parser("match", help="match .txt or .html files against the topics")
    match.set_defaults(command_key="match")
    match.add_argument("--topics", type=Path, help="topics YAML (default: bundled seeds)")
    match.add_argument("paths", nargs="+", type=Path, metavar="PATH")

    sources = commands.add_parser("sources", help="every source's state (default), or check")
    sources.set_defaults(command_key="sources list")
    sources.add_argument("--sources", type=Path, help="sources YAML (default: bundled seeds)")
    sources_commands = sources.add_subparsers(dest="sources_command", required=False)
    listing = sources_commands.add_parser(
        "list", help="status, last success and error, failures, items in 7 days, next due"
    )
    listing.set_defaults(command_key="sources list")
    listing.add_argument("--sources", type=Path, help="sources YAML (default: bundled seeds)")
    check = sources_commands.add_parser("check", help="fetch every source once and report")
    check.set_defaults(command_key="sources check")
    check.add_argument("--sources", type=Path, help="sources YAML (default: bundled seeds)")

    _outbox_parser(commands)
    _notify_parser(commands)
    _operator_parsers(commands)

    db = commands.add_parser("db", help="database utilities")
    db_commands = db.add_subparsers(dest="db_command", required=True)
    upgrade = db_commands.add_parser(
        "upgrade", help="migrate the state database to the newest schema"
    )
    upgrade.set_defaults(command_key="db upgrade")

    topics = commands.add_parser("topics", help="topic utilities")
    topics_commands = topics.add_subparsers(dest="topics_command", required=True)
    explain = topics_commands.add_parser("explain", help="why a file matches a topic or not")
    explain.set_defaults(command_key="topics explain")
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
    """Import the chosen command's module now, and run the command with its arguments."""
    target, arguments = COMMANDS[args.command_key]
    module, _, name = target.partition(":")
    command: Callable[..., int] = getattr(importlib.import_module(module), name)
    return command(*arguments(args))
