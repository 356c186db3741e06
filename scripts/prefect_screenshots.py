"""Screenshots of the Prefect UI for the README: the deployments page and a poll run's artifact.

Against a running local server (PREFECT_API_URL, e.g. after `make server`):

    PREFECT_API_URL=http://127.0.0.1:4200/api python scripts/prefect_screenshots.py docs/

A server on another port needs PREFECT_UI_API_URL set to its API when it starts: the UI
asks that address, by default port 4200, for everything it shows.

It runs `make deploy`, serves the offline replay site, creates one poll-news run on a queue of
its own, lets `prefect worker start --run-once` run it (state in a temporary directory), then
has headless Chromium save docs/prefect-deployments.png and docs/prefect-run-artifact.png.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from flows.local.replay import ReplaySite, bundled_replay_dir, write_demo_sources

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
CHROMIUM = "/usr/bin/chromium"
QUEUE = "screenshots"


def api(path: str, body: dict[str, Any] | None = None) -> Any:
    """GET (or POST `body` to) the server's REST API."""
    url = f"{os.environ['PREFECT_API_URL']}{path}"
    response = (
        httpx.get(url, timeout=10) if body is None else httpx.post(url, json=body, timeout=10)
    )
    response.raise_for_status()
    return response.json()


def deploy(scratch: Path) -> None:
    """`make deploy` with this interpreter's tools; a fresh stamp stands for `make install`."""
    stamp = scratch / "installed"
    stamp.touch()
    make = ["make", "--no-print-directory", "deploy", f"BIN={BIN}", f"STAMP={stamp}"]
    subprocess.run(make, cwd=REPO, check=True, stdout=subprocess.DEVNULL)
    prefect = [str(BIN / "prefect"), "--no-prompt", "work-queue"]
    if subprocess.run(
        [*prefect, "inspect", QUEUE, "--pool", "deskwatch"], capture_output=True
    ).returncode:
        subprocess.run([*prefect, "create", QUEUE, "--pool", "deskwatch"], check=True)


def poll_once(scratch: Path) -> str:
    """One poll-news run of the replay site through a worker; the run's id."""
    poll = api("/deployments/name/poll-sources/poll-news")
    env = {
        **os.environ,
        "DESKWATCH_PROJECT_DIR": str(REPO),
        "DESKWATCH_STATE_URL": f"sqlite:///{scratch / 'state.db'}",
        "DESKWATCH_DIGEST_DIR": str(scratch / "digests"),
        "DESKWATCH_OUTBOX_DIR": str(scratch / "outbox"),
        "DESKWATCH_ALLOW_PRIVATE_NETWORKS": "true",
    }
    with ReplaySite(bundled_replay_dir() / "site") as site:
        sources = write_demo_sources(site.base_url, scratch / "sources.yaml")
        run = api(
            f"/deployments/{poll['id']}/create_flow_run",
            {"parameters": {"sources_file": str(sources)}, "work_queue_name": QUEUE},
        )
        worker = ["worker", "start", "--pool", "deskwatch", "--work-queue", QUEUE, "--run-once"]
        subprocess.run([str(BIN / "prefect"), *worker], env=env, check=True, timeout=300)
    return str(run["id"])


def screenshot(url: str, target: Path) -> None:
    """Headless Chromium, no network beyond the given loopback URL, a fresh profile."""
    with tempfile.TemporaryDirectory() as profile:
        flags = [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
            f"--user-data-dir={profile}",
            "--virtual-time-budget=15000",  # the UI is a single-page app: let it render
            "--window-size=1400,900",
            f"--screenshot={target}",
        ]
        subprocess.run([CHROMIUM, *flags, url], check=True, capture_output=True, timeout=120)


def main(out: Path) -> None:
    ui = os.environ["PREFECT_API_URL"].removesuffix("/api")
    with tempfile.TemporaryDirectory() as scratch:
        deploy(Path(scratch))
        run_id = poll_once(Path(scratch))
    time.sleep(2)  # the artifact and final state are written just after the worker exits
    artifacts = api("/artifacts/filter", {"artifacts": {"flow_run_id": {"any_": [run_id]}}})
    table = next(a for a in artifacts if a["key"] == "poll-sources")
    screenshot(f"{ui}/deployments", out / "prefect-deployments.png")
    screenshot(f"{ui}/artifacts/artifact/{table['id']}", out / "prefect-run-artifact.png")
    print(f"flow run {ui}/runs/flow-run/{run_id}")


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "docs"))
