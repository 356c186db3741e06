"""The identity of a copy: the one canonical URL, item keys, GUIDs, titles, text fingerprints. Pure.

Item keys (what a source has already seen) and story identity (which copies are one story) both
come from here, so two distinct articles never share a key and two copies of one link always do.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from urllib.parse import parse_qsl, quote_plus, urlsplit, urlunsplit

from courlan import normalize_url

_SUBDOMAINS = ("www.", "m.", "mobile.", "amp.")
# Parameters that say where a reader came from or who they are, never which article: dropped.
# Every other parameter is identity, since CMSs name articles by it: `articleView.html?idxno=`,
# `?id=`, `?no=`, `?aid=&oid=`, a bare `articles/?5621234`. `page` and `lang` are kept as well:
# when in doubt, keep. A kept parameter at worst splits one article into two item keys, which
# story clustering (fingerprint, MinHash) joins again; a dropped one merges two articles into
# one key and the second is silently counted as seen.
_TRACKING = re.compile(
    r"^(utm_\w*|fbclid|gclid|dclid|gbraid|wbraid|msclkid|mc_cid|mc_eid|igshid|ocid|cmpid|icid|"
    r"smid|ref|ref_src|rss|at_medium|at_campaign|amp|outputtype|output|__twitter_impression|"
    r"sessionid|phpsessid|jsessionid)$"
)
# Parameters one publisher uses only to say where on its own pages a link sat: the Wall Street
# Journal's `mod=hp_lead_pos6` sits on copies of the same article in one feed. Elsewhere `mod`
# may pick a CMS module (`forum.php?mod=viewthread&tid=…`), so it is dropped on that host only.
_HOST_TRACKING = {"wsj.com": frozenset({"mod"})}
_WORD = re.compile(r"\w+")
_TITLE_SUFFIX = re.compile(r"\s+(?:[|–—]|-)\s+([^|–—-]+)$")


def canonical_url(url: str) -> str:
    """The identity of a link: https, bare host, no tracking, AMP or mobile variant, no slash."""
    raw = url.strip()
    try:
        parts = urlsplit("".join(raw.split()).replace("&amp;", "&"))
        # courlan only for scheme, host, port and path: its query cleaning drops any parameter
        # that merely starts like a tracker (`uid`, `cid`, `gallery`, `source…`) and every bare
        # one (`?5621234`), its HTML unescaping rewrites `&section=` into `§ion=`, and its
        # scrub_url replaces a link by any URL inside it (`view?id=5&return=https://site/`).
        base = urlsplit(normalize_url(parts._replace(query="", fragment="")))
    except (ValueError, AttributeError):
        return raw
    scheme = "https" if base.scheme in ("http", "https") else base.scheme
    host = _bare_host(base.netloc)
    return urlunsplit((scheme, host, _path(base.path), _query(parts.query, host), ""))


def _bare_host(netloc: str) -> str:
    host = netloc.lower()
    for prefix in _SUBDOMAINS:
        if host.startswith(prefix) and "." in host[len(prefix) :]:
            return host[len(prefix) :]
    return host


def _path(path: str) -> str:
    segments = [s for s in path.split("/") if s and s.lower() != "amp"]
    if segments and segments[-1].lower().endswith(".amp"):
        segments[-1] = segments[-1][: -len(".amp")]
    return "/" + "/".join(segments)


def _query(query: str, host: str) -> str:
    """Identity parameters in a fixed order; a bare one (`?5621234`) stays bare."""
    pairs = sorted((k, v) for k, v in _pairs(query) if not _tracking(k, host))
    return "&".join(quote_plus(k) + (f"={quote_plus(v)}" if v else "") for k, v in pairs)


def _pairs(query: str) -> list[tuple[str, str]]:
    """Name-value pairs; an escaped query (`?mod%3Dx%26page%3D1`) is read as the one it escapes."""
    pairs = parse_qsl(query, keep_blank_values=True)
    escaped = [k for k, v in pairs if not v and ("=" in k or "&" in k)]
    if not escaped:
        return pairs
    return [p for k, v in pairs for p in (parse_qsl(k, True) if k in escaped else [(k, v)])]


def _tracking(name: str, host: str) -> bool:
    lowered = name.lower()
    site = next((h for h in _HOST_TRACKING if host == h or host.endswith("." + h)), None)
    return bool(_TRACKING.match(lowered)) or (site is not None and lowered in _HOST_TRACKING[site])


def item_key(guid: str, link: str) -> str:
    """What a source remembers an entry by: its GUID, else its canonical link."""
    return guid.strip() or canonical_url(link)


def global_guid(guid: str) -> str | None:
    """A GUID that names the story beyond its feed (a URL, tag: or urn:), else None."""
    value = guid.strip()
    if value.lower().startswith(("http://", "https://")):
        return canonical_url(value)
    return value if value.lower().startswith(("tag:", "urn:")) else None


def normalized_title(title: str) -> str:
    """Case-folded title words without an outlet suffix such as ' - Wire' or ' | Outlet'."""
    text = unicodedata.normalize("NFKC", title).strip()
    suffix = _TITLE_SUFFIX.search(text)
    if suffix and len(suffix.group(1).split()) <= 3 and len(text[: suffix.start()].split()) >= 4:
        text = text[: suffix.start()]
    return " ".join(_WORD.findall(text.casefold()))


def fingerprint(text: str) -> str:
    """Hash of the normalised text, for exact-copy detection across outlets."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    words = re.findall(r"\w+", folded)
    return hashlib.sha256(" ".join(words).encode("utf-8")).hexdigest()[:32]
