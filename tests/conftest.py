"""Shared test set-up: an isolated Prefect home, real loopback servers, a fresh state per test."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

# Before anything imports Prefect: never touch ~/.prefect, keep the test log quiet.
os.environ["PREFECT_HOME"] = tempfile.mkdtemp(prefix="deskwatch-prefect-")
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"
# Core loggers are attached to Prefect (see Makefile); outside a flow run they must stay local.
os.environ["PREFECT_LOGGING_TO_API_WHEN_MISSING_FLOW"] = "ignore"
for _name in [n for n in os.environ if n.startswith("DESKWATCH_")]:
    del os.environ[_name]

REPO = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
REPLAY_SITE = REPO / "flows" / "local" / "replay_site" / "site"
CORPUS = Path(os.environ.get("DESKWATCH_CORPUS", REPO.parent / "shared" / "corpus"))


@pytest.fixture(scope="session")
def prefect_harness() -> Iterator[None]:
    """One Prefect test server for the whole session, with flow heartbeats off."""
    from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings
    from prefect.testing.utilities import prefect_test_harness

    with (
        temporary_settings(updates={PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}),
        prefect_test_harness(),
    ):
        yield


@pytest.fixture
def state_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """DESKWATCH_* settings pointing at a fresh SQLite file and fresh output folders."""
    monkeypatch.setenv("DESKWATCH_STATE_URL", f"sqlite:///{tmp_path / 'state.db'}")
    monkeypatch.setenv("DESKWATCH_DIGEST_DIR", str(tmp_path / "digests"))
    monkeypatch.setenv("DESKWATCH_OUTBOX_DIR", str(tmp_path / "outbox"))
    monkeypatch.setenv("DESKWATCH_ALLOW_PRIVATE_NETWORKS", "true")
    monkeypatch.setenv("DESKWATCH_FETCH_TIMEOUT_S", "5")
    # The replay site's items are days old and all on one host: alert them on a first poll,
    # and do not space their requests.
    monkeypatch.setenv("DESKWATCH_FIRST_POLL_WINDOW_HOURS", "0")
    monkeypatch.setenv("DESKWATCH_PER_HOST_SPACING_S", "0")
    return tmp_path


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A PostgreSQL server for the session, or a skip that says why there is none."""
    from tests.support.postgres import temporary_postgres, unavailable_reason

    reason = unavailable_reason()
    if reason:
        pytest.skip(reason)
    with temporary_postgres() as url:
        yield url


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Each store test runs on a SQLite file and on PostgreSQL, with empty tables."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'state.db'}"
        return
    url = request.getfixturevalue("postgres_url")
    from tests.support.peek import empty_database

    empty_database(url)
    yield url
