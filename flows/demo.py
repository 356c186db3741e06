"""`deskwatch demo`: one real cycle against a bundled replay site, with local mail and Slack sinks."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path

from flows.sinks import SlackWebhookSink, SmtpSink

REPLAY_ROOT = Path(str(resources.files("flows").joinpath("replay_site")))


def demo_sources_file(base_url: str, directory: Path) -> Path:
    """The demo's sources.yaml with `{base}` pointing at the running replay site."""
    template = (REPLAY_ROOT / "sources.yaml").read_text(encoding="utf-8")
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "demo-sources.yaml"
    path.write_text(template.replace("{base}", base_url), encoding="utf-8")
    return path


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
    from flows.commands import run_cycle
    from flows.replay import ReplaySite

    with (
        ReplaySite(REPLAY_ROOT / "site", port=port) as site,
        SmtpSink() as smtp,
        SlackWebhookSink() as slack,
    ):
        sinks = {
            "DESKWATCH_SMTP_URL": smtp.url,
            "DESKWATCH_SLACK_WEBHOOK_URL": slack.url,
            "DESKWATCH_ALLOW_PRIVATE_NETWORKS": "true",
        }
        with environment(sinks):
            sources = demo_sources_file(site.base_url, Path("var/demo"))
            print(f"replay site {site.base_url}  smtp {smtp.url}  slack webhook {slack.url}")
            status = run_cycle(sources, None, None)
        print(
            f"\nLocal sinks received: {len(smtp.messages)} email(s), "
            f"{len(slack.payloads)} Slack message(s)."
        )
        for message in smtp.messages:
            print(f"  email to {message['To']}: {message['Subject']}")
    return status
