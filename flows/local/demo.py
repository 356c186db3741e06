"""`deskwatch demo`: one real cycle against a bundled replay site, local mail and Slack sinks."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from flows.cli.cycle import run_cycle
from flows.local.replay import ReplaySite, bundled_replay_dir, write_demo_sources
from flows.local.sinks import SlackWebhookSink, SmtpSink
from monitors.errors import LocalServerError

# The demo's own store, digests and outbox: its replayed stories (127.0.0.1 links) must never
# reach the production database or a production digest. A variable the user set still wins.
DEMO_DIR = Path("var/demo")
DEMO_STATE = {
    "DESKWATCH_STATE_URL": f"sqlite:///{DEMO_DIR / 'deskwatch.db'}",
    "DESKWATCH_DIGEST_DIR": str(DEMO_DIR / "digests"),
    "DESKWATCH_OUTBOX_DIR": str(DEMO_DIR / "outbox"),
    # The replay site is days-old news on one loopback host standing in for five outlets: its
    # first poll alerts the whole feed, and its requests are spaced as one small site can take.
    "DESKWATCH_FIRST_POLL_WINDOW_HOURS": "0",
    "DESKWATCH_PER_HOST_SPACING_S": "0.05",
}


@contextmanager
def environment(values: dict[str, str]) -> Iterator[None]:
    """Set DESKWATCH_* variables for the duration of the demo, unless the user set them."""
    added = {k: v for k, v in values.items() if k not in os.environ}
    os.environ.update(added)
    try:
        yield
    finally:
        for key in added:
            os.environ.pop(key, None)


def run_demo(port: int) -> int:
    """Serve the replay site, start the sinks, run one cycle, print what was delivered."""
    try:
        site = ReplaySite(bundled_replay_dir() / "site", port=port).start()
    except LocalServerError as exc:
        raise LocalServerError(f"{exc} (--port {port})") from None
    with (
        site,
        SmtpSink() as smtp,
        SlackWebhookSink() as slack,
    ):
        sinks = {
            "DESKWATCH_SMTP_URL": smtp.url,
            "DESKWATCH_SLACK_WEBHOOK_URL": slack.url,
            "DESKWATCH_ALLOW_PRIVATE_NETWORKS": "true",
            **DEMO_STATE,
        }
        with environment(sinks):
            sources = write_demo_sources(site.base_url, DEMO_DIR / "sources.yaml")
            print(f"replay site {site.base_url}  smtp {smtp.url}  slack webhook {slack.url}")
            status = run_cycle(sources, None, None)
        print(
            f"\nLocal sinks received: {len(smtp.messages)} email(s), "
            f"{len(slack.payloads)} Slack message(s)."
        )
        for message in smtp.messages:
            print(f"  email to {message['To']}: {message['Subject']}")
    return status
