"""Material facts of a copy: figures with the noun they count, and what a later copy adds. Pure.

A fact is a figure of casualties, troops, shipments (shells, rounds, missiles, containers) or
money, read from the copy's whole body text, so that a day number is known to be a date even when
a passage starts at it ("Dec. 18 (Wire)" → "18 (Wire)"). Dates, datelines, times, years, page
furniture and figures without a material noun are never facts.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from monitors.models import FactChange

_MONTH = (
    r"\b(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\b\.?"
)
_NUMBER_WORDS = {
    "a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
    "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12,
}  # fmt: skip
_SCALES = {"hundred": 1e2, "thousand": 1e3, "million": 1e6, "billion": 1e9, "trillion": 1e12}
_FIGURE = re.compile(
    r"(?<![\w.,:/-])(?:(\d{1,3}(?:[,\u00a0\u202f]\d{3})+|\d+)(\.\d+)?|("
    + "|".join(_NUMBER_WORDS)
    + r"))(?:\s+(hundred|thousand|million|billion|trillion))?(?![\w:/-]|[.,]\d)",
    re.IGNORECASE,
)
_DATE_BEFORE = re.compile(_MONTH + r"\s*$", re.IGNORECASE)
_DATE_AFTER = re.compile(r"^\s*(?:" + _MONTH + r"|[ap]\.?m\b)", re.IGNORECASE)
_CURRENCY_BEFORE = re.compile(r"(?:US|A|C|HK)?[$₩€£¥]\s?$")
_NEXT_WORD = re.compile(r"[ \t\u00a0]+([^\W\d_][\w'’-]*)")
WORDS_BEFORE_NOUN = 3  # "11,000 North Korean soldiers", "20,000 more artillery shells"

# The nouns a material figure counts, and the name it is compared under.
NOUNS = {
    "casualty": "casualties", "casualties": "casualties",
    "death": "deaths", "deaths": "deaths", "dead": "deaths", "died": "deaths",
    "killed": "deaths", "fatalities": "deaths",
    "wounded": "wounded", "injured": "wounded", "injuries": "wounded",
    "troops": "troops", "soldiers": "troops", "servicemen": "troops", "personnel": "troops",
    "fighters": "troops",
    "shells": "shells", "rounds": "shells",
    "missiles": "missiles", "missile": "missiles", "rockets": "missiles",
    "containers": "containers", "container": "containers",
    "dollars": "money", "won": "money", "euros": "money", "yuan": "money", "rubles": "money",
    "roubles": "money",
}  # fmt: skip
# Words that end the look for a noun: what follows them is not what the figure counts.
_BREAK = frozenset({
    "and", "or", "but", "to", "than", "from", "in", "on", "at", "by", "for", "per", "percent",
    "cent", "times", "ago", "since", "after", "before", "until", "second", "seconds", "minute",
    "minutes", "hour", "hours", "day", "days", "week", "weeks", "month", "months", "year", "years",
    "km", "kilometres", "kilometers", "miles", "metres", "meters", "page", "pages", "photo",
    "photos",
})  # fmt: skip


_BEFELL = frozenset({"casualties", "deaths", "wounded"})
_AUXILIARIES = frozenset(
    {"were", "was", "had", "have", "has", "been", "are", "being", "reportedly"}
)


@dataclass(frozen=True, slots=True)
class Fact:
    """A figure and the noun it counts; `noun` is "" for a bare figure an older release stored."""

    value: float
    noun: str
    text: str = field(default="", compare=False)  # as the copy wrote it: "3,000 casualties"


def copy_facts(body: str) -> frozenset[Fact]:
    """The material facts a copy's body states; dates, times, years and bare figures left out."""
    found: set[Fact] = set()
    for m in _FIGURE.finditer(body):
        value = _figure_value(*m.groups())
        if value is None or _is_date(body, m.start(), m.end()):
            continue
        start = m.start()
        currency = _CURRENCY_BEFORE.search(body, max(0, start - 4), start)
        if currency:
            start, noun, end = currency.start(), "money", m.end()
        else:
            noun, end = _counted_noun(body, m.end())
        if noun:
            found.add(Fact(value, noun, " ".join(body[start:end].split())))
    return frozenset(found)


def _counted_noun(text: str, pos: int) -> tuple[str, int]:
    """The material noun a figure ending at `pos` counts, within a few words; and where it ends."""
    for _ in range(WORDS_BEFORE_NOUN + 1):
        word = _NEXT_WORD.match(text, pos)
        if word is None:
            return "", pos
        lower = word.group(1).lower()
        if lower in NOUNS:
            return _what_befell(text, NOUNS[lower], word.end())
        if lower in _BREAK:
            return "", pos
        pos = word.end()
    return "", pos


def _what_befell(text: str, noun: str, pos: int) -> tuple[str, int]:
    """`300 soldiers were killed` counts deaths, not troops; any other noun stays as it is."""
    if noun != "troops":
        return noun, pos
    end = pos
    for _ in range(WORDS_BEFORE_NOUN + 1):
        word = _NEXT_WORD.match(text, end)
        if word is None:
            break
        lower = word.group(1).lower()
        if NOUNS.get(lower) in _BEFELL:
            return NOUNS[lower], word.end()
        if lower not in _AUXILIARIES:
            break
        end = word.end()
    return noun, pos


def _figure_value(
    digits: str | None, decimals: str | None, word: str | None, scale: str | None
) -> float | None:
    """The value of one figure match; None for a bare article or a year."""
    factor = _SCALES[scale.lower()] if scale else 1.0
    if word is not None:
        base = _NUMBER_WORDS[word.lower()]
        # "a", "an" and "one" alone are articles and pronouns, not figures.
        return None if base == 1 and scale is None else base * factor
    assert digits is not None
    number = re.sub(r"\D", "", digits)
    if not scale and not decimals and len(number) == 4 and 1900 <= int(number) < 2100:
        return None
    return float(number + (decimals or "")) * factor


def _is_date(text: str, start: int, end: int) -> bool:
    """Day numbers next to a month name, and clock times, are datelines, not figures."""
    before, after = text[max(0, start - 12) : start], text[end : end + 12]
    return bool(_DATE_BEFORE.search(before) or _DATE_AFTER.match(after))


def fact_changes(copy: Iterable[Fact], known: frozenset[Fact]) -> tuple[FactChange, ...]:
    """The copy's facts the story never had, each beside the story's figures for its noun."""
    legacy = {k.value for k in known if not k.noun}  # bare figures an older release kept
    changes = []
    for fact in sorted(set(copy), key=lambda f: (f.noun, f.value)):
        if fact in known or fact.value in legacy:
            continue
        earlier = sorted((k for k in known if k.noun == fact.noun), key=lambda k: k.value)
        changes.append(FactChange(fact.text, tuple(_shown(k) for k in earlier)))
    return tuple(changes)


def _shown(fact: Fact) -> str:
    return fact.text or f"{fact.value:g} {fact.noun}"


def facts_json(facts: Iterable[Fact], limit: int) -> str:
    """Facts as stored in `stories.facts_json`: a sorted list of {value, noun, text}."""
    ordered = sorted(facts, key=lambda f: (f.noun, f.value))[:limit]
    return json.dumps([{"value": f.value, "noun": f.noun, "text": f.text} for f in ordered])


def parse_facts(stored: str) -> frozenset[Fact]:
    """Facts from `stories.facts_json`; an older release's list of bare figures reads noun-less."""
    facts: set[Fact] = set()
    for entry in json.loads(stored or "[]"):
        if isinstance(entry, str):
            facts.add(Fact(float(entry), "", ""))
        else:
            facts.add(Fact(float(entry["value"]), str(entry["noun"]), str(entry.get("text", ""))))
    return frozenset(facts)
