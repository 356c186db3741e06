"""The slow one: `make deploy` on a fresh server, the scheduler creates runs, a worker runs one.

A real `prefect server` (scheduler loop shortened to two seconds) gets prefect.yaml through
`make deploy`; every scheduled deployment must get SCHEDULED runs, and a poll-news run of the
offline replay site must reach Completed through `prefect worker start --run-once`.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from flows.local.replay import ReplaySite, write_demo_sources
from tests.conftest import REPLAY_SITE, REPO
from tests.flows.prefect_server import make_deploy, prefect, prefect_server

pytestmark = pytest.mark.slow

TERMINAL = {"COMPLETED", "FAILED", "CRASHED", "CANCELLED"}


@pytest.fixture(scope="module")
def deployed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """A fresh server (no work pool yet) with prefect.yaml deployed by `make deploy`."""
    home = tmp_path_factory.mktemp("prefect-schedules-home")
    with prefect_server(home, PREFECT_SERVER_SERVICES_SCHEDULER_LOOP_SECONDS="2") as env:
        make_deploy(env, tmp_path_factory.mktemp("make"))
        yield env


def _post(env: dict[str, str], path: str, body: dict[str, Any]) -> Any:
    response = httpx.post(f"{env['PREFECT_API_URL']}{path}", json=body, timeout=10)
    response.raise_for_status()
    return response.json()


def _scheduled_deployments() -> set[str]:
    config = yaml.safe_load((REPO / "prefect.yaml").read_text(encoding="utf-8"))
    return {d["name"] for d in config["deployments"] if d.get("schedules")}


def test_the_scheduler_creates_runs_for_every_scheduled_deployment(
    deployed: dict[str, str],
) -> None:
    wanted = _scheduled_deployments()
    names = {d["id"]: d["name"] for d in _post(deployed, "/deployments/filter", {})}
    seen: set[str] = set()
    deadline = time.monotonic() + 60
    while seen != wanted and time.monotonic() < deadline:
        runs = _post(
            deployed,
            "/flow_runs/filter",
            {"flow_runs": {"state": {"type": {"any_": ["SCHEDULED"]}}}, "limit": 200},
        )
        seen = {names[r["deployment_id"]] for r in runs if r["deployment_id"] in names}
        time.sleep(1)
    assert seen == wanted


def test_a_worker_runs_a_poll_deployment_to_completed(
    deployed: dict[str, str], tmp_path: Path
) -> None:
    # A queue of its own, so the worker takes this run and none of the scheduled ones.
    prefect(deployed, "work-queue", "create", "check", "--pool", "deskwatch")
    poll = httpx.get(
        f"{deployed['PREFECT_API_URL']}/deployments/name/poll-sources/poll-news", timeout=10
    ).json()
    worker_env = {
        **deployed,
        "DESKWATCH_PROJECT_DIR": str(REPO),
        "DESKWATCH_STATE_URL": f"sqlite:///{tmp_path / 'state.db'}",
        "DESKWATCH_DIGEST_DIR": str(tmp_path / "digests"),
        "DESKWATCH_OUTBOX_DIR": str(tmp_path / "outbox"),
        "DESKWATCH_ALLOW_PRIVATE_NETWORKS": "true",
        "DESKWATCH_FETCH_TIMEOUT_S": "5",
    }
    with ReplaySite(REPLAY_SITE) as site:
        sources = write_demo_sources(site.base_url, tmp_path / "sources.yaml")
        run = _post(
            deployed,
            f"/deployments/{poll['id']}/create_flow_run",
            {"parameters": {"sources_file": str(sources)}, "work_queue_name": "check"},
        )
        prefect(
            worker_env,
            *("worker", "start", "--pool", "deskwatch", "--work-queue", "check"),
            *("--type", "process", "--run-once"),
        )
        state = _final_state(deployed, run["id"])
    assert state["type"] == "COMPLETED", state
    assert (tmp_path / "state.db").exists()  # the run used the worker's settings


def _final_state(env: dict[str, str], run_id: str, timeout_s: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + timeout_s
    while True:
        response = httpx.get(f"{env['PREFECT_API_URL']}/flow_runs/{run_id}", timeout=10)
        state: dict[str, Any] = response.json()["state"]
        if state["type"] in TERMINAL or time.monotonic() > deadline:
            return state
        time.sleep(1)
