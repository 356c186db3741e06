"""The topic language, operator by operator: terms, inflections, all/any/not, NEAR, exclusions."""

from __future__ import annotations

import re
from typing import Any

import pytest

from monitors.match import Matcher
from monitors.models import Document
from seeds.models import TopicSpec

GROUPS = {
    "nk": [
        "North Korea*",
        "DPRK",
        "КНДР",
        "Северная Корея",
        "северокорейск*",
        "북한",
        "북한군",
        "朝鲜",
    ],
    "ru": ["Russia*", "Курск", "러시아", "俄罗斯"],
    "troops": ["troop", "soldier*", "войск*", "병력", "북한군"],
    "shells": ["shell", "ammunition"],
    "poland": ["Poland", "K2 tank*"],
}


def spec(rule: Any, exclude: list[Any] | None = None, threshold: float = 0, **kw: Any) -> TopicSpec:
    return TopicSpec(
        id="t",
        title="T",
        groups=GROUPS,
        rule=rule,
        exclude=exclude or [],
        threshold=threshold,
        **kw,
    )


def fires(rule: Any, title: str, body: str = "", **kw: Any) -> bool:
    return bool(Matcher([spec(rule, **kw)]).match(Document(title, body)))


# -- terms -------------------------------------------------------------------------------------


def test_terms_match_whole_words_case_insensitively() -> None:
    assert fires("ru", "RUSSIA and its neighbours")
    assert not fires("shells", "Seashells by the shore")


def test_english_plural_and_possessive_match_the_singular_term() -> None:
    assert fires("troops", "Troops massed at the border")
    assert fires("shells", "Artillery shells arrive")
    assert fires("shells", "The shell's casing")


def test_star_makes_a_prefix() -> None:
    assert fires("nk", "North Korean officials")
    assert fires("troops", "Soldiers seen")


def test_acronyms_in_capitals_are_case_sensitive() -> None:
    assert fires("nk", "DPRK envoy arrives")
    assert not fires("nk", "dprk-style slogans")


def test_russian_case_endings_follow_the_stem() -> None:
    assert fires("nk", "Делегация Северной Кореи прибыла")
    assert fires("ru", "Бои в Курске продолжаются")
    assert fires("troops", "Переброска войск")


def test_korean_particles_follow_a_noun_but_words_are_not_split() -> None:
    assert fires("nk", "북한이 발표했다")
    assert fires("troops", "북한군은 이동했다")
    assert not fires("nk", "남북한 정상회담")


def test_chinese_terms_match_inside_running_text() -> None:
    assert fires("nk", "报道称朝鲜向俄罗斯派兵")


def test_hyphen_and_space_are_the_same_in_phrases() -> None:
    topic = TopicSpec(id="k", title="K", groups={"kim": ["Kim Jong Un"]}, rule="kim", threshold=0)
    assert Matcher([topic]).match(Document("Kim Jong-un speaks", ""))


# -- operators ---------------------------------------------------------------------------------


def test_all_needs_every_part() -> None:
    assert fires({"all": ["nk", "ru"]}, "North Korea and Russia")
    assert not fires({"all": ["nk", "ru"]}, "North Korea alone")


def test_any_needs_one_part() -> None:
    assert fires({"any": ["nk", "ru"]}, "Russia alone")
    assert not fires({"any": ["nk", "ru"]}, "Nobody here")


def test_not_inside_all_rejects() -> None:
    rule = {"all": ["ru", {"not": "nk"}]}
    assert fires(rule, "Russia alone")
    assert not fires(rule, "Russia and North Korea")


def test_near_counts_words_between_groups() -> None:
    assert fires("nk NEAR/3 troops", "troops from North Korea")
    assert not fires("nk NEAR/3 troops", "North Korea said on Tuesday that the troops")


def test_onear_requires_order() -> None:
    assert fires("nk ONEAR/3 troops", "North Korean troops")
    assert not fires("nk ONEAR/3 troops", "troops of North Korea")


def test_near_accepts_a_list_of_groups_and_the_mapping_form() -> None:
    assert fires("troops NEAR/2 (nk OR ru)", "Russian troops")
    assert fires({"near": ["troops", ["nk", "ru"]], "within": 2}, "Russian troops")


def test_one_word_can_satisfy_both_sides_of_near() -> None:
    assert fires({"all": ["ru", "nk NEAR/2 troops"]}, "북한군이 러시아에 도착했다")


# -- exclusions, weights, threshold, evidence -----------------------------------------------


def test_exclusion_suppresses_the_match() -> None:
    exclude = [{"all": ["poland", {"not": "nk NEAR/8 shells"}]}]
    assert not fires("shells", "Poland buys K2 tanks and shells from Seoul", exclude=exclude)
    assert fires("shells", "Poland wary as North Korea ships shells to Russia", exclude=exclude)


def test_title_and_lead_weigh_more_than_the_body() -> None:
    rule = {"all": ["nk", "ru"]}
    assert fires(rule, "North Korea and Russia", threshold=6)
    assert not fires(rule, "News", "Intro.\nNorth Korea and Russia.", threshold=6)
    weights = {"title": 1, "lead": 1, "body": 5}
    assert fires(rule, "News", "Intro.\nNorth Korea and Russia.", threshold=6, weights=weights)


def test_evidence_offsets_and_highlights_point_into_the_text() -> None:
    document = Document("Envoys meet", "Weather was fine. North Korean troops reached Russia.")
    (match,) = Matcher([spec({"all": ["nk", "ru", "troops"]})]).match(document)
    (evidence,) = match.evidence
    assert document.text[evidence.start : evidence.end] == evidence.text
    assert [evidence.text[s:e] for s, e in evidence.highlights] == [
        "North Korean",
        "troops",
        "Russia",
    ]
    assert match.clauses == ("nk", "ru", "troops")


def test_headline_repeated_in_the_body_is_quoted_once() -> None:
    title = "North Korea thanks Russia"
    (match,) = Matcher([spec({"all": ["nk", "ru"]})]).match(Document(title, f"{title}\nMore."))
    assert [e.text for e in match.evidence] == [title]


def test_explain_reports_each_clause() -> None:
    matcher = Matcher([spec({"all": ["nk", "ru", "troops"]})])
    explanation = matcher.explain(Document("North Korea and Russia talk", ""), "t")
    assert [(c.text, c.holds) for c in explanation.clauses] == [
        ("nk", True),
        ("ru", True),
        ("troops", False),
    ]
    assert explanation.match is None


# -- validation ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ({"all": ["nk", {"nera": ["nk", "ru"]}]}, "clause rule.all[1]: unknown operator 'nera'"),
        ({"any": []}, "clause rule.any: must be a non-empty list"),
        ("nk NEAR/0 ru", "clause rule: bad proximity value '0'"),
        ("nk NEAR/x ru", "clause rule: bad proximity value 'x'"),
        ({"near": ["nk", "ru"], "within": 500}, "clause rule.near: bad proximity value 500"),
        ({"all": ["nk", "troopz"]}, "clause rule.all[1]: unknown group 'troopz'"),
        ("nk NEAR ru", "clause rule: bad proximity"),
    ],
)
def test_malformed_rules_name_the_clause(rule: Any, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        spec(rule)


def test_empty_group_is_rejected() -> None:
    with pytest.raises(ValueError, match=r"clause groups\.hollow: empty group"):
        TopicSpec(id="t", title="T", groups={"hollow": []}, rule="hollow")
