"""Mistakes an operator can make end in one stderr line and exit 2, never in a traceback.

Each case runs the real `python -m flows.cli` in a subprocess, so whatever reaches the
terminal (Prefect's own log lines included) is what the test sees.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import REPO

EXIT_BAD_INPUT = 2


@pytest.fixture
def loopback_sources(tmp_path: Path) -> Path:
    """One feed on a closed loopback port: should a check slip, nothing leaves the machine."""
    path = tmp_path / "sources.yaml"
    path.write_text(
        "# A single feed nobody serves (port 9 on loopback); the errors stop before any fetch.\n"
        "sources:\n"
        "  - id: closed-port\n"
        "    name: Closed port\n"
        "    kind: rss\n"
        "    url: http://127.0.0.1:9/feed.xml\n"
        "    poll_minutes: 15\n"
        "    language: en\n",
        encoding="utf-8",
    )
    return path


def deskwatch(tmp_path: Path, *argv: str, **settings: str) -> subprocess.CompletedProcess[str]:
    """The CLI with its state under `tmp_path` unless `settings` say otherwise."""
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("DESKWATCH_", "PREFECT_"))},
        "PYTHONPATH": str(REPO),
        "PREFECT_HOME": str(tmp_path / "prefect"),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "DESKWATCH_STATE_URL": f"sqlite:///{tmp_path / 'state.db'}",
        "DESKWATCH_DIGEST_DIR": str(tmp_path / "digests"),
        "DESKWATCH_OUTBOX_DIR": str(tmp_path / "outbox"),
        **settings,
    }
    return subprocess.run(
        [sys.executable, "-m", "flows.cli", *argv],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def assert_one_line(result: subprocess.CompletedProcess[str], *naming: str) -> None:
    """Exit 2, nothing but one `deskwatch:` line on stderr, and it names what was wrong."""
    assert "Traceback" not in result.stderr + result.stdout
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("deskwatch: "), result.stderr[-2000:]
    for word in naming:
        assert word in lines[0]
    assert result.returncode == EXIT_BAD_INPUT


@pytest.fixture
def taken_port() -> Iterator[int]:
    """A loopback port something else already listens on."""
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        yield int(holder.getsockname()[1])


def test_demo_on_a_taken_port_says_it_cannot_listen(tmp_path: Path, taken_port: int) -> None:
    result = deskwatch(tmp_path, "demo", "--port", str(taken_port))
    assert_one_line(result, "replay site", str(taken_port), "in use")


def test_postgres_on_a_closed_port_is_one_line(tmp_path: Path, loopback_sources: Path) -> None:
    closed = "postgresql+psycopg://deskwatch:secret@127.0.0.1:9/deskwatch"
    result = deskwatch(
        tmp_path, "run", "--sources", str(loopback_sources), DESKWATCH_STATE_URL=closed
    )
    assert_one_line(result, "database", "Connection refused")
    assert "secret" not in result.stderr


def test_sqlite_in_a_directory_that_cannot_exist_is_one_line(
    tmp_path: Path, loopback_sources: Path
) -> None:
    (tmp_path / "a-file").write_text("not a directory\n", encoding="utf-8")
    url = f"sqlite:///{tmp_path / 'a-file' / 'state' / 'deskwatch.db'}"
    result = deskwatch(tmp_path, "run", "--sources", str(loopback_sources), DESKWATCH_STATE_URL=url)
    assert_one_line(result, "database", "a-file", "Not a directory")


def test_sqlite_in_an_unwritable_directory_is_one_line(tmp_path: Path) -> None:
    # /proc refuses new files even to root, where a chmod'ed directory would not.
    result = deskwatch(tmp_path, "digest", DESKWATCH_STATE_URL="sqlite:////proc/deskwatch.db")
    assert_one_line(result, "database", "cannot open")


@pytest.mark.parametrize("variable", ["DESKWATCH_SLACK_WEBHOOKS", "DESKWATCH_APPRISE_URLS"])
def test_malformed_json_setting_names_the_variable(
    tmp_path: Path, loopback_sources: Path, variable: str
) -> None:
    result = deskwatch(
        tmp_path, "run", "--sources", str(loopback_sources), **{variable: '{"desk": "https://'}
    )
    assert_one_line(result, variable, "JSON")


@pytest.mark.parametrize("url", ["sqlite:", "postgresql://deskwatch@127.0.0.1/deskwatch", "db"])
def test_malformed_state_url_names_the_variable(
    tmp_path: Path, loopback_sources: Path, url: str
) -> None:
    result = deskwatch(tmp_path, "run", "--sources", str(loopback_sources), DESKWATCH_STATE_URL=url)
    assert_one_line(result, "DESKWATCH_STATE_URL", "sqlite:///")


def test_seed_file_that_is_not_utf8_names_the_file(tmp_path: Path) -> None:
    latin1 = tmp_path / "sources.yaml"
    latin1.write_bytes(
        "sources:\n  - id: le-monde\n    name: Le Monde (édition)\n".encode("latin-1")
    )
    result = deskwatch(tmp_path, "run", "--sources", str(latin1))
    assert_one_line(result, "sources.yaml", "UTF-8")


def test_seed_file_that_is_not_yaml_names_the_file_and_line(tmp_path: Path) -> None:
    broken = tmp_path / "topics.yaml"
    broken.write_text("topics:\n  - id: [unclosed\n    name: x\n", encoding="utf-8")
    result = deskwatch(tmp_path, "run", "--topics", str(broken))
    assert_one_line(result, "topics.yaml", "line", "not valid YAML")
