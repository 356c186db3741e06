"""Term compilation and one-pass term search (Aho-Corasick anchors, verified by a pattern).

How a term is read:
- Case-insensitive, except acronyms written in capitals (DPRK, KPA, ICBM) and terms starting
  with `=`, which must match exactly as written.
- English words also match their plural and possessive (troop → troops, shell's); a trailing `*`
  makes a prefix (casualt* → casualty, casualties).
- Russian words match their case endings (Курск → Курска, Курске; Северная Корея → Северной
  Кореи): the final vowel is dropped to a stem which may take up to three letters.
- Korean words match with particles attached (북한군 → 북한군이, 북한군은), never inside a
  longer word (북한 does not match 남북한); Chinese and Japanese terms match anywhere.
- Words of a phrase may be separated by spaces or hyphens (Kim Jong Un = Kim Jong-un).
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import ahocorasick

_HAN_KANA = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uf900-\ufaff]")
_HANGUL = re.compile(r"[\u1100-\u11ff\u3130-\u318f\uac00-\ud7af]")
_CYRILLIC = re.compile(r"[\u0400-\u04ff]")
_ACRONYM = re.compile(r"^[A-Z][A-Z0-9]+$")
_NON_WORD = re.compile(r"\W")
_WORD_SEPARATOR = r"[\s\-\u2010\u2011\u2013]+"
_RUSSIAN_ENDINGS = "аяоеиыйьуюё"
_ENGLISH_SUFFIX = r"(?:s|es|'s|\u2019s)?"


@dataclass(frozen=True, slots=True)
class CompiledTerm:
    """A term as the search runs it: a lowercase anchor to find, a pattern to confirm."""

    text: str
    group: str
    anchor: str
    pattern: re.Pattern[str]
    left_boundary: bool


@dataclass(frozen=True, slots=True)
class TermHit:
    group: str
    term: str
    start: int
    end: int


def compile_term(term: str, group: str) -> CompiledTerm:
    """Build the anchor and pattern of one term."""
    exact = term.startswith("=")
    raw = term.removeprefix("=").strip()
    words = [w for w in re.split(_WORD_SEPARATOR, raw) if w]
    case_sensitive = exact or bool(_ACRONYM.match(raw.rstrip("*")))
    parts = [_word_pattern(w, i == len(words) - 1) for i, w in enumerate(words)]
    flags = 0 if case_sensitive else re.IGNORECASE
    anchor = _anchor(words[0], single=len(words) == 1).lower()
    first = words[0][0]
    return CompiledTerm(
        text=term,
        group=group,
        anchor=anchor,
        pattern=re.compile(_WORD_SEPARATOR.join(parts), flags),
        left_boundary=first.isalnum() and not _HAN_KANA.match(first),
    )


def _word_pattern(word: str, last: bool) -> str:
    if word.endswith("*"):
        return re.escape(word[:-1]) + r"\w*"
    if _HAN_KANA.search(word) or _HANGUL.search(word):
        return re.escape(word)  # particles may follow; Chinese has no word boundaries
    if not word[-1].isalnum():
        return re.escape(word)
    if _CYRILLIC.search(word):
        return re.escape(_russian_stem(word)) + r"[а-яё]{0,3}(?!\w)"
    if _ACRONYM.match(word) or word.isdigit():
        return re.escape(word) + (r"(?:s|'s|\u2019s)?(?!\w)" if last else r"(?!\w)")
    return re.escape(word) + _ENGLISH_SUFFIX + r"(?!\w)"


def _russian_stem(word: str) -> str:
    stem = word
    while len(stem) > 4 and stem[-1].lower() in _RUSSIAN_ENDINGS and len(word) - len(stem) < 2:
        stem = stem[:-1]
    return stem


def _anchor(word: str, single: bool) -> str:
    """The literal start every match of the word shares."""
    if word.endswith("*"):
        return word[:-1]
    if _CYRILLIC.search(word) and word[-1].isalnum():
        return _russian_stem(word)
    return word


class TermIndex:
    """Every term of every group in one automaton; `search` makes one pass over a text.

    The automaton runs over a copy of the text in which every non-word character is a space, and
    the anchors of terms that must start a word begin with a space, so only word starts are hits.
    """

    def __init__(self, groups: Mapping[str, Iterable[str]]) -> None:
        by_key: dict[str, list[CompiledTerm]] = defaultdict(list)
        for group, terms in groups.items():
            for term in terms:
                compiled = compile_term(term, group)
                marked = _NON_WORD.sub(" ", compiled.anchor)
                by_key[(" " + marked) if compiled.left_boundary else marked].append(compiled)
        self._automaton = ahocorasick.Automaton()
        for key, compiled_terms in by_key.items():
            # The offset from the key's last character back to the term's first, in the text.
            self._automaton.add_word(key, (len(key) - 1, tuple(compiled_terms)))
        self._automaton.make_automaton()
        self.size = sum(len(v) for v in by_key.values())

    def search(self, text: str) -> list[TermHit]:
        """All confirmed term occurrences, at most one per (group, start)."""
        lowered = text.lower()
        if len(lowered) != len(text):  # a few characters change length when lowered
            lowered = "".join(c.lower() if len(c.lower()) == 1 else c for c in text)
        marked = " " + _NON_WORD.sub(" ", lowered)  # position i here is i - 1 in the text
        hits: dict[tuple[str, int], TermHit] = {}
        for end_index, (back, terms) in self._automaton.iter(marked):
            for term in terms:
                start = end_index - back if term.left_boundary else end_index - back - 1
                found = term.pattern.match(text, start)
                if found is None:
                    continue
                key = (term.group, start)
                if key not in hits or found.end() > hits[key].end:
                    hits[key] = TermHit(term.group, term.text, start, found.end())
        return sorted(hits.values(), key=lambda h: (h.start, h.group))
