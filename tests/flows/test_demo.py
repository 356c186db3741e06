"""`deskwatch demo` keeps its own store, digests and outbox, away from production's."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from flows.local.demo import DEMO_STATE, environment, run_demo


@pytest.mark.usefixtures("prefect_harness")
def test_the_demo_never_touches_the_production_store_digests_or_outbox(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # the production defaults are var/deskwatch.db, var/digests, …
    monkeypatch.setenv("DESKWATCH_FETCH_TIMEOUT_S", "5")

    assert run_demo(port=0) == 0

    assert (tmp_path / "var/demo/deskwatch.db").is_file()
    assert list((tmp_path / "var/demo/digests").glob("*/*.md"))
    assert sorted(p.name for p in (tmp_path / "var").iterdir()) == ["demo"]
    assert not any(name in os.environ for name in DEMO_STATE)


def test_a_state_url_the_user_set_still_wins_over_the_demo_default(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DESKWATCH_STATE_URL", "sqlite:////somewhere/chosen.db")
    with environment(DEMO_STATE):
        assert os.environ["DESKWATCH_STATE_URL"] == "sqlite:////somewhere/chosen.db"
        assert os.environ["DESKWATCH_DIGEST_DIR"] == str(Path("var/demo/digests"))
    assert "DESKWATCH_DIGEST_DIR" not in os.environ
