"""Topic matching: word boundaries, prefixes, Hangul particles, exclusions, scoring, evidence."""

from __future__ import annotations

from monitors.match import Matcher
from monitors.models import Document
from seeds.models import TermGroup, TopicSpec


def topic(
    groups: dict[str, list[str]], exclude: list[str] | None = None, threshold: float = 2
) -> TopicSpec:
    return TopicSpec(
        id="troops",
        title="Troops",
        severity="high",
        threshold=threshold,
        all=[TermGroup(name=name, terms=terms) for name, terms in groups.items()],
        exclude=exclude or [],
    )


NK_RU = {"nk": ["North Korea", "북한", "КНДР", "северокорейск*"], "ru": ["Russia", "러시아"]}


def matched(spec: TopicSpec, title: str, body: str = "") -> list[str]:
    return [m.topic for m in Matcher([spec]).match(Document(title, body))]


def test_every_group_must_hit() -> None:
    spec = topic(NK_RU)
    assert matched(spec, "North Korea sends envoy to Russia") == ["troops"]
    assert matched(spec, "North Korea tests a missile") == []


def test_terms_match_whole_words_only() -> None:
    spec = topic({"ru": ["Russia"]}, threshold=1)
    assert matched(spec, "Prussian archives reopen in Russiana") == []
    assert matched(spec, "Russia's envoy speaks") == ["troops"]


def test_case_is_ignored() -> None:
    assert matched(topic(NK_RU), "NORTH KOREA and RUSSIA sign a pact") == ["troops"]


def test_star_suffix_matches_russian_case_endings() -> None:
    spec = topic(NK_RU)
    assert matched(spec, "Северокорейские военные прибыли", "Россия и КНДР. Russia.") == ["troops"]
    assert matched(spec, "Северокорейских солдат видели у Курска; Russia молчит") == ["troops"]


def test_hangul_terms_match_before_particles() -> None:
    spec = topic(NK_RU)
    assert matched(spec, "북한이 러시아에 병력을 보냈다") == ["troops"]
    assert matched(spec, "북한은 러시아와 조약을 맺었다") == ["troops"]


def test_exclusion_vetoes_a_match() -> None:
    spec = topic(NK_RU, exclude=["K-pop"])
    assert matched(spec, "North Korea and Russia", "A K-pop group toured Russia.") == []


def test_title_hits_weigh_more_than_body_hits() -> None:
    spec = topic(NK_RU, threshold=4)
    assert matched(spec, "North Korea and Russia talk") == ["troops"]
    assert matched(spec, "Talks held", "North Korea and Russia talk.") == []


def test_evidence_offsets_point_into_the_document_text() -> None:
    document = Document("Envoys meet", "Weather was fine. North Korea thanked Russia for grain.")
    (match,) = Matcher([topic(NK_RU)]).match(document)
    (evidence,) = match.evidence
    assert document.text[evidence.start : evidence.end] == evidence.text
    assert evidence.text == "North Korea thanked Russia for grain."
    words = [evidence.text[s:e] for s, e in evidence.highlights]
    assert words == ["North Korea", "Russia"]


def test_one_pass_serves_many_topics() -> None:
    second = TopicSpec(
        id="seoul",
        title="Seoul",
        all=[TermGroup(name="kr", terms=["Seoul"]), TermGroup(name="ru", terms=["Moscow"])],
        threshold=2,
    )
    found = Matcher([topic(NK_RU), second]).match(
        Document("Seoul and Moscow trade barbs as North Korea courts Russia", "")
    )
    assert sorted(m.topic for m in found) == ["seoul", "troops"]


def test_prefix_highlight_covers_the_whole_inflected_word() -> None:
    spec = topic({"nk": ["North Korea*"], "t": ["troop*"]})
    (match,) = Matcher([spec]).match(Document("North Korean troops deploy", ""))
    (evidence,) = match.evidence
    assert [evidence.text[s:e] for s, e in evidence.highlights] == ["North Korean", "troops"]


def test_headline_repeated_in_the_body_is_quoted_once() -> None:
    title = "North Korea thanks Russia"
    (match,) = Matcher([topic(NK_RU)]).match(Document(title, f"{title}\nMore text."))
    assert [e.text for e in match.evidence] == [title]
