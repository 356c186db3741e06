"""The README's first command, `make run`, on a fresh clone of this checkout, offline.

How it stays real without a network or a reinstall:

- `git clone` of this checkout's HEAD into a temporary directory: no build artefacts, no var/.
- The real Makefile `run` target, given `BIN=` (this interpreter's venv, where `make install`
  would have put the same locked packages and the `deskwatch` console script) and `STAMP=`
  (a file touched after the clone, so newer than pyproject.toml and requirements.lock: make
  sees nothing to install and goes straight to `$(BIN)/deskwatch run`).
- PYTHONPATH is the clone: the console script imports the clone's packages ahead of the venv's
  editable install, and the bundled topics and desks come from the clone's seeds/.
- DESKWATCH_SOURCES_FILE names a file of feeds on 127.0.0.1: with
  DESKWATCH_ALLOW_PRIVATE_NETWORKS unset the fetcher refuses them before connecting (literal
  addresses need no DNS), so nothing leaves the machine even where DNS would reach the network.
  The seed outlets themselves are not used because resolving their names could.
- No PREFECT_* or other DESKWATCH_* variable is passed: the Makefile puts PREFECT_HOME under the
  clone's var/, and the run uses Prefect's temporary local server as a first run would.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.conftest import REPO

pytestmark = pytest.mark.slow

BIN = Path(sys.executable).parent
EXIT_PARTIAL = 3

# Feeds nobody may fetch here: loopback, refused by the private-network guard.
OFFLINE_SOURCES = """\
# Two sources on loopback addresses; with private networks not allowed both are refused
# before any connection, so the cycle ends partial (exit 3) with a reason for each.
sources:
  - id: wire-on-loopback
    name: A wire feed on loopback
    kind: rss
    url: http://127.0.0.1:9/feed.xml
    poll_minutes: 15
    language: en
  - id: podcast-on-loopback
    name: A podcast transcript index on loopback
    kind: transcript_page
    url: http://127.0.0.1:9/episodes/
    item_link_pattern: /episodes/[a-z0-9-]+/?$
    poll_minutes: 60
    language: en
"""


@pytest.fixture
def clone(tmp_path: Path) -> Path:
    """A fresh clone of this checkout's HEAD, or a skip saying why there cannot be one."""
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    if not (REPO / ".git").exists():
        pytest.skip(f"{REPO} is not a git checkout")
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    target = tmp_path / "p"
    subprocess.run(["git", "clone", "-q", str(REPO), str(target)], check=True, timeout=60)
    return target


def test_make_run_on_a_fresh_clone_reports_every_source_and_writes_digests(
    clone: Path, tmp_path: Path
) -> None:
    sources = tmp_path / "offline-sources.yaml"
    sources.write_text(OFFLINE_SOURCES, encoding="utf-8")
    stamp = tmp_path / "installed"
    stamp.touch()  # after the clone: newer than its pyproject.toml and requirements.lock
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "DESKWATCH_"))},
        "PYTHONPATH": str(clone),
        "DESKWATCH_SOURCES_FILE": str(sources),
    }
    result = subprocess.run(
        ["make", "--no-print-directory", "run", f"BIN={BIN}", f"STAMP={stamp}"],
        cwd=clone,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    # make reports the recipe's exit status as "Error 3" and exits 2 itself.
    assert f"Error {EXIT_PARTIAL}" in result.stderr, result.stdout[-2000:] + result.stderr[-2000:]
    assert "Traceback" not in result.stderr
    assert f"{BIN}/deskwatch run" in result.stdout  # the real target, the real console script
    report = result.stdout.split("\nSources\n", 1)[1]
    for source_id in ("wire-on-loopback", "podcast-on-loopback"):
        line = next(line for line in report.splitlines() if source_id in line)
        assert "non-public address" in line, line
    assert "0 of 2 sources ok" in report
    desks = yaml.safe_load((clone / "seeds" / "desks.yaml").read_text(encoding="utf-8"))["desks"]
    for desk in [d for d in desks if d.get("topics")]:  # a desk of no topic gets no digest
        written = sorted(p.suffix for p in (clone / "var" / "digests" / desk["id"]).iterdir())
        assert written == [".html", ".json", ".md"], desk["id"]
