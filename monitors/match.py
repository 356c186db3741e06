"""Topic matching: one term search over a document for every topic, then each topic's rule.

A topic fires when its rule holds, no exclusion holds, and its score reaches the threshold.
The score sums, per group that supports the rule, the weights of its hits (title, lead and body
weigh differently), each group capped so one repeated word cannot carry a topic alone.
"""

from __future__ import annotations

import bisect
import hashlib
import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from monitors.models import Document, Evidence, TopicMatch
from monitors.terms import TermHit, TermIndex
from seeds.models import TopicSpec
from seeds.rules import (
    AllOf,
    AnyOf,
    GroupRef,
    Near,
    Node,
    NotOf,
    describe,
    parse_rule,
    referenced_groups,
)

GROUP_CAP = 6.0
MAX_PASSAGES = 3
LEAD_CHARS = 400
SENTENCE_GAP = 100_000  # word positions of consecutive sentences are this far apart
_SENTENCE_END = re.compile(r"(?<=[.!?。？！])\s+|\n+")
_TOKEN = re.compile(r"\w+")


@dataclass(frozen=True, slots=True)
class Located:
    """A term hit with its word position, the document field and the sentence it fell in."""

    hit: TermHit
    token: int
    field: str
    sentence: int


@dataclass(frozen=True, slots=True)
class ClauseResult:
    path: str
    text: str
    holds: bool


@dataclass(frozen=True, slots=True)
class Explanation:
    """Everything that decided whether one topic matched one document."""

    topic: TopicSpec
    group_hits: dict[str, list[Located]]
    clauses: tuple[ClauseResult, ...]
    exclusions: tuple[ClauseResult, ...]
    score: float
    match: TopicMatch | None


@dataclass(frozen=True, slots=True)
class _Compiled:
    spec: TopicSpec
    rule: Node
    exclude: tuple[Node, ...]
    group_ids: dict[str, str]  # topic-local group name -> shared index id


class Matcher:
    """All topics compiled once; `match` and `explain` are pure and thread-safe."""

    def __init__(self, topics: Sequence[TopicSpec]) -> None:
        self.topics = tuple(topics)
        index_groups: dict[str, list[str]] = {}
        self._compiled: list[_Compiled] = []
        for topic in self.topics:
            rule = parse_rule(topic.rule, "rule", topic.groups)
            exclude = tuple(
                parse_rule(c, f"exclude[{i}]", topic.groups) for i, c in enumerate(topic.exclude)
            )
            used = referenced_groups(rule).union(*(referenced_groups(n) for n in exclude))
            group_ids = {name: _group_id(name, topic.groups[name]) for name in sorted(used)}
            for name, group_id in group_ids.items():
                index_groups[group_id] = topic.groups[name]
            self._compiled.append(_Compiled(topic, rule, exclude, group_ids))
        self.index = TermIndex(index_groups)

    def match(self, document: Document) -> list[TopicMatch]:
        """Topics the document matches, best score first."""
        located, sentences = self._locate(document)
        found: list[TopicMatch] = []
        for compiled in self._compiled:
            # No hit at all means a score of 0: only a zero threshold could still fire.
            if compiled.spec.threshold > 0 and not any(
                gid in located for gid in compiled.group_ids.values()
            ):
                continue
            match = _explain(compiled, located, sentences, document, clauses=False).match
            if match is not None:
                found.append(match)
        return sorted(found, key=lambda m: (-m.score, m.topic))

    def explain(self, document: Document, topic_id: str) -> Explanation:
        compiled = next(c for c in self._compiled if c.spec.id == topic_id)
        located, sentences = self._locate(document)
        return _explain(compiled, located, sentences, document)

    def _locate(self, document: Document) -> tuple[dict[str, list[Located]], list[int]]:
        """Term hits by group with their field and word position; the sentence starts."""
        text = document.text
        sentence_starts = _sentence_bounds(text)
        title_end = len(document.title)
        lead_end = title_end + 2 + _lead_length(document.body)
        by_group: dict[str, list[Located]] = defaultdict(list)
        for hit in self.index.search(text):
            field = "title" if hit.start < title_end else "lead" if hit.start < lead_end else "body"
            # Proximity stays inside a sentence: each sentence starts far from the previous one.
            sentence = bisect.bisect_right(sentence_starts, hit.start) - 1
            words_before = len(_TOKEN.findall(text, sentence_starts[sentence], hit.start))
            token = sentence * SENTENCE_GAP + words_before
            by_group[hit.group].append(Located(hit, token, field, sentence))
        return by_group, sentence_starts


def _group_id(name: str, terms: Sequence[str]) -> str:
    """Identical groups shared by several topics are searched once."""
    digest = hashlib.sha1("\x1f".join(terms).encode()).hexdigest()[:10]
    return f"{name}#{digest}"


def _lead_length(body: str) -> int:
    first_paragraph = body.split("\n", 1)[0]
    return min(len(first_paragraph), LEAD_CHARS)


def _explain(
    compiled: _Compiled,
    located: dict[str, list[Located]],
    sentences: list[int],
    document: Document,
    clauses: bool = True,
) -> Explanation:
    """Evaluate one topic; per-clause results are computed for explanations and for matches."""
    spec = compiled.spec
    hits = {name: located.get(gid, []) for name, gid in compiled.group_ids.items()}
    holds, support = _evaluate(compiled.rule, hits)
    if not holds and not clauses:
        return Explanation(spec, hits, (), (), 0.0, None)
    clause_results = tuple(_clauses(compiled.rule, hits))
    exclusions = tuple(
        ClauseResult(f"exclude[{i}]", describe(node), _evaluate(node, hits)[0])
        for i, node in enumerate(compiled.exclude)
    )
    score = _score(support, spec)
    matched = holds and not any(e.holds for e in exclusions) and score >= spec.threshold
    match = None
    if matched:
        match = TopicMatch(
            topic=spec.id,
            score=round(score, 2),
            severity=spec.severity,
            evidence=_evidence(document.text, sentences, support),
            clauses=tuple(c.text for c in clause_results if c.holds),
        )
    return Explanation(spec, hits, clause_results, exclusions, round(score, 2), match)


def _clauses(rule: Node, hits: dict[str, list[Located]]) -> list[ClauseResult]:
    """The top-level parts of a rule and whether each held."""
    parts = rule.parts if isinstance(rule, AllOf | AnyOf) else (rule,)
    op = "all" if isinstance(rule, AllOf) else "any"
    return [
        ClauseResult(
            f"rule.{op}[{i}]" if isinstance(rule, AllOf | AnyOf) else "rule",
            describe(part),
            _evaluate(part, hits)[0],
        )
        for i, part in enumerate(parts)
    ]


def _evaluate(node: Node, hits: dict[str, list[Located]]) -> tuple[bool, list[Located]]:
    """Whether a node holds, and the hits that make it hold."""
    if isinstance(node, GroupRef):
        found = hits.get(node.name, [])
        return bool(found), list(found)
    if isinstance(node, NotOf):
        return not _evaluate(node.part, hits)[0], []
    if isinstance(node, Near):
        return _near(node, hits)
    results = [_evaluate(part, hits) for part in node.parts]
    ok = (all if isinstance(node, AllOf) else any)(r[0] for r in results)
    return ok, [h for r in results if r[0] for h in r[1]] if ok else []


def _near(node: Near, hits: dict[str, list[Located]]) -> tuple[bool, list[Located]]:
    left = sorted((h for g in node.left for h in hits.get(g, [])), key=lambda h: h.token)
    right = sorted((h for g in node.right for h in hits.get(g, [])), key=lambda h: h.token)
    right_tokens = [h.token for h in right]
    support: dict[tuple[str, int], Located] = {}
    for a in left:
        low = a.token + 1 if node.ordered else a.token - node.within
        lo = bisect.bisect_left(right_tokens, low)
        hi = bisect.bisect_right(right_tokens, a.token + node.within)
        for b in right[lo:hi]:
            if (a.hit.group, a.hit.start) != (b.hit.group, b.hit.start):
                support[(a.hit.group, a.hit.start)] = a
                support[(b.hit.group, b.hit.start)] = b
    return bool(support), list(support.values())


def _score(support: list[Located], spec: TopicSpec) -> float:
    weights = {"title": spec.weights.title, "lead": spec.weights.lead, "body": spec.weights.body}
    per_group: dict[str, float] = defaultdict(float)
    seen: set[tuple[str, int]] = set()
    for located in support:
        key = (located.hit.group, located.hit.start)
        if key not in seen:
            seen.add(key)
            per_group[located.hit.group] += weights[located.field]
    return sum(min(total, GROUP_CAP) for total in per_group.values())


def _sentence_bounds(text: str) -> list[int]:
    """Start offsets of the sentences (and lines) of a text; the title is a line of its own."""
    return [0] + [m.end() for m in _SENTENCE_END.finditer(text)]


def _evidence(
    text: str, sentence_starts: list[int], support: list[Located]
) -> tuple[Evidence, ...]:
    """Up to three distinct sentences holding hits, chosen by distinct groups, in text order."""
    bounds = [*sentence_starts, len(text) + 1]
    sentences: dict[int, dict[tuple[int, int], str]] = defaultdict(dict)
    for located in support:
        hit = located.hit
        sentences[located.sentence][(hit.start, hit.end)] = hit.group
    ranked = sorted(sentences.items(), key=lambda kv: (-len(set(kv[1].values())), kv[0]))
    passages: list[Evidence] = []
    seen_texts: set[str] = set()
    for index, spans in ranked:
        if len(passages) == MAX_PASSAGES:
            break
        start, end = bounds[index], min(bounds[index + 1], len(text))
        raw = text[start:end]
        first = start + (len(raw) - len(raw.lstrip()))
        passage = text[first:end].rstrip()
        if not passage or passage in seen_texts:  # a headline repeated as the body's first line
            continue
        seen_texts.add(passage)
        relative = tuple(sorted((s - first, e - first) for s, e in spans))
        passages.append(Evidence(passage, first, first + len(passage), relative))
    return tuple(sorted(passages, key=lambda e: e.start))
