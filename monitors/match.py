"""Topic matching: one Aho-Corasick pass over a document for every topic, then per-topic rules.

Term rules: case-insensitive; Latin and Cyrillic terms match whole words unless they end in `*`
(a prefix, for inflected forms); Hangul and CJK terms match anywhere, so particles may follow.
A topic fires when each group in `all` has a hit and no `exclude` term occurs; its score is the
sum over groups of min(hits, 3), a title hit counting 2, and it must reach the topic threshold.
"""

from __future__ import annotations

import bisect
import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import ahocorasick

from monitors.models import Document, Evidence, TopicMatch
from seeds.models import TopicSpec

EXCLUDE = -1
MAX_HITS_PER_GROUP = 3
TITLE_WEIGHT = 2
MAX_PASSAGES = 3
_SPACED_SCRIPT = re.compile(r"[\u1100-\u11ff\u3040-\u30ff\u3130-\u318f\u3400-\u9fff\uac00-\ud7af]")
_SENTENCE_END = re.compile(r"(?<=[.!?。？！])\s+|\n+")


@dataclass(frozen=True, slots=True)
class _TermRef:
    topic: int
    group: int  # index into topic.all, or EXCLUDE
    whole_word: bool
    prefix: bool


@dataclass(frozen=True, slots=True)
class Hit:
    topic: int
    group: int
    start: int
    end: int


class Matcher:
    """All topics compiled into one automaton; `match` is pure and thread-safe."""

    def __init__(self, topics: Sequence[TopicSpec]) -> None:
        self.topics = tuple(topics)
        self._automaton = ahocorasick.Automaton()
        refs: dict[str, list[_TermRef]] = defaultdict(list)
        for t_index, topic in enumerate(self.topics):
            for g_index, group in enumerate(topic.all):
                for term in group.terms:
                    _add(refs, term, t_index, g_index)
            for term in topic.exclude:
                _add(refs, term, t_index, EXCLUDE)
        for key, term_refs in refs.items():
            self._automaton.add_word(key, (len(key), tuple(term_refs)))
        self._automaton.make_automaton()

    def hits(self, text: str) -> list[Hit]:
        """Every term occurrence in `text` that respects its word-boundary rule."""
        lowered = text.lower()
        if len(lowered) != len(text):  # a few characters change length when lowered
            lowered = "".join(c.lower() if len(c.lower()) == 1 else c for c in text)
        found: list[Hit] = []
        for end_index, (length, refs) in self._automaton.iter(lowered):
            start, end = end_index - length + 1, end_index + 1
            for ref in refs:
                if ref.whole_word and not _on_word_boundaries(lowered, start, end, ref.prefix):
                    continue
                stop = _word_end(lowered, end) if ref.prefix else end
                found.append(Hit(ref.topic, ref.group, start, stop))
        return found

    def match(self, document: Document) -> list[TopicMatch]:
        """Topics whose rules the document satisfies, best score first."""
        text = document.text
        by_topic: dict[int, list[Hit]] = defaultdict(list)
        for hit in self.hits(text):
            by_topic[hit.topic].append(hit)
        title_end = len(document.title)
        results: list[TopicMatch] = []
        for t_index, topic_hits in by_topic.items():
            topic = self.topics[t_index]
            score = _score(topic, topic_hits, title_end)
            if score is None or score < topic.threshold:
                continue
            evidence = _evidence(text, [h for h in topic_hits if h.group != EXCLUDE])
            results.append(TopicMatch(topic.id, float(score), topic.severity, evidence))
        return sorted(results, key=lambda m: (-m.score, m.topic))


def _add(refs: dict[str, list[_TermRef]], term: str, topic: int, group: int) -> None:
    prefix = term.endswith("*")
    key = term.rstrip("*").strip().lower()
    whole_word = not _SPACED_SCRIPT.search(key)
    refs[key].append(_TermRef(topic, group, whole_word, prefix))


def _on_word_boundaries(text: str, start: int, end: int, prefix: bool) -> bool:
    if start > 0 and text[start - 1].isalnum():
        return False
    return prefix or end >= len(text) or not text[end].isalnum()


def _word_end(text: str, end: int) -> int:
    """Where the word a prefix term starts actually ends (troop* → troops)."""
    while end < len(text) and text[end].isalnum():
        end += 1
    return end


def _score(topic: TopicSpec, hits: list[Hit], title_end: int) -> int | None:
    """Sum of capped per-group weights, or None when a group is missing or an exclusion hit."""
    weights = [0] * len(topic.all)
    for hit in hits:
        if hit.group == EXCLUDE:
            return None
        weights[hit.group] += TITLE_WEIGHT if hit.start < title_end else 1
    if not all(weights):
        return None
    return sum(min(w, MAX_HITS_PER_GROUP) for w in weights)


def _evidence(text: str, hits: list[Hit]) -> tuple[Evidence, ...]:
    """Up to three distinct sentences holding hits, chosen by distinct groups, in text order."""
    bounds = [0] + [m.end() for m in _SENTENCE_END.finditer(text)] + [len(text) + 1]
    sentences: dict[int, list[Hit]] = defaultdict(list)
    for hit in hits:
        sentences[bisect.bisect_right(bounds, hit.start) - 1].append(hit)
    ranked = sorted(sentences.items(), key=lambda kv: (-len({h.group for h in kv[1]}), kv[0]))
    passages: list[Evidence] = []
    seen_texts: set[str] = set()
    for index, sentence_hits in ranked:
        if len(passages) == MAX_PASSAGES:
            break
        start, end = bounds[index], min(bounds[index + 1], len(text))
        raw = text[start:end]
        stripped_start = start + (len(raw) - len(raw.lstrip()))
        passage = text[stripped_start:end].rstrip()
        if passage in seen_texts:  # a headline repeated as the first line of the body
            continue
        seen_texts.add(passage)
        spans = sorted({(h.start - stripped_start, h.end - stripped_start) for h in sentence_hits})
        passages.append(
            Evidence(passage, stripped_start, stripped_start + len(passage), tuple(spans))
        )
    return tuple(sorted(passages, key=lambda e: e.start))
