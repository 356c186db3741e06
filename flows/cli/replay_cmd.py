"""`deskwatch replay serve`: the offline replay site for deployments, until Ctrl-C."""

from __future__ import annotations

import threading
from pathlib import Path

from flows.local.replay import ReplaySite, bundled_replay_dir, write_demo_sources
from monitors.errors import LocalServerError


def serve_replay(port: int, sources_file: Path) -> int:
    """Serve the bundled site on 127.0.0.1, write its sources file, wait for Ctrl-C."""
    try:
        site = ReplaySite(bundled_replay_dir() / "site", port=port).start()
    except LocalServerError as exc:
        raise LocalServerError(f"{exc} (--port {port})") from None
    with site:
        sources = write_demo_sources(site.base_url, sources_file).resolve()
        print(f"replay site {site.base_url}", flush=True)
        print(f"sources file {sources}", flush=True)
        print(
            "run a deployment against it (workers need DESKWATCH_ALLOW_PRIVATE_NETWORKS=true):\n"
            f"  prefect deployment run poll-sources/poll-news --param sources_file={sources}\n"
            "Ctrl-C stops the site.",
            flush=True,
        )
        try:
            threading.Event().wait()  # the site serves from its own thread
        except KeyboardInterrupt:
            print("replay site stopped", flush=True)
    return 0
