"""Evaluation harness: scoring arithmetic, entry ids, label validation and the labelled sets."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from eval import datasets
from eval.__main__ import run
from eval.harness import Outcome, TopicScore, ratio, score
from eval.report import table, truncate
from tests.conftest import CORPUS

TOPICS = ("troops", "arms")


def outcome(key: str, gold: set[str], predicted: set[str]) -> Outcome:
    return Outcome(key, frozenset(gold), frozenset(predicted))


def test_counts_true_and_false_positives_and_negatives_per_topic() -> None:
    scores = score(
        [
            outcome("a", {"troops"}, {"troops"}),  # troops TP
            outcome("b", {"troops", "arms"}, {"arms"}),  # arms TP, troops FN
            outcome("c", set(), {"troops"}),  # troops FP
            outcome("d", {"arms"}, set()),  # arms FN
            outcome("e", set(), set()),
        ],
        TOPICS,
    )
    troops, arms = scores.topics
    assert (troops.tp, troops.fp, troops.fn, troops.positives) == (1, 1, 1, 2)
    assert (arms.tp, arms.fp, arms.fn, arms.positives) == (1, 0, 1, 2)
    assert scores.false_positives == {"troops": ("c",), "arms": ()}
    assert scores.false_negatives == {"troops": ("b",), "arms": ("d",)}
    assert scores.documents == 5


def test_precision_recall_f1_and_micro_average() -> None:
    scores = score(
        [
            outcome("a", {"troops"}, {"troops"}),
            outcome("b", {"troops"}, {"troops"}),
            outcome("c", set(), {"troops"}),
            outcome("d", {"arms"}, set()),
        ],
        TOPICS,
    )
    troops, arms = scores.topics
    assert troops.precision == pytest.approx(2 / 3)
    assert troops.recall == 1.0
    assert troops.f1 == pytest.approx(0.8)
    assert arms.precision is None  # nothing predicted: undefined, not zero
    assert arms.recall == 0.0
    assert arms.f1 == 0.0
    assert (scores.micro.tp, scores.micro.fp, scores.micro.fn) == (2, 1, 1)
    assert scores.micro.f1 == pytest.approx(2 / 3)


def test_zero_denominators_are_undefined() -> None:
    empty = TopicScore("troops")
    assert ratio(0, 0) is None
    assert (empty.precision, empty.recall, empty.f1) == (None, None, None)
    assert "—" in table("set", score([], ["troops"]))


def test_predictions_of_unscored_topics_are_ignored() -> None:
    scores = score([outcome("a", set(), {"weather"})], TOPICS)
    assert scores.micro.fp == 0


def test_titles_are_truncated_to_100_characters() -> None:
    assert truncate("x" * 100) == "x" * 100
    cut = truncate("y" * 150)
    assert len(cut) == 100 and cut.endswith("…")


def test_entry_id_is_a_sha256_prefix_of_the_link() -> None:
    assert datasets.entry_id("https://example.com/a") == "2dce0a4c50441bfc"
    assert datasets.entry_id("https://example.com/a", 2) == "2dce0a4c50441bfc#2"


def test_repeated_links_are_numbered_by_order_of_appearance() -> None:
    entries = [
        {"link": "https://example.com/a", "title": "first"},
        {"link": "https://example.com/b", "title": "other"},
        {"link": "https://example.com/a", "title": "second"},
    ]
    index = datasets.index_entries(entries)
    assert index["2dce0a4c50441bfc"]["title"] == "first"
    assert index["2dce0a4c50441bfc#2"]["title"] == "second"
    assert len(index) == 3


def test_headline_document_strips_html_and_entities() -> None:
    doc = datasets.headline_document(
        {"title": "Kim &amp; Putin", "description": "<p>Talks <a href='x'>in</a>\n Russia</p>"}
    )
    assert (doc.title, doc.body) == ("Kim & Putin", "Talks in Russia")


def test_article_first_line_is_the_title() -> None:
    doc = datasets.article_document("Headline here\n\nFirst paragraph.\n\nSecond.\n")
    assert doc.title == "Headline here"
    assert doc.body == "First paragraph.\n\nSecond."


def write_lines(path: Path, rows: list[object]) -> Path:
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    return path


GOOD = {"id": "2dce0a4c50441bfc", "file": "nk_ru_entries_2023.jsonl", "topics": ["arms-transfers"]}


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ({**GOOD, "topics": ["weather"]}, "line 1: unknown topic 'weather'"),
        ({**GOOD, "topics": "arms-transfers"}, "'topics' must be a list"),
        ({**GOOD, "id": "xyz"}, "is not 16 hex digits"),
        ({**GOOD, "file": "other.jsonl"}, "unknown corpus file 'other.jsonl'"),
        ({"id": GOOD["id"], "topics": []}, "missing field 'file'"),
        ({**GOOD, "score": 1}, "unexpected field 'score'"),
    ],
)
def test_invalid_headline_labels_are_rejected_with_a_clear_message(
    tmp_path: Path, row: dict[str, object], message: str
) -> None:
    path = write_lines(tmp_path / "headlines.jsonl", [row])
    with pytest.raises(datasets.LabelError, match=message.replace("(", r"\(")):
        datasets.load_headline_labels(path)


def test_a_headline_labelled_twice_is_rejected(tmp_path: Path) -> None:
    path = write_lines(tmp_path / "headlines.jsonl", [GOOD, GOOD])
    with pytest.raises(datasets.LabelError, match="line 2: id 2dce0a4c50441bfc labelled twice"):
        datasets.load_headline_labels(path)


def test_a_label_line_that_is_not_json_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "articles.jsonl"
    path.write_text('{"path": "en/a.txt", "topics": []}\n{oops\n', encoding="utf-8")
    with pytest.raises(datasets.LabelError, match="line 2: not JSON"):
        datasets.load_article_labels(path)


def test_article_labels_must_name_en_or_ko_text_files(tmp_path: Path) -> None:
    path = write_lines(tmp_path / "articles.jsonl", [{"path": "fr/a.txt", "topics": []}])
    with pytest.raises(datasets.LabelError, match="is not en/"):
        datasets.load_article_labels(path)


def test_an_id_missing_from_the_corpus_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "headlines").mkdir()
    write_lines(tmp_path / "headlines" / GOOD["file"], [{"link": "https://example.com/zzz"}])
    label = datasets.HeadlineLabel(GOOD["id"], GOOD["file"], frozenset(), 7)
    with pytest.raises(datasets.LabelError, match="line 7: id 2dce0a4c50441bfc not found"):
        datasets.headline_samples([label], tmp_path)


def test_the_bundled_label_files_are_valid() -> None:
    headlines = datasets.load_headline_labels()
    articles = datasets.load_article_labels()
    assert len(headlines) >= 320
    assert {label.file for label in headlines} == set(datasets.CORPUS_FILES)
    assert sum(label.path.startswith("en/") for label in articles) >= 30
    assert sum(label.path.startswith("ko/") for label in articles) >= 15


def test_every_written_article_is_labelled_and_every_label_has_its_file() -> None:
    labels = datasets.load_article_labels()
    assert datasets.unlabelled_articles(labels) == []
    samples = datasets.article_samples(labels)  # raises if a label names a missing file
    for sample in samples:
        assert sample.document.title, sample.key
        assert sample.document.body, sample.key


def test_every_topic_has_positive_articles() -> None:
    labels = datasets.load_article_labels()
    for topic in datasets.TOPICS:
        assert any(topic in label.topics for label in labels), topic
    assert any(not label.topics for label in labels)


@pytest.mark.corpus
def test_every_headline_label_resolves_to_a_corpus_entry() -> None:
    if not (CORPUS / "headlines").is_dir():
        pytest.skip(f"corpus not found at {CORPUS}")
    labels = datasets.load_headline_labels()
    samples = datasets.headline_samples(labels, CORPUS)
    assert len(samples) == len(labels)


def test_without_a_corpus_the_headlines_are_skipped_and_articles_scored(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    figures = tmp_path / "figures.json"
    code = run(["--corpus", str(tmp_path / "absent"), "--json", str(figures)])
    out = capsys.readouterr().out
    assert code == 0
    assert f"skipped headlines: corpus not found at {tmp_path / 'absent'}" in out
    saved = json.loads(figures.read_text(encoding="utf-8"))
    assert set(saved["datasets"]) == {"articles", "combined"}
    assert saved["headlines_skipped"]


def test_labels_naming_unknown_entries_exit_2_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "headlines").mkdir()
    for name in datasets.CORPUS_FILES:
        write_lines(tmp_path / "headlines" / name, [{"link": "https://example.com/zzz"}])
    assert run(["--corpus", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "not found in" in err
