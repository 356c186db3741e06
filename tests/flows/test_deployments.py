"""prefect.yaml deployed to a real `prefect server`: schedules, limits, and an operator's pause."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import REPO

PREFECT = Path(sys.executable).parent / "prefect"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """A Prefect server on 127.0.0.1 with its own home; yields the env for the CLI."""
    home = tmp_path_factory.mktemp("prefect-server-home")
    port = _free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")},
        "PREFECT_HOME": str(home),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_API_URL": f"http://127.0.0.1:{port}/api",
    }
    log = (home / "server.log").open("w")
    process = subprocess.Popen(
        [str(PREFECT), "server", "start", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        _wait_healthy(env["PREFECT_API_URL"], process)
        yield env
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()


def _wait_healthy(api: str, process: subprocess.Popen[bytes], timeout_s: float = 90) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"prefect server exited with {process.returncode}")
        try:
            if httpx.get(f"{api}/health", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    pytest.fail("prefect server did not become healthy in time")


def _prefect(env: dict[str, str], *args: str) -> None:
    result = subprocess.run(
        [str(PREFECT), "--no-prompt", *args],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]


def _deployment(env: dict[str, str], flow: str, name: str) -> dict[str, Any]:
    response = httpx.get(f"{env['PREFECT_API_URL']}/deployments/name/{flow}/{name}", timeout=10)
    response.raise_for_status()
    data: dict[str, Any] = response.json()
    return data


@pytest.fixture(scope="module")
def deployed(server: dict[str, str]) -> dict[str, str]:
    """The work pool created and `prefect deploy --all` run once, as an operator would."""
    _prefect(server, "work-pool", "create", "deskwatch", "--type", "process")
    _prefect(server, "deploy", "--all")
    return server


def test_prefect_yaml_deploys_schedules_and_limits(deployed: dict[str, str]) -> None:
    server = deployed
    poll = _deployment(server, "poll-sources", "poll-news")
    transcripts = _deployment(server, "poll-sources", "poll-transcripts")
    digest = _deployment(server, "daily-digest", "daily-digest")

    assert poll["parameters"] == {"kinds": ["rss"]}
    assert [s["slug"] for s in poll["schedules"]] == ["poll-news-every-15-minutes"]
    assert poll["schedules"][0]["schedule"]["interval"] == 900
    assert poll["global_concurrency_limit"]["limit"] == 1
    assert poll["concurrency_options"]["collision_strategy"] == "CANCEL_NEW"
    assert transcripts["schedules"][0]["schedule"]["interval"] == 3600
    schedule = digest["schedules"][0]["schedule"]
    assert (schedule["cron"], schedule["timezone"]) == ("0 7 * * *", "Asia/Seoul")
    assert digest["parameters"] == {"day": "yesterday"}


def test_a_schedule_paused_in_the_ui_stays_paused_after_redeploy(
    deployed: dict[str, str],
) -> None:
    server = deployed
    before = _deployment(server, "poll-sources", "poll-news")
    (schedule,) = before["schedules"]
    api = server["PREFECT_API_URL"]
    httpx.patch(
        f"{api}/deployments/{before['id']}/schedules/{schedule['id']}",
        json={"active": False},
        timeout=10,
    ).raise_for_status()

    _prefect(server, "deploy", "--all")

    (after,) = _deployment(server, "poll-sources", "poll-news")["schedules"]
    assert after["slug"] == schedule["slug"]
    assert after["active"] is False
