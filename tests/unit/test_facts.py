"""Material facts: figures with the noun they count, read from a copy's whole body."""

from __future__ import annotations

import pytest

from monitors.facts import Fact, copy_facts, fact_changes, facts_json, parse_facts
from monitors.models import FactChange

BIZWIRE = (
    "SEOUL, Dec. 18 (Korea Bizwire) -- North Korea has sent Russia more than 20,000 containers "
    "of artillery shells, the military said on Dec. 18, adding that about 1,200 casualties among "
    "North Korean soldiers have been reported. Photo 1 of 3. Page 2. Updated: 2024.12.18 20:05"
)


def facts(text: str) -> set[tuple[float, str]]:
    return {(f.value, f.noun) for f in copy_facts(text)}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("at least 1,200 soldiers and 35 tanks", {(1200, "troops")}),
        ("more than a million shells, 1.5 million rounds", {(1e6, "shells"), (1.5e6, "shells")}),
        ("11,000 North Korean troops; 3,000 casualties", {(11000, "troops"), (3000, "casualties")}),
        ("nearly a thousand were wounded, and 100 died", {(1000, "wounded"), (100, "deaths")}),
        ("300 North Korean soldiers had been killed", {(300, "deaths")}),
        ("300 soldiers killed and 11,000 soldiers deployed", {(300, "deaths"), (11000, "troops")}),
        ("a deal worth $1.2 billion and 500 million dollars", {(1.2e9, "money"), (5e8, "money")}),
        ("20,000 containers, 250 KN-23 missiles", {(20000, "containers"), (250, "missiles")}),
        ("two battalions, 21 per cent, 3 times, two weeks ago troops", set()),
    ],
)
def test_a_fact_is_a_figure_with_the_material_noun_it_counts(
    text: str, expected: set[tuple[float, str]]
) -> None:
    assert facts(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "SEOUL, Dec. 18 (Korea Bizwire) -- soldiers were seen",
        "On 18 December troops crossed; on December 18 soldiers left",
        "Published: 7.45pm, 18 December 2024. Updated 20:05 KST. 3-minute read",
        "2024-12-18, 12/18/2024, 18.12.2024: troops; in 2024 soldiers",
        "Photo 1 of 3. Page 2 of 5. 12 comments. Share 4",
    ],
)
def test_dates_datelines_times_and_page_furniture_are_never_facts(text: str) -> None:
    assert copy_facts(text) == frozenset()


def test_a_day_number_is_a_date_even_where_a_passage_would_start_at_it() -> None:
    # The sentence splitter cuts at "Dec.": a passage starts "18 (Korea Bizwire)". The body is
    # read whole, so 18 stays a date.
    assert facts(BIZWIRE) == {(20000, "containers"), (1200, "casualties")}


def test_a_fact_keeps_the_wording_of_the_copy() -> None:
    texts = {f.text for f in copy_facts("about 3,000 casualties and 11,000 North Korean soldiers")}
    assert texts == {"3,000 casualties", "11,000 North Korean soldiers"}


def test_only_new_figures_change_a_story_and_each_is_shown_beside_the_old() -> None:
    known = copy_facts(BIZWIRE)
    assert fact_changes(copy_facts(BIZWIRE.replace("Dec. 18", "Dec. 19")), known) == ()
    assert fact_changes(copy_facts("some three thousand casualties"), known) == (
        FactChange("three thousand casualties", ("1,200 casualties",)),
    )
    assert fact_changes(copy_facts("1,500 soldiers"), known) == (FactChange("1,500 soldiers"),)


def test_stored_facts_round_trip_and_the_old_list_of_figures_still_reads() -> None:
    known = copy_facts(BIZWIRE)
    assert parse_facts(facts_json(known, 1000)) == known
    old = parse_facts('["20000", "1200", "1.5"]')
    assert Fact(1200.0, "") in old and Fact(1.5, "") in old
    # A figure the story had in the old form is not news, whatever noun it now comes with.
    assert fact_changes(copy_facts("about 1,200 casualties"), old) == ()
