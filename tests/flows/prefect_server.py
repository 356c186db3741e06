"""A real `prefect server` on 127.0.0.1 for the deployment tests, and the CLI against it."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import REPO

BIN = Path(sys.executable).parent
PREFECT = BIN / "prefect"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def prefect_server(home: Path, **settings: str) -> Iterator[dict[str, str]]:
    """A server with its own PREFECT_HOME (plus `settings`); yields the env for its clients."""
    port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "DESKWATCH_"))},
        "PREFECT_HOME": str(home),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_API_URL": f"http://127.0.0.1:{port}/api",
        **settings,
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


def run(env: dict[str, str], *argv: str, timeout: float = 180) -> str:
    """Run a command in the project directory; its output, or a failure that shows it."""
    result = subprocess.run(
        list(argv), env=env, cwd=REPO, capture_output=True, text=True, timeout=timeout
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    return result.stdout


def prefect(env: dict[str, str], *args: str) -> str:
    return run(env, str(PREFECT), "--no-prompt", *args)


def make_deploy(env: dict[str, str], stamp_dir: Path) -> str:
    """`make deploy` with this interpreter's tools; a fresh stamp stands for `make install`."""
    env = {**env, "DESKWATCH_PROJECT_DIR": "/the/deploying/checkout"}  # must not be baked in
    stamp = stamp_dir / "installed"
    stamp.touch()  # newer than pyproject.toml and requirements.lock: nothing to install
    return run(env, "make", "--no-print-directory", "deploy", f"BIN={BIN}", f"STAMP={stamp}")


def deployment(env: dict[str, str], flow: str, name: str) -> dict[str, Any]:
    response = httpx.get(f"{env['PREFECT_API_URL']}/deployments/name/{flow}/{name}", timeout=10)
    response.raise_for_status()
    data: dict[str, Any] = response.json()
    return data
