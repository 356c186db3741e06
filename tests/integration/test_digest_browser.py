"""The digest page in a real headless browser (Debian's chromium): it loads without a console
message and a phone-sized screenshot is kept under test-artifacts/.

The page has no script, so any console line at all (an error, a blocked load, a CSP violation)
means something is wrong. A canary page proves the console really is captured.
"""

from __future__ import annotations

import os
import re
import shutil
import struct
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from alerts.digest.writer import render_digest_html, write_digest
from alerts.models import DigestTopic
from tests.conftest import REPO
from tests.integration.test_digest_build import World, world
from tests.unit.test_digest_writer import make_digest, make_story

__all__ = ["world"]  # the filled store of test_digest_build, reused as a fixture here

ARTIFACTS = REPO / "test-artifacts"
PHONE = (420, 1600)
_CONSOLE = re.compile(r":CONSOLE[:(]|Uncaught")


@dataclass(frozen=True)
class PageLoad:
    returncode: int
    console: list[str]
    screenshot: Path


@pytest.fixture(scope="module")
def chromium() -> str:
    """The chromium binary, or a skip that says how to get it."""
    binary = shutil.which("chromium") or shutil.which("chromium-browser")
    if binary is None:
        pytest.skip(
            "chromium is not installed: `apt-get install chromium` (scripts/system-deps.sh "
            "does it as root); the digest page check needs a real browser"
        )
    return binary


def load(binary: str, page: Path, screenshot: Path, profile: Path) -> PageLoad:
    """Open `page` in headless chromium, with no network chatter; keep console lines."""
    command = [
        binary,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-default-apps",
        "--disable-extensions",
        "--mute-audio",
        f"--user-data-dir={profile}",
        "--enable-logging=stderr",
        "--v=0",
        f"--screenshot={screenshot}",
        f"--window-size={PHONE[0]},{PHONE[1]}",
        page.resolve().as_uri(),
    ]
    home = {"HOME": str(profile), "XDG_CONFIG_HOME": str(profile), "XDG_CACHE_HOME": str(profile)}
    done = subprocess.run(
        command, capture_output=True, text=True, timeout=90, env={**os.environ, **home}
    )
    console = [line for line in done.stderr.splitlines() if _CONSOLE.search(line)]
    return PageLoad(done.returncode, console, screenshot)


def png_size(path: Path) -> tuple[int, int]:
    """Width and height from a PNG's IHDR chunk."""
    header = path.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    width, height = struct.unpack(">II", header[16:24])
    return width, height


def test_digest_page_loads_clean_and_is_kept_as_a_screenshot(
    chromium: str, world: World, tmp_path: Path
) -> None:
    paths = write_digest(world.digest("korea-desk"), tmp_path / "digests")
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "digest-korea-desk-phone.png"
    shot.unlink(missing_ok=True)
    page = load(chromium, paths.html, shot, tmp_path / "profile")
    assert page.returncode == 0
    assert page.console == [], "the digest page logged to the console"
    assert png_size(shot) == PHONE
    assert shot.stat().st_size > 40_000  # a rendered page, not a blank one (~6 kB)


def test_feed_text_cannot_reach_the_browser_as_markup(chromium: str, tmp_path: Path) -> None:
    hostile = make_story(
        headline='<img src="https://tracker.example/p.gif"><script>console.error(1)</script>',
        outlet="<style>@import url(https://evil.example/x.css)</style>",
        url='https://ok.example/"><img src=x onerror=alert(1)>',
    )
    digest = make_digest(
        topics=[DigestTopic(topic_id="t", title="<svg onload=alert(1)>", stories=[hostile])]
    )
    html = tmp_path / "hostile.html"
    html.write_text(render_digest_html(digest), encoding="utf-8")
    page = load(chromium, html, tmp_path / "hostile.png", tmp_path / "profile")
    assert page.returncode == 0 and page.console == []


def test_the_console_check_sees_errors_and_the_policy_blocks_loads(
    chromium: str, tmp_path: Path
) -> None:
    head = render_digest_html(make_digest()).split("</head>")[0]  # the digest's own policy
    canary = tmp_path / "canary.html"
    canary.write_text(
        head + '</head><body><img src="https://tracker.example/p.gif">'
        "<script>console.error('canary')</script></body></html>",
        encoding="utf-8",
    )
    page = load(chromium, canary, tmp_path / "canary.png", tmp_path / "profile")
    assert page.returncode == 0
    joined = "\n".join(page.console)
    assert "tracker.example" in joined and "Content Security Policy" in joined
    assert "inline script" in joined  # the script was blocked, never run
