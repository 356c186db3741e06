"""The `deskwatch` command: match contract, one-line seed errors, a run with nothing reachable,
and commands that load only what they use."""

from __future__ import annotations

import importlib
import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from flows.cli import COMMANDS, build_parser, main
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


# Each command line runs in a fresh interpreter, which then reports whether it imported Prefect
# or the state store (seconds of imports these commands have no use for).
LIGHT_COMMANDS = [
    ["--help"],
    ["match", "{file}"],
    ["topics", "explain", "troop-deployment", "{file}"],
]


@pytest.mark.parametrize("argv", LIGHT_COMMANDS, ids=lambda argv: " ".join(argv[:2]))
def test_help_match_and_explain_never_import_prefect_or_the_store(
    argv: list[str], tmp_path: Path
) -> None:
    text = tmp_path / "story.txt"
    text.write_text("North Korean troops in Kursk\nSoldiers were sent to Kursk.\n", "utf-8")
    args = [a.replace("{file}", str(text)) for a in argv]
    script = (
        "import sys\n"
        "from flows.cli import main\n"
        "try:\n"
        f"    status = main({args!r})\n"
        "except SystemExit as exc:\n"
        "    status = exc.code\n"
        "loaded = [m for m in ('prefect', 'monitors.store') if m in sys.modules]\n"
        "print('status', status, 'loaded', loaded, file=sys.stderr)\n"
    )
    root = Path(__file__).resolve().parents[2]
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(root), os.environ.get("PYTHONPATH", "")]),
    }
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.stderr.splitlines()[-1] == "status 0 loaded []", done.stderr


def test_every_command_resolves_to_a_function() -> None:
    for key, (target, _) in COMMANDS.items():
        module, _, name = target.partition(":")
        assert callable(getattr(importlib.import_module(module), name)), key


@pytest.mark.parametrize(
    "argv",
    [
        ["run"],
        ["demo"],
        ["digest"],
        ["match", "a.txt"],
        ["sources", "check"],
        ["outbox"],
        ["db", "upgrade"],
        ["topics", "explain", "t", "a.txt"],
    ],
    ids=" ".join,
)
def test_every_command_line_has_an_implementation(argv: list[str]) -> None:
    assert build_parser().parse_args(argv).command_key in COMMANDS


def test_a_digest_date_that_is_no_day_is_refused_in_one_line(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["digest", "--date", "tomorrowish"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "tomorrowish" in err
