"""The `deskwatch` command: match contract, one-line seed errors, a run with nothing reachable."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest

from flows.cli import main
from seeds.loader import bundled_seed_path


def test_match_prints_one_json_object_per_input(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    hit = tmp_path / "hit.txt"
    hit.write_text(
        "North Korean troops join Russian assault in Kursk\n"
        "Kyiv says North Korean soldiers fought alongside Russian units near Kursk, "
        "with heavy casualties among the troops sent by Pyongyang.\n",
        encoding="utf-8",
    )
    miss = tmp_path / "miss.txt"
    miss.write_text("Seoul weather\nRain is expected in Seoul on Tuesday.\n", encoding="utf-8")
    assert main(["match", str(hit), str(miss)]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [line["path"] for line in lines] == [str(hit), str(miss)]
    assert lines[1]["matches"] == []
    topics = {m["topic"] for m in lines[0]["matches"]}
    assert "troop-deployment" in topics
    for match in lines[0]["matches"]:
        assert isinstance(match["score"], float)
        text = hit.read_text(encoding="utf-8")
        title, _, body = text.partition("\n")
        full = f"{title.strip()}\n\n{body.strip()}"
        for evidence in match["evidence"]:
            assert full[evidence["start"] : evidence["end"]] == evidence["text"]


def test_match_reports_an_unreadable_path_and_goes_on(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = tmp_path / "good.txt"
    good.write_text("Title\nBody\n", encoding="utf-8")
    assert main(["match", str(tmp_path / "missing.txt"), str(good)]) == 2
    captured = capsys.readouterr()
    assert len(captured.out.splitlines()) == 1
    assert captured.err.count("\n") == 1 and "missing.txt" in captured.err


def test_malformed_seed_entry_stops_before_any_fetch(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    desks = tmp_path / "desks.yaml"
    desks.write_text(
        bundled_seed_path("desks.yaml")
        .read_text(encoding="utf-8")
        .replace("Asia/Seoul", "Mars/Olympus", 1),
        encoding="utf-8",
    )
    assert main(["run", "--desks", str(desks)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert str(desks) in err and "timezone" in err and "desks[0]" in err


@pytest.mark.usefixtures("prefect_harness")
def test_run_with_nothing_reachable_reports_each_source_and_still_writes_digests(
    state_env: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        dead = probe.getsockname()[1]
    sources = tmp_path / "sources.yaml"
    sources.write_text(
        "sources:\n"
        f"  - {{id: wire-a, name: Wire A, kind: rss, url: 'http://127.0.0.1:{dead}/a.xml'}}\n"
        f"  - {{id: wire-b, name: Wire B, kind: rss, url: 'http://127.0.0.1:{dead}/b.xml'}}\n",
        encoding="utf-8",
    )
    assert main(["run", "--sources", str(sources)]) == 3
    out = capsys.readouterr().out
    assert out.count("connect-error") == 2
    assert list((state_env / "digests").glob("*/*.md"))
