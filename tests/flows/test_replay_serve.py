"""`deskwatch replay serve` in its own process: it serves the site until Ctrl-C, then exits 0."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import yaml

from tests.conftest import REPO


def test_replay_serve_serves_feeds_until_ctrl_c(tmp_path: Path) -> None:
    sources_file = tmp_path / "replay" / "sources.yaml"
    command = ["replay", "serve", "--port", "0", "--write-sources", str(sources_file)]
    process = subprocess.Popen(
        [sys.executable, "-m", "flows.cli", *command],
        cwd=REPO,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        base_url = process.stdout.readline().split()[-1]
        printed_sources = process.stdout.readline().split()[-1]
        sources = yaml.safe_load(sources_file.read_text())["sources"]
        feed = httpx.get(sources[0]["url"], timeout=10)
    finally:
        process.send_signal(signal.SIGINT)
        stdout, stderr = process.communicate(timeout=20)

    assert base_url.startswith("http://127.0.0.1:")
    assert Path(printed_sources) == sources_file.resolve()
    assert sources[0]["url"].startswith(base_url)
    assert feed.status_code == 200 and b"<rss" in feed.content
    assert process.returncode == 0
    assert "Traceback" not in stderr
    assert "replay site stopped" in stdout
