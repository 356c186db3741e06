"""prefect.yaml deployed to a real `prefect server`: schedules, limits, and an operator's pause."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.flows.prefect_server import deployment as _deployment
from tests.flows.prefect_server import make_deploy, prefect, prefect_server


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """A Prefect server on 127.0.0.1 with its own home; yields the env for the CLI."""
    with prefect_server(tmp_path_factory.mktemp("prefect-server-home")) as env:
        yield env


@pytest.fixture(scope="module")
def deployed(server: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """`make deploy` on a fresh server, as the README has an operator do before any worker ran."""
    make_deploy(server, tmp_path_factory.mktemp("make"))
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

    prefect(server, "deploy", "--all")

    (after,) = _deployment(server, "poll-sources", "poll-news")["schedules"]
    assert after["slug"] == schedule["slug"]
    assert after["active"] is False


def test_make_deploy_runs_again_on_a_server_that_has_the_pool(
    deployed: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> None:
    api = deployed["PREFECT_API_URL"]
    pool = httpx.get(f"{api}/work_pools/deskwatch", timeout=10).json()

    make_deploy(deployed, tmp_path_factory.mktemp("make-again"))

    again = httpx.get(f"{api}/work_pools/deskwatch", timeout=10).json()
    assert (again["id"], again["base_job_template"]) == (pool["id"], pool["base_job_template"])


def test_runs_start_in_the_workers_checkout_not_the_deploying_one(
    deployed: dict[str, str],
) -> None:
    # make_deploy sets DESKWATCH_PROJECT_DIR for the deploy: a resolved template would show it.
    for flow, name in [("poll-sources", "poll-news"), ("daily-digest", "daily-digest")]:
        assert _deployment(deployed, flow, name)["pull_steps"] == [
            {
                "prefect.deployments.steps.set_working_directory": {
                    "directory": "{{ $DESKWATCH_PROJECT_DIR }}"
                }
            }
        ]


@pytest.mark.parametrize(
    ("flow", "name", "parameters", "named"),
    [
        ("poll-sources", "poll-news", {"kinds": ["rs"]}, "rs"),
        ("daily-digest", "daily-digest", {"day": "tomorrowish"}, "tomorrowish"),
    ],
)
def test_a_typo_in_a_run_parameter_is_refused_before_the_run_exists(
    deployed: dict[str, str], flow: str, name: str, parameters: dict[str, object], named: str
) -> None:
    target = _deployment(deployed, flow, name)
    response = httpx.post(
        f"{deployed['PREFECT_API_URL']}/deployments/{target['id']}/create_flow_run",
        json={"parameters": parameters},
        timeout=10,
    )
    assert response.status_code == 409, response.text
    assert named in response.text


def test_the_ui_offers_the_source_kinds_and_digest_days_as_choices(
    deployed: dict[str, str],
) -> None:
    poll = _deployment(deployed, "poll-sources", "poll-news")["parameter_openapi_schema"]
    digest = _deployment(deployed, "daily-digest", "daily-digest")["parameter_openapi_schema"]
    kinds = str(poll["definitions"]["SourceKind"]["enum"])
    assert all(kind in kinds for kind in ("rss", "transcript_page", "podcast"))
    assert "'today', 'yesterday'" in str(digest["properties"]["day"])


def test_source_health_runs_every_15_minutes_one_at_a_time(deployed: dict[str, str]) -> None:
    health = _deployment(deployed, "source-health", "source-health")
    assert [s["slug"] for s in health["schedules"]] == ["source-health-every-15-minutes"]
    assert health["schedules"][0]["schedule"]["interval"] == 900
    assert health["global_concurrency_limit"]["limit"] == 1
    assert health["concurrency_options"]["collision_strategy"] == "CANCEL_NEW"
