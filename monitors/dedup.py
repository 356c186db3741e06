"""Story identity and clustering: layered keys, MinHash signatures, join and update decisions. Pure.

Layers, strongest first: the canonical URL, a globally unique feed GUID, the fingerprint of the
normalised text (an exact copy), then near-duplicates by MinHash over word 5-shingles (character
4-shingles for Hangul/CJK text) of title and text, found through LSH bands. An equal normalised
title only makes a story a candidate (recurring headlines such as "Markets roundup" with new text
stay apart), except for a bare headline of six words or more, as aggregators carry them.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cache
from typing import Any

import numpy as np
from datasketch import MinHash

from monitors.facts import Fact, copy_facts
from monitors.identity import canonical_url, fingerprint, global_guid, normalized_title

EXACT_LAYERS = ("url", "guid", "text")  # a shared key of these kinds means the same story
WORD_SHINGLE = 5
CHAR_SHINGLE = 4
# Fewer words than this say too little to tell stories apart ("What's News: Business & Finance"
# daily, with no text): such copies join only by URL or GUID.
TEXT_MIN_WORDS = 12
TITLE_JOIN_WORDS = 6  # a bare headline joins a story with the same title of at least 6 words
LSH_RECALL_AT_THRESHOLD = 0.97  # candidate lookup must rarely miss a pair at the threshold
# A story keeps the signatures of up to 4 differing copies (and their bands), so a reprint of a
# reprint still finds it; copies closer than 0.9 to a kept one add nothing.
MAX_MEMBERS = 4

_CJK = re.compile(r"[\u1100-\u11ff\u3040-\u30ff\u3130-\u318f\u3400-\u9fff\uac00-\ud7af]")
_WORD = re.compile(r"\w+")
_ROLL = np.uint64(0x01000193)  # FNV prime: products of 32-bit values stay within 64 bits
_MASK32 = np.uint64(0xFFFFFFFF)


@dataclass(frozen=True, slots=True)
class DedupPolicy:
    """Thresholds and sizes of story clustering; `threshold` is a Jaccard estimate."""

    threshold: float = 0.55
    num_perm: int = 128
    seed: int = 1
    retention: timedelta = timedelta(days=30)
    update_interval: timedelta = timedelta(hours=6)

    @property
    def bands(self) -> tuple[int, int]:
        """(bands, rows) of the LSH banding; the same for every threshold from 0.5 up."""
        # Stored band rows stay valid when an operator raises the threshold.
        return lsh_bands(min(self.threshold, 0.5), self.num_perm)


@dataclass(frozen=True, slots=True)
class Identity:
    """Every key of one copy: exact keys, signature and LSH band hashes, facts in its body."""

    canonical_url: str
    guid: str | None
    title: str
    fingerprint: str
    signature: bytes  # little-endian uint32 MinHash values; empty when the text has no words
    lookup: tuple[tuple[int, str], ...]  # (key hash, layer) for exact keys and LSH bands
    facts: frozenset[Fact] = field(default_factory=frozenset)  # material facts of the body
    headline_only: bool = False  # a feed entry with a title and no text (aggregators)


@dataclass(frozen=True, slots=True)
class Candidate:
    """A stored story that shares at least one lookup key with a new copy."""

    story_key: str
    layers: frozenset[str]
    signature: bytes  # member signatures, concatenated


# -- near-duplicates ---------------------------------------------------------------------------


def _units(text: str) -> tuple[list[str], int]:
    """Words and shingle size 5, or characters and size 4 when most letters are Hangul/CJK."""
    words = _WORD.findall(unicodedata.normalize("NFKC", text).casefold())
    joined = "".join(words)
    if len(_CJK.findall(joined)) * 2 > len(joined):
        return list(joined), CHAR_SHINGLE
    return words, WORD_SHINGLE


def shingles(text: str) -> set[str]:
    """Word 5-shingles, or character 4-shingles when most letters are Hangul or CJK."""
    units, size = _units(text)
    sep = " " if size == WORD_SHINGLE else ""
    count = max(1, len(units) - size + 1)
    return {sep.join(units[i : i + size]) for i in range(count)} if units else set()


def shingle_hashes(units: Sequence[str], size: int) -> np.ndarray[Any, np.dtype[np.uint64]]:
    """The distinct 32-bit hashes of the shingles of `units`, rolled from per-unit CRC32s."""
    if not units:
        return np.empty(0, dtype=np.uint64)
    # One C-speed hash per word and a vectorised roll: ten times cheaper than hashing strings.
    codes = np.fromiter((zlib.crc32(u.encode()) for u in units), np.uint64, count=len(units))
    count = max(1, len(units) - size + 1)
    rolled = np.zeros(count, dtype=np.uint64)
    for offset in range(min(size, len(units))):
        rolled = (rolled * _ROLL + codes[offset : offset + count]) & _MASK32
    return np.unique(rolled)


@cache
def _template(num_perm: int, seed: int) -> MinHash:
    # Permutations are drawn from the seed; building them once keeps each signature cheap.
    return MinHash(num_perm=num_perm, seed=seed, scheme="affine32")


def signature(hashes: np.ndarray[Any, np.dtype[np.uint64]], policy: DedupPolicy) -> bytes:
    """MinHash values of a set of shingle hashes, as bytes; empty for an empty set."""
    if not len(hashes):
        return b""
    template = _template(policy.num_perm, policy.seed)
    minhash = MinHash(
        num_perm=policy.num_perm,
        seed=policy.seed,
        hashfunc=int,  # the values are hashes already
        scheme="affine32",
        permutations=template.permutations,
    )
    minhash.update_batch(hashes.tolist())
    return np.asarray(minhash.hashvalues, dtype="<u4").tobytes()


def similarity(left: bytes, right: bytes) -> float:
    """Estimated Jaccard similarity of a signature to the closest of a story's member signatures."""
    if not left or not right or len(right) % len(left):
        return 0.0
    probe = np.frombuffer(left, dtype="<u4")
    members = np.frombuffer(right, dtype="<u4").reshape(-1, len(probe))
    return float(np.max(np.count_nonzero(members == probe, axis=1))) / len(probe)


def widened(members: bytes, sig: bytes) -> bytes | None:
    """Member signatures with `sig` added when it differs enough from all; None to keep as is."""
    if not sig or len(members) >= MAX_MEMBERS * len(sig) or similarity(sig, members) >= 0.9:
        return None
    return members + sig


@cache
def lsh_bands(threshold: float, num_perm: int) -> tuple[int, int]:
    """The most selective (bands, rows) that still finds a pair at the threshold 97% of the time."""
    for rows in range(min(num_perm, 16), 0, -1):
        bands = num_perm // rows
        if 1 - (1 - threshold**rows) ** bands >= LSH_RECALL_AT_THRESHOLD:
            return bands, rows
    return num_perm, 1


def band_hashes(sig: bytes, policy: DedupPolicy) -> list[int]:
    """One signed 64-bit hash per LSH band of a signature."""
    if not sig:
        return []
    bands, rows = policy.bands
    width = rows * 4
    return [_hash64(bytes([b]) + sig[b * width : (b + 1) * width]) for b in range(bands)]


def _hash64(data: bytes) -> int:
    return int.from_bytes(hashlib.blake2b(data, digest_size=8).digest(), "big", signed=True)


def key_hash(layer: str, value: str) -> int:
    """The lookup hash of an exact identity key."""
    return _hash64(f"{layer}\x00{value}".encode())


def basis_text(title: str, body: str) -> str:
    """What is shingled: title and body (a feed's boilerplate summary alone would match all)."""
    return f"{title}\n{body}"


def identify(title: str, body: str, url: str, guid: str, policy: DedupPolicy) -> Identity:
    """All identity keys of one copy."""
    canonical = canonical_url(url) if url else guid
    story_guid = global_guid(guid)
    title_key = normalized_title(title)
    digest = fingerprint(body or title)
    units, size = _units(basis_text(title, body))
    enough = len(units) >= TEXT_MIN_WORDS * (1 if size == WORD_SHINGLE else CHAR_SHINGLE)
    sig = signature(shingle_hashes(units, size), policy) if enough else b""
    lookup = [(key_hash("url", canonical), "url")]
    if enough and body:  # an exact copy of a text long enough to say something
        lookup.append((key_hash("text", digest), "text"))
    if story_guid and story_guid != canonical:
        lookup.append((key_hash("guid", story_guid), "guid"))
    if len(title_key.split()) >= 3:  # two-word titles ("Live updates") say nothing
        lookup.append((key_hash("title", title_key), "title"))
    lookup += [(h, "band") for h in band_hashes(sig, policy)]
    facts = copy_facts(body)
    return Identity(canonical, story_guid, title_key, digest, sig, tuple(lookup), facts, not body)


def choose_story(
    probe: Identity, candidates: Sequence[Candidate], policy: DedupPolicy
) -> str | None:
    """The story a copy joins: the strongest exact layer, else the most similar close enough."""
    for layer in EXACT_LAYERS:
        for candidate in candidates:
            if layer in candidate.layers:
                return candidate.story_key
    if probe.headline_only and len(probe.title.split()) >= TITLE_JOIN_WORDS:
        # An aggregator's bare headline: nothing but the (long enough) title to go by.
        for candidate in candidates:
            if "title" in candidate.layers:
                return candidate.story_key
    best: tuple[float, str] | None = None
    for candidate in candidates:
        score = similarity(probe.signature, candidate.signature)
        if score >= policy.threshold and (best is None or score > best[0]):
            best = (score, candidate.story_key)
    return best[1] if best else None


# -- material updates --------------------------------------------------------------------------


def update_due(last_update_at: datetime | None, now: datetime, policy: DedupPolicy) -> bool:
    """Whether a story may send another update now (one per update interval)."""
    return last_update_at is None or now - last_update_at >= policy.update_interval
