"""Link identity: copies of one article share one key, two distinct articles keep two keys.

Articles are drawn in the URL shapes outlets use (`articleView.html?idxno=`, a bare `?5621234`,
`?id=`, `?no=`, `?aid=&oid=`, `/article/123/slug`, dated paths, `/archives/286401`); copies vary
only in what never names an article (scheme, `www.`/`m.`/`amp.` host, case of the host, trailing
slash, `/amp` segment, trackers, fragment, parameter order, a query escaped as a whole).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from monitors.identity import canonical_url, global_guid, item_key
from monitors.transcripts import parse_transcript_index

# The session's Prefect harness and delivery tests leave threads that use the global `random`
# module; when one does so while a strategy draws, Hypothesis mistakes it for the strategy's own.
pytestmark = pytest.mark.filterwarnings("ignore::hypothesis.errors.HypothesisDeprecationWarning")

# Derandomized, with the speed health check off: the same examples on every run, so a shared,
# loaded CI machine can neither flake the properties nor fail them for drawing slowly.
PROPERTY = settings(
    max_examples=60,
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)


@dataclass(frozen=True)
class Article:
    """One article's address: bare host, path segments, identity parameters ("" = bare)."""

    host: str
    path: tuple[str, ...]
    params: tuple[tuple[str, str], ...] = ()

    def identity(self) -> tuple[str, tuple[str, ...], tuple[tuple[str, str], ...]]:
        """What names the article: parameter order does not."""
        return self.host, self.path, tuple(sorted(self.params))


HOSTS = st.sampled_from(
    ["news1.kr", "example.co.kr", "koreaherald.example", "n.news.example", "dailynk.example"]
)
NUMBER = st.integers(1, 99_999_999).map(str)
SLUG = st.from_regex(r"[a-z0-9]{1,8}(-[a-z0-9]{1,8}){0,3}", fullmatch=True).filter(
    lambda s: s != "amp"
)
VALUE = st.from_regex(r"[A-Za-z0-9_.-]{1,10}", fullmatch=True)
# Identity parameters an article may also carry. Some start like trackers (`uid`, `cid`,
# `gallery`, `source_id`) and some read as HTML entities after `&` (`&section`, `&region`,
# `&notice`, `&times`): none of them may be dropped or rewritten.
EXTRAS = ["page", "lang", "section", "region", "notice", "times", "uid", "cid", "gallery"]
TRACKERS = ["utm_source", "utm_medium", "UTM_Campaign", "fbclid", "gclid", "ref", "rss", "amp"]


def _dated(year: int, month: int, day: int, section: str, slug: str, seq: int) -> Article:
    stamp = f"{year}{month:02}{day:02}{seq:08}.html"
    return Article("", (str(year), f"{month:02}", f"{day:02}", section, slug, stamp))


SHAPES = st.one_of(
    NUMBER.map(lambda n: Article("", ("news", "articleView.html"), (("idxno", n),))),
    NUMBER.map(lambda n: Article("", ("articles",), ((n, ""),))),
    NUMBER.map(lambda n: Article("", ("view.php",), (("id", n),))),
    NUMBER.map(lambda n: Article("", ("board", "view.php"), (("no", n),))),
    st.tuples(NUMBER, st.integers(1, 999)).map(
        lambda p: Article("", ("read",), (("aid", p[0].zfill(10)), ("oid", f"{p[1]:03}")))
    ),
    NUMBER.map(lambda n: Article("", ("article", n))),
    st.tuples(NUMBER, SLUG).map(lambda p: Article("", ("article", p[0], p[1]))),
    st.tuples(st.integers(2015, 2026), st.integers(1, 12), SLUG).map(
        lambda p: Article("", (str(p[0]), f"{p[1]:02}", p[2]))
    ),
    st.builds(
        _dated,
        st.integers(2015, 2026),
        st.integers(1, 12),
        st.integers(1, 28),
        st.sampled_from(["politics", "world", "defense"]),
        SLUG,
        st.integers(0, 99_999_999),
    ),
    NUMBER.map(lambda n: Article("", ("archives", n))),
)


@st.composite
def articles(draw: st.DrawFn) -> Article:
    """An article of any shape on any host, sometimes with extra identity parameters."""
    shape: Article = draw(SHAPES)
    taken = {name for name, _ in shape.params}
    extra = draw(
        st.lists(
            st.tuples(st.sampled_from([e for e in EXTRAS if e not in taken]), VALUE),
            max_size=2,
            unique_by=lambda pair: pair[0],
        )
    )
    return replace(shape, host=draw(HOSTS), params=shape.params + tuple(extra))


@st.composite
def copy_of(draw: st.DrawFn, article: Article) -> str:
    """One way a feed, page or share button writes the article's link."""
    host = draw(st.sampled_from(["", "www.", "m.", "amp."])) + article.host
    host = host.upper() if draw(st.booleans()) else host
    path = list(article.path)
    amp = draw(st.sampled_from(["none", "first", "last"]))
    path = ["amp", *path] if amp == "first" else [*path, "amp"] if amp == "last" else path
    slash = "/" if draw(st.booleans()) and "." not in path[-1] else ""
    trackers = draw(st.lists(st.tuples(st.sampled_from(TRACKERS), VALUE), max_size=3))
    params = draw(st.permutations(list(article.params) + trackers))
    query = "&".join(f"{k}={v}" if v else k for k, v in params)
    query = quote(query, safe="") if draw(st.booleans()) else query  # `?mod%3Dx%26id%3D1`
    fragment = draw(st.sampled_from(["", "#comments", "#top", "#page=2"]))
    scheme = draw(st.sampled_from(["http", "https"]))
    return f"{scheme}://{host}/{'/'.join(path)}{slash}" + (f"?{query}" if query else "") + fragment


@st.composite
def neighbour(draw: st.DrawFn, article: Article) -> Article:
    """A different article one change away: its host, one path segment or one parameter."""
    kind = draw(st.sampled_from(["host", "segment", "value", "extra"]))
    if kind == "host":
        return replace(article, host=draw(HOSTS.filter(lambda h: h != article.host)))
    if kind == "segment":
        at = draw(st.integers(0, len(article.path) - 1))
        new = draw(st.one_of(NUMBER, SLUG).filter(lambda s: s != article.path[at]))
        return replace(article, path=(*article.path[:at], new, *article.path[at + 1 :]))
    params = list(article.params)
    if kind == "value" and params:
        at = draw(st.integers(0, len(params) - 1))
        name, value = params[at]
        old = value or name
        new = draw((NUMBER if old.isdigit() else VALUE).filter(lambda v: v != old))
        params[at] = (name, new) if value else (new, "")
        return replace(article, params=tuple(params))
    taken = {name for name, _ in params}
    name = draw(st.sampled_from([e for e in EXTRAS if e not in taken]))
    return replace(article, params=(*article.params, (name, draw(VALUE))))


def key(link: str) -> str:
    return item_key("", link)


@PROPERTY
@given(pair=articles().flatmap(lambda a: st.tuples(copy_of(a), copy_of(a))))
def test_two_copies_of_one_article_share_one_key(pair: tuple[str, str]) -> None:
    first, second = pair
    assert key(first) == key(second)
    assert canonical_url(first) == canonical_url(second)


@PROPERTY
@given(
    pair=articles()
    .flatmap(lambda a: st.tuples(st.just(a), neighbour(a)))
    .flatmap(lambda p: st.tuples(copy_of(p[0]), copy_of(p[1])))
)
def test_two_articles_one_change_apart_keep_two_keys(pair: tuple[str, str]) -> None:
    first, second = pair
    assert key(first) != key(second)


@PROPERTY
@given(
    pair=st.tuples(articles(), articles())
    .filter(lambda p: p[0].identity() != p[1].identity())
    .flatmap(lambda p: st.tuples(copy_of(p[0]), copy_of(p[1])))
)
def test_two_distinct_articles_keep_two_keys_however_they_are_written(
    pair: tuple[str, str],
) -> None:
    first, second = pair
    assert key(first) != key(second)


def test_three_idxno_articles_of_one_section_are_three_keys() -> None:
    links = [f"http://www.example.co.kr/news/articleView.html?idxno={n}" for n in (1, 2, 3)]
    assert len({key(link) for link in links}) == 3


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("https://www.news1.kr/articles/?5621234", "https://www.news1.kr/articles/?5621235"),
        ("https://board.example/view?uid=41", "https://board.example/view?uid=42"),
        ("https://board.example/view?cid=41", "https://board.example/view?cid=42"),
        ("https://photo.example/view?gallery=41", "https://photo.example/view?gallery=42"),
        ("https://news.example/read?source_id=41", "https://news.example/read?source_id=42"),
        ("https://news.example/view?id=5&page=1", "https://news.example/view?id=5&page=2"),
    ],
)
def test_parameters_courlan_would_drop_still_name_articles(one: str, other: str) -> None:
    assert key(one) != key(other)


def test_parameter_names_that_read_as_html_entities_are_not_rewritten() -> None:
    first = "https://news.example/view?id=5&section=world&notice=2"
    reordered = "https://news.example/view?notice=2&section=world&id=5"
    assert key(first) == key(reordered) == "https://news.example/view?id=5&notice=2&section=world"


def test_a_bare_query_number_stays_bare_and_trackers_around_it_go() -> None:
    link = "http://m.news1.kr/articles/?utm_source=rss&5621234#top"
    assert canonical_url(link) == "https://news1.kr/articles?5621234"


def test_a_query_escaped_as_a_whole_reads_as_the_query_it_escapes() -> None:
    escaped = "https://news.example/view.php?id%3D7%26utm_source%3Drss%26page%3D2"
    assert canonical_url(escaped) == canonical_url("https://news.example/view.php?page=2&id=7")


def test_placement_parameter_of_one_publisher_is_dropped_on_that_host_only() -> None:
    plain = "https://www.wsj.com/world/asia/summit-talks-3f2a1b9c"
    assert key(f"{plain}?mod=hp_lead_pos6") == key(f"{plain}?mod%3Dworld_lead_pos3") == key(plain)
    forum = "https://bbs.example/forum.php?mod={}&tid=5"
    assert key(forum.format("viewthread")) != key(forum.format("attachment"))


def test_a_url_inside_a_parameter_does_not_replace_the_link() -> None:
    one = "https://news.example/view.php?id=5&return=https://news.example/"
    two = "https://news.example/view.php?id=6&return=https://news.example/"
    assert key(one) != key(two)
    assert key(one).startswith("https://news.example/view.php?id=5")


def test_guid_wins_over_the_link() -> None:
    link = "http://www.example.co.kr/news/articleView.html?idxno=1"
    assert item_key("wire-101", link) == "wire-101"
    assert item_key("  wire-101\n", link) == "wire-101"


def test_guid_is_kept_as_written_not_canonicalised() -> None:
    guid = "https://www.wire.example/101/?utm_source=a"
    assert item_key(guid, "https://other.example/x") == guid


def test_whitespace_guid_falls_back_to_the_canonical_link() -> None:
    link = "http://www.example.co.kr/news/articleView.html?idxno=2&utm_source=rss"
    assert item_key(" \n\t", link) == "https://example.co.kr/news/articleView.html?idxno=2"
    assert item_key("", link) == item_key(" ", link)


def test_url_guids_of_distinct_idxno_articles_are_distinct_story_guids() -> None:
    one = global_guid("http://www.example.co.kr/news/articleView.html?idxno=1")
    two = global_guid("https://example.co.kr/news/articleView.html?idxno=2&fbclid=x")
    assert one and two and one != two


INDEX = b"""<html><head><title>Weekly briefing transcripts</title></head><body>
<a href="/shows/briefing/episode.php?no=41">Episode 41</a>
<a href="episode.php?no=42&utm_source=rss">Episode 42</a>
<a href="https://www.podcast.example/shows/briefing/episode.php?no=41#transcript">41 again</a>
<a href="http://m.podcast.example/shows/briefing/episode.php?no=43">Episode 43</a>
<a href="/about">About the show</a>
</body></html>"""


def test_transcript_links_are_keyed_by_canonical_url_once_each_in_page_order() -> None:
    parsed = parse_transcript_index(
        INDEX, "https://podcast.example/shows/briefing/", r"episode\.php"
    )
    assert [item.key for item in parsed.items] == [
        "https://podcast.example/shows/briefing/episode.php?no=41",
        "https://podcast.example/shows/briefing/episode.php?no=42",
        "https://podcast.example/shows/briefing/episode.php?no=43",
    ]
    assert parsed.items[1].url.endswith("episode.php?no=42&utm_source=rss")
    assert [item.title for item in parsed.items] == ["Episode 41", "Episode 42", "Episode 43"]
