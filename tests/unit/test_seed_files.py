"""The shipped seed files load and say what the design needs; bad files fail with one clear line."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest

from flows.local.replay import bundled_replay_dir, write_demo_sources
from monitors.errors import RuleError, SeedError
from seeds.loader import bundled_seed_path, load_file, load_seeds
from seeds.models import ChannelKind, Seeds, Severity, SourceKind, SourcesFile, TopicsFile
from seeds.rules import parse_rule, referenced_groups

REQUIRED_TOPICS = {"troop-deployment", "arms-transfers", "seoul-moscow", "pyongyang-moscow-ties"}
HANGUL = re.compile(r"[\uac00-\ud7af]")
CYRILLIC = re.compile(r"[\u0400-\u04ff]")
BASE = "http://127.0.0.1:8000"


@pytest.fixture(scope="module")
def seeds() -> Seeds:
    return load_seeds()


def test_bundled_sources_cover_the_seed_outlets(seeds: Seeds) -> None:
    ids = {s.id for s in seeds.sources}
    transcript = [s for s in seeds.sources if s.kind is SourceKind.TRANSCRIPT_PAGE]

    assert 8 <= len(seeds.sources) <= 12
    assert {"nknews", "nknews-podcast", "joongang-daily", "scmp-asia", "korea-bizwire"} <= ids
    assert {s.language for s in seeds.sources} == {"en", "ko", "ru"}
    assert transcript and all(s.item_link_pattern and s.poll_minutes == 60 for s in transcript)
    assert {s.poll_minutes for s in seeds.sources if s.kind is SourceKind.RSS} == {15}


def test_required_topics_exist_with_hangul_and_cyrillic_terms(seeds: Seeds) -> None:
    topics = {t.id: t for t in seeds.topics}

    assert topics.keys() >= REQUIRED_TOPICS
    for topic_id in sorted(REQUIRED_TOPICS):
        for group_name in referenced_groups(
            parse_rule(topics[topic_id].rule, "rule", topics[topic_id].groups)
        ):
            terms = topics[topic_id].groups[group_name]
            assert any(HANGUL.search(term) for term in terms), (topic_id, group_name)
            assert any(CYRILLIC.search(term) for term in terms), (topic_id, group_name)


def test_arms_transfers_excludes_south_korean_export_deals(seeds: Seeds) -> None:
    topic = seeds.topic("arms-transfers")
    assert topic.exclude
    assert any("K2" in term for term in topic.groups["sk-arms-deals"])


def test_desks_differ_in_topics_and_channels(seeds: Seeds) -> None:
    desks = seeds.desks
    topic_sets = {frozenset(d.topics) for d in desks}
    channel_sets = {frozenset((c.kind, c.webhook, tuple(c.to)) for c in d.channels) for d in desks}
    kinds = {c.kind for d in desks for c in d.channels}

    assert len(desks) >= 2
    assert len(topic_sets) == len(desks) and len(channel_sets) == len(desks)
    assert {ChannelKind.EMAIL, ChannelKind.SLACK, ChannelKind.FILE} <= kinds
    assert {topic for d in desks for topic in d.topics} >= REQUIRED_TOPICS


def test_demo_sources_load_once_base_is_filled_in(tmp_path: Path) -> None:
    path = write_demo_sources(BASE, tmp_path / "sources.yaml")

    demo = load_file(path, SourcesFile)

    assert 4 <= len(demo.sources) <= 5
    assert all(s.id.startswith("demo-") and s.url.startswith(BASE + "/") for s in demo.sources)


def test_demo_transcript_pattern_selects_only_episode_links(tmp_path: Path) -> None:
    demo = load_file(write_demo_sources(BASE, tmp_path / "sources.yaml"), SourcesFile)
    podcast = next(s for s in demo.sources if s.kind is SourceKind.TRANSCRIPT_PAGE)
    index = (bundled_replay_dir() / "site" / "podcast" / "index.html").read_text(encoding="utf-8")
    hrefs = {h.replace("{base}", BASE) for h in re.findall(r'href="([^"]+)"', index)}

    assert podcast.item_link_pattern is not None
    episodes = {h for h in hrefs if re.search(podcast.item_link_pattern, h)}

    assert len(episodes) == 2
    assert all("/podcast/episodes/" in h for h in episodes)


def test_bad_url_names_file_entry_and_field(tmp_path: Path) -> None:
    path = tmp_path / "sources.yaml"
    path.write_text(
        "sources:\n"
        "  - {id: good, name: Good, kind: rss, url: 'https://example.org/feed'}\n"
        "  - {id: broken, name: Broken, kind: rss, url: 'ftp://example.org/feed'}\n",
        encoding="utf-8",
    )

    message = _seed_error(lambda: load_file(path, SourcesFile))

    assert str(path) in message
    assert "sources[1] (id=broken).url" in message


def test_unknown_desk_topic_names_file_entry_and_field(tmp_path: Path) -> None:
    path = tmp_path / "desks.yaml"
    path.write_text(
        "desks:\n"
        "  - id: night-desk\n"
        "    name: Night desk\n"
        "    topics: [troop-deployment, moon-landing]\n"
        "    channels: [{kind: file}]\n",
        encoding="utf-8",
    )

    message = _seed_error(lambda: load_seeds(desks=path))

    assert str(path) in message
    assert "desks[0] (id=night-desk).topics[1]" in message
    assert "moon-landing" in message


def test_empty_topic_group_names_file_entry_and_field(tmp_path: Path) -> None:
    path = tmp_path / "topics.yaml"
    path.write_text(
        "topics:\n"
        "  - id: ok-topic\n"
        "    title: Fine\n"
        "    groups: {words: [alpha]}\n"
        "    rule: words\n"
        "  - id: hollow\n"
        "    title: Hollow\n"
        "    groups: {words: [alpha], nothing: []}\n"
        "    rule: {all: [words, nothing]}\n",
        encoding="utf-8",
    )

    message = _seed_error(lambda: load_file(path, TopicsFile))

    assert str(path) in message
    assert "topics[1] (id=hollow).groups" in message
    assert "clause groups.nothing: empty group" in message


def test_unknown_topic_severity_is_one_line_naming_the_field(tmp_path: Path) -> None:
    path = tmp_path / "topics.yaml"
    path.write_text(
        "topics:\n"
        "  - id: shells\n"
        "    title: Shells\n"
        "    severity: urgent\n"
        "    groups: {words: [shell]}\n"
        "    rule: words\n",
        encoding="utf-8",
    )

    message = _seed_error(lambda: load_file(path, TopicsFile))

    assert message == (
        f"{path}: topics[0] (id=shells).severity: Input should be 'low', 'medium' or 'high'"
    )


def test_topic_severity_loads_as_a_severity(seeds: Seeds) -> None:
    assert all(isinstance(t.severity, Severity) for t in seeds.topics)
    assert {t.severity for t in seeds.topics} <= set(Severity)


def test_a_malformed_rule_is_a_seed_error_naming_the_clause(tmp_path: Path) -> None:
    path = tmp_path / "topics.yaml"
    path.write_text(
        "topics:\n"
        "  - id: shells\n"
        "    title: Shells\n"
        "    groups: {words: [shell]}\n"
        "    rule: {all: [words, missiles]}\n",
        encoding="utf-8",
    )

    message = _seed_error(lambda: load_file(path, TopicsFile))

    assert "topics[0] (id=shells): clause rule.all[1]: unknown group 'missiles'" in message
    with pytest.raises(RuleError):
        parse_rule({"all": ["words", "missiles"]}, "rule", {"words"})


def test_bundled_paths_point_at_the_shipped_files() -> None:
    assert bundled_seed_path("topics.yaml") == Path(__file__).parents[2] / "seeds" / "topics.yaml"


def _seed_error(load: Callable[[], object]) -> str:
    with pytest.raises(SeedError) as caught:
        load()
    message = str(caught.value)
    assert "\n" not in message, message
    return message


def test_desks_say_when_they_want_to_hear(seeds: Seeds) -> None:
    desks = {d.id: d for d in seeds.desks}
    assert all(d.mode == "immediate" for d in desks.values())
    assert desks["korea-desk"].budget is not None
    assert desks["korea-desk"].budget.limit("troop-deployment") == 8
    assert desks["korea-desk"].budget.limit("arms-transfers") == 5
    assert desks["diplomacy-desk"].budget is not None


def test_the_commented_quiet_hours_load(tmp_path: Path) -> None:
    text = bundled_seed_path("desks.yaml").read_text(encoding="utf-8")
    path = tmp_path / "desks.yaml"
    path.write_text(text.replace("    # quiet_hours:", "    quiet_hours:"), encoding="utf-8")
    desks = {d.id: d for d in load_seeds(desks=path).desks}
    quiet = desks["diplomacy-desk"].quiet_hours
    assert quiet is not None and (quiet.start, quiet.end) == ("23:00", "07:00")


def test_the_digest_only_example_in_the_comment_loads(tmp_path: Path) -> None:
    text = bundled_seed_path("desks.yaml").read_text(encoding="utf-8")
    block = text[text.index("#   - id: analysis-desk") : text.index("\ndesks:")]
    example = "desks:\n" + "\n".join(line.removeprefix("#") for line in block.splitlines())
    path = tmp_path / "desks.yaml"
    path.write_text(example, encoding="utf-8")
    (desk,) = load_seeds(desks=path).desks
    assert desk.mode == "digest-only"


@pytest.mark.parametrize(
    ("extra", "where"),
    [
        (
            "    quiet_hours: {start: '23:00', end: '7'}\n",
            "desks[0] (id=night-desk).quiet_hours.end",
        ),
        ("    min_severity: urgent\n", "desks[0] (id=night-desk).min_severity"),
        (
            "    quiet_hours: {start: '23:00', end: '07:00', except: urgent}\n",
            "desks[0] (id=night-desk).quiet_hours.except",
        ),
        (
            "    budget: {per_hour: 5, topics: {seoul-moscow: 1}}\n",
            "desks[0] (id=night-desk): budget.topics",
        ),
        ("    mode: sometimes\n", "desks[0] (id=night-desk).mode"),
    ],
)
def test_bad_delivery_rules_name_file_entry_and_field(
    tmp_path: Path, extra: str, where: str
) -> None:
    path = tmp_path / "desks.yaml"
    path.write_text(
        "desks:\n"
        "  - id: night-desk\n"
        "    name: Night desk\n"
        "    topics: [troop-deployment]\n"
        f"{extra}"
        "    channels: [{kind: file}]\n",
        encoding="utf-8",
    )
    message = _seed_error(lambda: load_seeds(desks=path))
    assert str(path) in message and where in message


def _desk_with_channels(tmp_path: Path, channels: str) -> Path:
    """A one-desk desks.yaml whose channels are the given YAML flow sequence."""
    path = tmp_path / "desks.yaml"
    path.write_text(
        "desks:\n"
        "  - id: ops-desk\n"
        "    name: Ops desk\n"
        "    topics: [troop-deployment]\n"
        f"    channels: {channels}\n",
        encoding="utf-8",
    )
    return path


def test_an_apprise_channel_names_its_target(tmp_path: Path) -> None:
    path = _desk_with_channels(tmp_path, "[{kind: apprise, target: ops-teams}]")
    ((channel,),) = [d.channels for d in load_seeds(desks=path).desks]
    assert channel.kind is ChannelKind.APPRISE and channel.target == "ops-teams"


@pytest.mark.parametrize(
    ("channels", "message"),
    [
        ("[{kind: apprise}]", "an apprise channel needs a 'target'"),
        ("[{kind: slack, target: ops-teams}]", "only for kind: apprise"),
        ("[{kind: apprise, target: ops-teams, webhook: x}]", "not a 'webhook'"),
        ("[{kind: apprise, target: Ops Teams}]", "is not a slug"),
        (
            "[{kind: apprise, target: a}, {kind: apprise, target: b}]",
            "at most one apprise channel per desk",
        ),
    ],
)
def test_bad_apprise_channels_are_one_line_seed_errors(
    tmp_path: Path, channels: str, message: str
) -> None:
    path = _desk_with_channels(tmp_path, channels)
    error = _seed_error(lambda: load_seeds(desks=path))
    assert "desks[0] (id=ops-desk)" in error and message in error
