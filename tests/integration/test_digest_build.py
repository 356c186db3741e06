"""Digests built from a real SQLite store filled by fixture runs against the replay site.

The store holds one poll cycle of the demo site on 2024-12-18 (10:00 in Seoul), its alerts
delivered to files, plus direct writes: two weeks of earlier troop-deployment stories, a story
that began two days earlier, a story alerted today whose copies are all from yesterday, a
suppressed (over-budget) alert, a late-evening story (the next day in Seoul, the same day in
Moscow), a feed answering 503 (failed) and a feed with nothing new for six days (silent).
"""

from __future__ import annotations

import re
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path

import pytest
import sqlalchemy as sa
from pydantic import SecretStr

from alerts.delivery.channels import FileChannel
from alerts.delivery.outbox import deliver_pending
from alerts.digest.read import build_digest, day_window
from alerts.digest.writer import render_digest_markdown, write_digest
from alerts.models import Digest, DigestStory
from flows.cli import main
from flows.local.replay import ReplaySite, write_demo_sources
from flows.local.sinks import SmtpSink
from flows.settings import Settings
from flows.wiring import build_runtime
from monitors.models import Evidence, NewItem, TopicMatch
from monitors.pipeline import check_source
from monitors.schedule import PollPolicy
from monitors.store import Store, create_engine
from monitors.store.schema import outbox
from seeds.loader import load_seeds
from seeds.models import DeskSpec, Seeds
from tests.conftest import REPLAY_SITE
from tests.support.peek import database

DAY = date(2024, 12, 18)
CLOCK = datetime(2024, 12, 18, 1, 0, tzinfo=UTC)  # 10:00 in Seoul, 04:00 in Moscow
# The replayed feeds are the day's news to these desks: their first poll alerts all of it.
ALERT_WHOLE_FEED = PollPolicy(first_poll_window=None)
LATE = datetime(2024, 12, 18, 20, 30, tzinfo=UTC)  # 05:30 next day in Seoul, 23:30 in Moscow
EXTRA_SOURCES = """
  - id: demo-broken
    name: Broken Wire (replay)
    kind: rss
    url: "{base}/broken/feed.xml"
  - id: demo-quiet
    name: Quiet Wire (replay)
    kind: rss
    url: "{base}/quiet/feed.xml"
"""


@dataclass(frozen=True)
class World:
    seeds: Seeds
    sources_file: Path
    state_url: str
    store: Store

    def desk(self, desk_id: str) -> DeskSpec:
        return next(d for d in self.seeds.desks if d.id == desk_id)

    def digest(self, desk_id: str) -> Digest:
        desk = self.desk(desk_id)
        return build_digest(self.store, desk, self.seeds.topics, self.seeds.sources, DAY)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    root = tmp_path_factory.mktemp("digest-world")
    state_url = f"sqlite:///{root / 'state.db'}"
    settings = Settings(
        state_url=SecretStr(state_url), outbox_dir=root / "outbox", allow_private_networks=True
    )
    with ReplaySite(REPLAY_SITE) as site:
        site.add_status("/broken/feed.xml", 503)
        demo = write_demo_sources(site.base_url, root / "demo.yaml").read_text(encoding="utf-8")
        sources_file = root / "sources.yaml"
        sources_file.write_text(demo + EXTRA_SOURCES.replace("{base}", site.base_url))
        seeds = load_seeds(sources_file, None, None)
        rt = build_runtime(settings, seeds)
        try:
            for source in seeds.sources:
                if source.id != "demo-quiet":
                    check_source(
                        source,
                        rt.fetcher,
                        rt.store,
                        rt.matcher,
                        rt.plan_alerts,
                        now=lambda: CLOCK,
                        polling=ALERT_WHOLE_FEED,
                    )
            channel = FileChannel(root / "outbox")
            report = deliver_pending(rt.outbox, lambda _: channel, now=lambda: CLOCK)
            assert report.sent > 0 and not report.errors
            _write_history(rt.store)
        finally:
            rt.close()
    store = Store(create_engine(state_url))
    yield World(seeds, sources_file, state_url, store)
    store.dispose()


def _record(
    store: Store, source: str, key: str, story: str, topic: str | None, at: datetime
) -> None:
    """One item (matched to `topic`, when given) written straight into the store."""
    text = f"North Korea and Russia: {key}"
    found = [TopicMatch(topic, 5.0, "high", (Evidence(text, 0, len(text), ((0, 11),)),))]
    item = NewItem(
        source_id=source,
        item_key=key,
        url=f"https://{source}.example/{key}",
        canonical_url=f"https://{source}.example/{key}",
        title=f"{key.replace('-', ' ').capitalize()}",
        outlet=source.replace("-", " ").title(),
        published=None,
        detected_at=at,
        fingerprint=key,
        story_key=story,
    )
    store.record_item(item, found if topic else [], [])


def _outbox_row(store: Store, topic: str, story: str, status: str) -> None:
    with database(store) as conn:
        conn.execute(
            outbox.insert().values(
                alert_key=f"korea-desk|email|{topic}|{story}|{status}",
                desk_id="korea-desk",
                channel="email",
                topic_id=topic,
                story_key=story,
                payload_json="{}",
                status=status,
                attempts=1,
                next_attempt_at=CLOCK,
                created_at=CLOCK,
                sent_at=CLOCK if status == "sent" else None,
            )
        )


def _write_history(store: Store) -> None:
    for days in range(1, 10):  # one troop-deployment story a day, 12:00 in Seoul
        at = CLOCK - timedelta(days=days) + timedelta(hours=2)
        _record(store, "archive-wire", f"troops-{days}", f"troops-{days}", "troop-deployment", at)
    _record(
        store,
        "archive-wire",
        "continuing-1",
        "continuing",
        "arms-transfers",
        CLOCK - timedelta(days=2),
    )
    _record(
        store,
        "late-wire",
        "continuing-2",
        "continuing",
        "arms-transfers",
        CLOCK - timedelta(minutes=30),
    )
    yesterday = CLOCK - timedelta(hours=20)
    _record(store, "archive-wire", "yesterday", "yesterday", "pyongyang-moscow-ties", yesterday)
    _outbox_row(store, "pyongyang-moscow-ties", "yesterday", "sent")
    _outbox_row(store, "troop-deployment", "over-budget", "suppressed")
    _record(store, "archive-wire", "late-evening", "late-evening", "pyongyang-moscow-ties", LATE)
    for days in (6, 7, 8):
        _record(
            store,
            "demo-quiet",
            f"quiet-{days}",
            f"quiet-{days}",
            None,
            CLOCK - timedelta(days=days),
        )
    store.record_check("demo-quiet", "ok", "ok", "", CLOCK)


def _stories(d: Digest) -> dict[str, DigestStory]:
    """The listed stories by key; each is listed once."""
    listed = [s for t in d.topics for s in t.stories]
    assert len({s.story_key for s in listed}) == len(listed), "a story is listed twice"
    return {s.story_key: s for s in listed}


def _tagged(d: Digest) -> set[tuple[str, str]]:
    """(topic, story key) for every topic tag of every listed story."""
    return {(t.topic_id, s.story_key) for s in _stories(d).values() for t in s.topics}


@pytest.mark.parametrize("desk_id", ["korea-desk", "diplomacy-desk"])
def test_every_alerted_story_appears(world: World, desk_id: str) -> None:
    digest = world.digest(desk_id)
    start, end = day_window(DAY, world.desk(desk_id).timezone)
    with database(world.store) as conn:
        rows = conn.execute(
            sa.select(outbox.c.topic_id, outbox.c.story_key, outbox.c.sent_at).where(
                outbox.c.desk_id == desk_id, outbox.c.status == "sent"
            )
        ).all()
    sent = [(t, k) for t, k, at in rows if start <= at.replace(tzinfo=UTC) < end]
    assert sent, "the fixture run must have alerted this desk"
    stories = _stories(digest)
    for topic_id, story_key in sent:
        assert (topic_id, story_key) in _tagged(digest)
        assert stories[story_key].alerted
    assert digest.summary.alerts_sent == len(sent)  # messages, one per row
    assert digest.summary.alerted_stories == len({k for _, k in sent})


@pytest.mark.parametrize("desk_id", ["korea-desk", "diplomacy-desk"])
def test_a_story_matching_several_topics_is_listed_once_with_its_tags(
    world: World, desk_id: str
) -> None:
    digest = world.digest(desk_id)
    stories = _stories(digest)
    several = [s for s in stories.values() if len(s.topics) > 1]
    assert several, "the replay site has stories that match two of the desk's topics"
    severity = {t.id: t.severity.rank for t in world.seeds.topics}
    for story in several:
        lead = story.topics[0]
        assert story in next(t for t in digest.topics if t.topic_id == lead.topic_id).stories
        ranks = [(severity[t.topic_id], t.score) for t in story.topics]
        assert ranks == sorted(ranks, reverse=True)  # severity first, then score
    for topic in digest.topics:
        tagged = [s for s in stories.values() if topic.topic_id in {t.topic_id for t in s.topics}]
        assert topic.matched_stories == len(tagged) >= len(topic.stories)
    assert digest.summary.stories == len(stories)


def test_a_story_alerted_today_from_yesterdays_copies_is_listed(world: World) -> None:
    story = _stories(world.digest("korea-desk"))["yesterday"]
    assert story.alerted and story.first_seen_at < CLOCK - timedelta(hours=12)


def test_items_are_grouped_into_stories(world: World) -> None:
    digest = world.digest("korea-desk")
    for topic in digest.topics:
        keys = [s.story_key for s in topic.stories]
        assert len(keys) == len(set(keys)), f"{topic.topic_id}: a story is listed twice"
        scores = [s.score for s in topic.stories]
        assert scores == sorted(scores, reverse=True)
    arms = next(t for t in digest.topics if t.topic_id == "arms-transfers")
    syndicated = [s for s in arms.stories if s.outlets >= 2 and s.story_key != "continuing"]
    assert syndicated, "the artillery-shells story runs on two replay outlets: one story"
    outlets = {syndicated[0].outlet} | {o.outlet for o in syndicated[0].also_reported_by}
    assert len(outlets) == syndicated[0].outlets
    continuing = _stories(digest)["continuing"]
    assert continuing.items == 2 and continuing.outlets == 2
    assert continuing.first_seen_at == CLOCK - timedelta(days=2)
    assert arms.suppressed_duplicates >= 1  # today's copy of a story first seen before
    assert digest.summary.suppressed_duplicates >= arms.suppressed_duplicates


def test_failed_and_silent_sources_are_listed_with_the_reason(world: World) -> None:
    digest = world.digest("korea-desk")
    by_id = {s.source_id: s for s in digest.sources}
    assert by_id["demo-broken"].status == "failed"
    assert by_id["demo-broken"].reason == "http-5xx"
    assert by_id["demo-quiet"].status == "silent"
    # items 6, 7 and 8 days before, one a day: usually a day apart, so silent after 3 days
    assert by_id["demo-quiet"].reason == "no new item for 6 days (usually under 3 days)"
    healthy = [s for i, s in by_id.items() if i not in ("demo-broken", "demo-quiet")]
    assert healthy and all(s.status == "ok" for s in healthy)
    assert (digest.summary.sources_failed, digest.summary.sources_silent) == (1, 1)


def test_the_chart_has_fourteen_daily_points_per_topic(world: World, tmp_path: Path) -> None:
    digest = world.digest("korea-desk")
    expected_days = [DAY - timedelta(days=n) for n in range(13, -1, -1)]
    for topic in digest.topics:
        assert [p.date for p in topic.volume] == expected_days
    troops = next(t for t in digest.topics if t.topic_id == "troop-deployment")
    assert [p.stories for p in troops.volume[4:13]] == [1] * 9
    assert troops.average_7d == 1.0
    assert troops.volume[-1].stories == len(
        [s for s in troops.stories if s.first_seen_at >= digest.window_start]
    )
    assert troops.suppressed_over_budget == 1
    html = write_digest(digest, tmp_path).html.read_text(encoding="utf-8")
    polylines = re.findall(r'<polyline points="([^"]+)"', html)
    assert [len(p.split()) for p in polylines] == [14] * len(digest.topics)


def test_each_desk_reads_its_own_local_day(world: World) -> None:
    korea, diplomacy = world.digest("korea-desk"), world.digest("diplomacy-desk")
    assert "late-evening" not in _stories(korea)
    assert "late-evening" in _stories(diplomacy)
    assert korea.data_as_of == korea.window_end  # later data exists: capped at the day's end
    assert diplomacy.data_as_of == LATE


def test_transcript_passages_link_to_their_time(world: World) -> None:
    stories = [s for t in world.digest("korea-desk").topics for s in t.stories if s.transcript]
    stamped = [p for s in stories for p in s.passages if p.timestamp]
    assert stamped, "the podcast transcript has `Starting point is` lines"
    for passage in stamped:
        assert passage.timestamp_url and passage.timestamp_url.endswith(f"#t={passage.timestamp}")
        assert "Starting point is" not in passage.text


def test_regenerating_a_day_gives_the_same_files(world: World, tmp_path: Path) -> None:
    first = write_digest(world.digest("korea-desk"), tmp_path)
    before = {p: p.read_bytes() for p in (first.md, first.html, first.json)}
    second = write_digest(world.digest("korea-desk"), tmp_path)
    assert {p: p.read_bytes() for p in (second.md, second.html, second.json)} == before


# --- the flow and the command line -----------------------------------------------------------


@pytest.fixture
def digest_env(world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Settings for a flow run over the filled store, with fresh output folders."""
    monkeypatch.setenv("DESKWATCH_STATE_URL", world.state_url)
    monkeypatch.setenv("DESKWATCH_DIGEST_DIR", str(tmp_path / "digests"))
    monkeypatch.setenv("DESKWATCH_OUTBOX_DIR", str(tmp_path / "outbox"))
    return tmp_path


@pytest.mark.usefixtures("prefect_harness")
def test_flow_writes_emails_and_publishes_each_digest(
    world: World, digest_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey

    from flows.poll import daily_digest

    with SmtpSink() as smtp:
        monkeypatch.setenv("DESKWATCH_SMTP_URL", smtp.url)
        written = daily_digest(DAY.isoformat(), sources_file=str(world.sources_file), email=True)
        messages = smtp.messages
    assert set(written) == {"korea-desk", "diplomacy-desk"}
    korea_md = Path(written["korea-desk"][0]).read_text(encoding="utf-8")
    assert len(messages) == 1  # the Korea desk reads email; the diplomacy desk a file channel
    mail = messages[0]
    assert mail["To"] == "korea-desk@newsroom.example"
    assert "Korea desk digest 2024-12-18" in mail["Subject"]
    text = mail.get_body(("plain",))
    assert isinstance(text, EmailMessage)
    assert text.get_content().replace("\r\n", "\n") == korea_md  # SMTP speaks CRLF
    eml = digest_env / "outbox" / "diplomacy-desk" / "digest-2024-12-18.eml"
    assert eml.exists() and b"multipart/alternative" in eml.read_bytes()
    with get_client(sync_client=True) as client:
        artifacts = client.read_artifacts(
            artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=["digest-korea-desk"]))
        )
    assert artifacts and artifacts[-1].type == "markdown"
    assert any(a.data == korea_md for a in artifacts)


@pytest.mark.usefixtures("prefect_harness")
def test_cli_digest_for_one_desk(
    world: World, digest_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["digest", "--date", "2024-12-18", "--desk", "korea-desk"]
    assert main([*args, "--sources", str(world.sources_file)]) == 0
    out = capsys.readouterr().out
    md = digest_env / "digests" / "korea-desk" / "2024-12-18.md"
    assert f"digest korea-desk: {md}" in out and md.exists()
    assert not (digest_env / "digests" / "diplomacy-desk").exists()


def test_cli_digest_rejects_a_bad_date_in_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["digest", "--date", "2024-13-45"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--date" in err


@pytest.mark.usefixtures("prefect_harness")
def test_cli_digest_email_failure_keeps_the_files_and_exits_3(
    world: World,
    digest_env: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        dead = probe.getsockname()[1]
    monkeypatch.setenv("DESKWATCH_SMTP_URL", f"smtp://user:s3cret@127.0.0.1:{dead}")
    args = ["digest", "--date", "2024-12-18", "--desk", "korea-desk", "--email"]
    assert main([*args, "--sources", str(world.sources_file)]) == 3
    err = capsys.readouterr().err
    assert "digest email not sent: korea-desk: smtp 127.0.0.1" in err and "s3cret" not in err
    assert (digest_env / "digests" / "korea-desk" / "2024-12-18.html").exists()


def test_builds_the_same_digest_on_sqlite_and_postgresql(database_url: str) -> None:
    store = Store(create_engine(database_url))
    try:
        _write_history(store)
        seeds = load_seeds(None, None, None)
        korea = next(d for d in seeds.desks if d.id == "korea-desk")
        digest = build_digest(store, korea, seeds.topics, seeds.sources, DAY)
    finally:
        store.dispose()
    assert _tagged(digest) == {
        ("arms-transfers", "continuing"),
        ("pyongyang-moscow-ties", "yesterday"),
    }
    stories = _stories(digest)
    assert stories["continuing"].first_seen_at == CLOCK - timedelta(days=2)
    assert stories["yesterday"].alerted
    troops = next(t for t in digest.topics if t.topic_id == "troop-deployment")
    assert [p.stories for p in troops.volume[4:13]] == [1] * 9
    assert digest.summary.suppressed_over_budget == 1
    assert digest.data_as_of == digest.window_end


# --- quiet hours and one alert row per story -------------------------------------------------

QUIET_END = datetime(2024, 12, 19, 4, 0, tzinfo=UTC)  # 07:00 on Dec 19 in Moscow
LAST_NIGHT_END = datetime(2024, 12, 18, 4, 0, tzinfo=UTC)  # 07:00 on Dec 18 in Moscow


def _row(store: Store, channel: str, topic: str, story: str, status: str, **at: datetime) -> None:
    """One diplomacy-desk outbox row keyed `desk|channel|story` (one per story and channel)."""
    created = at.get("created", CLOCK)
    with database(store) as conn:
        conn.execute(
            outbox.insert().values(
                alert_key=f"diplomacy-desk|{channel}|{story}",
                desk_id="diplomacy-desk",
                channel=channel,
                topic_id=topic,
                story_key=story,
                payload_json="{}",
                status=status,
                attempts=1 if status == "sent" else 0,
                next_attempt_at=at.get("due", created),
                created_at=created,
                sent_at=at.get("sent"),
            )
        )


def _quiet_night(store: Store) -> None:
    """The diplomacy desk (quiet 23:00-07:00 Moscow) on Dec 18, per channel: one story matching
    both its topics alerted at 10:05 (one row per story); one alert held at 03:30 and carried by
    the 07:00 summary, sent; three held at 23:30 for the summary due at 07:00 on Dec 19."""
    morning = datetime(2024, 12, 18, 7, 0, tzinfo=UTC)  # 10:00 in Moscow
    text = "Seoul and Moscow talk about Pyongyang"
    evidence = (Evidence(text, 0, len(text), ((0, 5),)),)
    both = [
        TopicMatch("seoul-moscow", 5.0, "medium", evidence),
        TopicMatch("pyongyang-moscow-ties", 8.0, "medium", evidence),
    ]
    item = NewItem(
        source_id="wire",
        item_key="talks",
        url="https://wire.example/talks",
        canonical_url="https://wire.example/talks",
        title="Talks",
        outlet="Wire",
        published=None,
        detected_at=morning,
        fingerprint="talks",
        story_key="talks",
    )
    store.record_item(item, both, [])
    night = datetime(2024, 12, 18, 0, 30, tzinfo=UTC)  # 03:30 in Moscow
    late = datetime(2024, 12, 18, 20, 30, tzinfo=UTC)  # 23:30 in Moscow
    for n in range(3):
        _record(store, "wire", f"late-{n}", f"late-{n}", "seoul-moscow", late)
    last = f"summary:quiet-{LAST_NIGHT_END:%Y-%m-%dT%H:%MZ}"
    upcoming = f"summary:quiet-{QUIET_END:%Y-%m-%dT%H:%MZ}"
    for channel in ("slack", "file"):
        sent = morning + timedelta(minutes=5)
        _row(store, channel, "pyongyang-moscow-ties", "talks", "sent", sent=sent)
        _row(store, channel, "seoul-moscow", "night", "summarized", created=night)
        gone = LAST_NIGHT_END + timedelta(seconds=3)
        _row(store, channel, "*", last, "sent", created=night, due=LAST_NIGHT_END, sent=gone)
        for n in range(3):
            _row(store, channel, "seoul-moscow", f"late-{n}", "summarized", created=late)
        _row(store, channel, "*", upcoming, "pending", created=late, due=QUIET_END)


def test_held_alerts_and_per_story_rows_on_sqlite_and_postgresql(database_url: str) -> None:
    store = Store(create_engine(database_url))
    try:
        _quiet_night(store)
        seeds = load_seeds(None, None, None)
        desk = next(d for d in seeds.desks if d.id == "diplomacy-desk")
        digest = build_digest(store, desk, seeds.topics, seeds.sources, DAY)
    finally:
        store.dispose()
    talks = _stories(digest)["talks"]
    assert talks.alerted and [t.topic_id for t in talks.topics] == [
        "pyongyang-moscow-ties",  # same severity: the better score leads
        "seoul-moscow",
    ]
    seoul, ties = digest.topics  # desks.yaml order
    assert [s.story_key for s in ties.stories] == ["talks"]
    assert (ties.matched_stories, seoul.matched_stories) == (1, 4)
    s = digest.summary
    assert (s.alerts_sent, s.alerted_stories) == (4, 1)  # two alerts and two summaries sent
    assert s.held_for_quiet_hours == 8
    went, waits = s.quiet_releases
    assert (went.sent, went.at, went.alerts) == (True, LAST_NIGHT_END + timedelta(seconds=3), 2)
    assert (waits.sent, waits.at, waits.alerts, waits.stories) == (False, QUIET_END, 6, 3)
    md = render_digest_markdown(digest)
    assert "6 alerts about 3 stories held for quiet hours go out at 2024-12-19 07:00 MSK" in md
    assert "2 alerts about 1 story held for quiet hours went out at 07:00 MSK" in md
    assert "times in MSK, UTC+03:00" in md
