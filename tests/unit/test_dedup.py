"""Story identity and the decisions around it: canonical URLs, signatures, joins, updates."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from alerts.delivery.routing import plan_alerts
from monitors.dedup import (
    Candidate,
    DedupPolicy,
    choose_story,
    identify,
    lsh_bands,
    shingles,
    similarity,
    update_due,
    widened,
)
from monitors.facts import copy_facts
from monitors.identity import global_guid, normalized_title
from monitors.models import Evidence, FactChange, NewItem, StoryNews, TopicMatch
from monitors.pipeline import story_news
from monitors.store.stories import StoryState
from seeds.loader import load_seeds

POLICY = DedupPolicy()
NOW = datetime(2024, 12, 19, 9, 0, tzinfo=UTC)
WIRE = (
    "North Korean troops deployed to Russia's Kursk region have suffered at least 100 deaths and "
    "nearly 1,000 wounded in their first weeks of combat against Ukrainian forces, South Korea's "
    "spy agency told lawmakers on Thursday. The National Intelligence Service said the soldiers, "
    "part of a contingent of about 11,000 sent by Pyongyang in October, were used in assault "
    "operations across open fields with little experience of drone warfare. The agency said "
    "Pyongyang appeared to be preparing to rotate or reinforce its deployment for the winter."
)


@pytest.mark.parametrize(
    ("variant", "canonical"),
    [
        (
            "https://www.news.example/a/story?utm_source=rss&utm_medium=x",
            "https://news.example/a/story",
        ),
        ("HTTP://M.News.Example/a/story/", "https://news.example/a/story"),
        (
            "https://news.example/amp/a/story?fbclid=1&gclid=2#comments",
            "https://news.example/a/story",
        ),
        ("https://amp.news.example/a/story/amp/", "https://news.example/a/story"),
        ("https://news.example/a/story.amp?outputType=amp", "https://news.example/a/story"),
        ("https://news.example/view?id=7&utm_campaign=z&b=2", "https://news.example/view?b=2&id=7"),
        ("https://news.example/", "https://news.example/"),
    ],
)
def test_canonical_url_folds_variants(variant: str, canonical: str) -> None:
    assert identify("", "", variant, "", POLICY).canonical_url == canonical


def test_distinct_articles_keep_distinct_urls() -> None:
    one = identify("", "", "https://news.example/view?idxno=1", "", POLICY).canonical_url
    two = identify("", "", "https://news.example/view?idxno=2", "", POLICY).canonical_url
    assert one != two


def test_only_global_guids_are_identity() -> None:
    assert global_guid("wire-101") is None  # unique only within its feed
    assert global_guid("tag:wire.example,2024:101") == "tag:wire.example,2024:101"
    assert global_guid("https://www.wire.example/101/?utm_source=a") == "https://wire.example/101"


def test_normalized_title_drops_outlet_suffix_and_case() -> None:
    assert normalized_title("Seoul Summons Russian Envoy Over Troops - The Herald") == (
        "seoul summons russian envoy over troops"
    )
    assert normalized_title("North Korea - Russia") == "north korea russia"


def test_shingles_are_words_or_hangul_characters() -> None:
    assert "north korean troops deployed to" in shingles(WIRE)
    korean = shingles("북한군 병력이 러시아 쿠르스크 전선에 배치됐다")
    assert "북한군병" in korean and all(len(s) == 4 for s in korean)
    assert shingles("...") == set()


def lightly_edited(text: str) -> str:
    return text.replace("combat", "fighting").replace("deployed", "sent") + " By Herald staff."


def test_reprints_are_similar_and_other_stories_are_not() -> None:
    original = identify("Troops suffer losses", WIRE, "https://a.example/1", "", POLICY)
    reprint = identify("Heavy losses", lightly_edited(WIRE), "https://b.example/2", "", POLICY)
    other = identify("Consular talks", WIRE[::-1], "https://a.example/3", "", POLICY)
    assert similarity(reprint.signature, original.signature) >= POLICY.threshold
    assert similarity(other.signature, original.signature) < 0.1
    shared = {h for h, layer in original.lookup if layer == "band"}
    assert shared & {h for h, layer in reprint.lookup if layer == "band"}


def test_short_copies_have_no_signature_and_no_text_key() -> None:
    probe = identify("What's News: Business & Finance", "", "https://w.example/1", "", POLICY)
    assert probe.signature == b""
    assert {layer for _, layer in probe.lookup} == {"url", "title"}


def test_choose_story_prefers_exact_layers_then_similarity() -> None:
    probe = identify("Heavy losses", lightly_edited(WIRE), "https://b.example/2", "", POLICY)
    near = Candidate("near", frozenset({"band"}), probe.signature)
    url = Candidate("url", frozenset({"url"}), b"")
    far = Candidate(
        "far", frozenset({"band", "title"}), identify("x", WIRE[::-1], "", "", POLICY).signature
    )
    assert choose_story(probe, [near, url], POLICY) == "url"
    assert choose_story(probe, [far, near], POLICY) == "near"
    assert choose_story(probe, [far], POLICY) is None  # a shared title alone does not join


def test_story_members_grow_only_with_differing_copies() -> None:
    first = identify("a", WIRE, "", "", POLICY).signature
    same = identify("a", WIRE + " More.", "", "", POLICY).signature
    edited = identify("b", lightly_edited(WIRE), "", "", POLICY).signature
    assert widened(first, same) is None
    grown = widened(first, edited)
    assert grown is not None and similarity(edited, grown) == 1.0


def test_lsh_bands_find_pairs_at_the_threshold() -> None:
    bands, rows = lsh_bands(0.5, 128)
    assert bands * rows <= 128 and 1 - (1 - 0.5**rows) ** bands >= 0.97
    assert POLICY.bands == lsh_bands(0.5, 128) == DedupPolicy(threshold=0.7).bands


def test_updates_are_rate_limited() -> None:
    assert update_due(None, NOW, POLICY)
    assert not update_due(NOW - timedelta(hours=5), NOW, POLICY)
    assert update_due(NOW - timedelta(hours=6), NOW, POLICY)


def state(**changes: object) -> StoryState:
    values: dict[str, object] = {
        "facts": copy_facts(WIRE), "updates": 0, "last_update_at": None,
        "told": frozenset({("korea-desk", "email")}), "others": (("Wire", "https://a.example/1"),),
    }  # fmt: skip
    values.update(changes)
    return StoryState(**values)  # type: ignore[arg-type]


def test_story_news_updates_on_a_new_body_fact_and_respects_the_interval() -> None:
    known_only = copy_facts("Nearly 1,000 wounded and at least 100 deaths, Seoul said.")
    assert story_news(state(), known_only, NOW, POLICY).update == 0
    new = copy_facts("Seoul said at least 300 soldiers were killed and 2,700 wounded.")
    news = story_news(state(updates=2), new, NOW, POLICY)
    assert (news.update, news.told) == (3, {("korea-desk", "email")})
    assert FactChange("2,700 wounded", ("1,000 wounded",)) in news.changes
    recent = state(last_update_at=NOW - timedelta(hours=1))
    assert story_news(recent, new, NOW, POLICY).update == 0


def test_plan_alerts_new_then_nothing_then_update() -> None:
    seeds = load_seeds()
    desk = seeds.desks[0]
    topic = desk.topics[0]
    item = NewItem("wire", "k1", "https://a.example/1", "https://a.example/1", "Headline",
                   "Wire", NOW, NOW, "fp", "story-1")  # fmt: skip
    found = [TopicMatch(topic, 99.0, "high", (Evidence("passage", 0, 7),))]
    first = [d for d in plan_alerts(seeds.desks, seeds.topics, item, found) if d.desk_id == desk.id]
    assert first and {d.kind for d in first} == {"new"}
    told = StoryNews(told=frozenset((d.desk_id, d.channel) for d in first))
    assert [
        d for d in plan_alerts(seeds.desks, seeds.topics, item, found, told) if d.desk_id == desk.id
    ] == []
    change = FactChange("3,000 casualties", ("1,200 casualties",))
    news = StoryNews(told=told.told, update=1, changes=(change,))
    updates = [
        d for d in plan_alerts(seeds.desks, seeds.topics, item, found, news) if d.desk_id == desk.id
    ]
    assert {d.alert_key for d in updates} == {f"{d.alert_key}|update-1" for d in first}
    assert {d.kind for d in updates} == {"update"}


def test_a_bare_headline_joins_a_story_with_the_same_long_title() -> None:
    title = "North Korea denies supplying Russia weapons, warns of red line"
    bare = identify(title, "", "https://aggregator.example/a/1", "", POLICY)
    story = Candidate("s", frozenset({"title"}), identify(title, WIRE, "", "", POLICY).signature)
    assert bare.headline_only and choose_story(bare, [story], POLICY) == "s"
    short = identify("Markets roundup: talk", "", "https://aggregator.example/a/2", "", POLICY)
    assert choose_story(short, [story], POLICY) is None
