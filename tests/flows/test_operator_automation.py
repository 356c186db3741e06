"""`deskwatch operators setup` against a real `prefect server`: one block, one automation."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from flows.local.sinks import SlackWebhookSink
from tests.flows.prefect_server import make_deploy, prefect_server, run

NOTIFICATION_WAIT_S = 60
# The names the README gives operators. Not imported from flows.cli.operators: importing the
# wiring at collection makes a later test's first trafilatura import fail on urllib3's SOCKS
# DependencyWarning (filterwarnings=error), e.g. tests/flows/test_cli.py run after this file.
BLOCK_NAME = "deskwatch-operators"
AUTOMATION_NAME = "deskwatch: a poll run failed or crashed"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """A Prefect server on 127.0.0.1 with its own home; yields the env for the CLI."""
    with prefect_server(tmp_path_factory.mktemp("prefect-operators-home")) as env:
        yield env


@pytest.fixture(scope="module")
def operators_hook() -> Iterator[SlackWebhookSink]:
    """The operators' channel: a loopback webhook that keeps every JSON body it is sent."""
    with SlackWebhookSink() as sink:
        yield sink


def setup_operators(env: dict[str, str]) -> str:
    return run(env, sys.executable, "-m", "flows.cli", "operators", "setup")


def automations_named(api: str, name: str) -> list[dict[str, Any]]:
    response = httpx.post(f"{api}/automations/filter", json={}, timeout=10)
    response.raise_for_status()
    return [a for a in response.json() if a["name"] == name]


def operators_block(api: str) -> dict[str, Any]:
    url = f"{api}/block_types/slug/custom-webhook/block_documents/name/{BLOCK_NAME}"
    response = httpx.get(url, timeout=10)
    response.raise_for_status()
    data: dict[str, Any] = response.json()
    return data


def report_failed_poll_run(api: str) -> str:
    """A poll-sources flow run that the server records as Failed, as a failing worker would."""
    flow = httpx.post(f"{api}/flows/", json={"name": "poll-sources"}, timeout=10).json()
    flow_run = httpx.post(
        f"{api}/flow_runs/",
        json={"flow_id": flow["id"], "name": "failing-poll", "state": {"type": "PENDING"}},
        timeout=10,
    ).json()
    for state in ({"type": "RUNNING"}, {"type": "FAILED", "message": "2 sources failed"}):
        httpx.post(
            f"{api}/flow_runs/{flow_run['id']}/set_state",
            json={"state": state, "force": True},
            timeout=10,
        ).raise_for_status()
    return str(flow_run["name"])


def test_without_an_operator_webhook_nothing_is_created(server: dict[str, str]) -> None:
    output = setup_operators(server)

    assert output.strip().splitlines() == [
        "operators: DESKWATCH_OPERATOR_WEBHOOK_URL is not set; no automation created"
    ]
    assert automations_named(server["PREFECT_API_URL"], AUTOMATION_NAME) == []


def test_setup_twice_leaves_one_automation_that_notifies_the_operators_block(
    server: dict[str, str], operators_hook: SlackWebhookSink
) -> None:
    env = {**server, "DESKWATCH_OPERATOR_WEBHOOK_URL": operators_hook.url}
    api = server["PREFECT_API_URL"]

    setup_operators(env)
    setup_operators(env)

    (automation,) = automations_named(api, AUTOMATION_NAME)
    block = operators_block(api)
    trigger = automation["trigger"]
    assert automation["enabled"] is True
    assert set(trigger["expect"]) == {"prefect.flow-run.Failed", "prefect.flow-run.Crashed"}
    assert trigger["match"] == {"prefect.resource.id": "prefect.flow-run.*"}
    assert trigger["match_related"]["prefect.resource.name"] == ["poll-sources", "source-health"]
    (action,) = automation["actions"]
    assert action["type"] == "send-notification"
    assert action["block_document_id"] == block["id"]


def test_make_deploy_sets_up_the_operators_automation_and_keeps_it_single(
    server: dict[str, str], operators_hook: SlackWebhookSink, tmp_path: Path
) -> None:
    env = {**server, "DESKWATCH_OPERATOR_WEBHOOK_URL": operators_hook.url}

    output = make_deploy(env, tmp_path)

    assert f"operators: automation {AUTOMATION_NAME!r}" in output
    assert len(automations_named(server["PREFECT_API_URL"], AUTOMATION_NAME)) == 1


def test_a_failed_poll_run_reaches_the_operators_webhook(
    server: dict[str, str], operators_hook: SlackWebhookSink
) -> None:
    setup_operators({**server, "DESKWATCH_OPERATOR_WEBHOOK_URL": operators_hook.url})
    run_name = report_failed_poll_run(server["PREFECT_API_URL"])

    deadline = time.monotonic() + NOTIFICATION_WAIT_S
    while not operators_hook.payloads and time.monotonic() < deadline:
        time.sleep(0.5)

    (payload,) = operators_hook.payloads
    assert f"poll-sources run {run_name} is Failed" in payload["text"]
    assert "2 sources failed" in payload["text"]
