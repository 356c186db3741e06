"""Email and Slack rendering: structure, determinism, and that feed text can never inject."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default as default_policy
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from alerts.delivery.render import highlight_runs, local_time, message_id_for, render_email
from alerts.delivery.render_slack import (
    SLACK_MAX_BLOCKS,
    SLACK_TEXT_MAX,
    render_slack,
    render_slack_json,
)
from alerts.delivery.render_summary import email_message, slack_json, slack_payload
from alerts.delivery.summaries import MAX_ITEMS, burst_summary, with_item
from alerts.models import AlertMessage, Change, OtherOutlet, Passage, TopicHit
from seeds.models import DeskSpec
from tests.support.builders import an_alert

SENDER = "deskwatch <alerts@example.org>"


def make_alert(**changes: Any) -> AlertMessage:
    """The shared alert, with a link carrying a query and a passage with a figure."""
    passage = Passage(
        text="Some 10,000 North Korean troops arrived in Kursk on Monday.", highlights=[(12, 31)]
    )
    fields = {"url": "https://news.example.org/kursk?id=1&lang=en", "passages": [passage]}
    return an_alert(**(fields | changes))


def parts(msg: EmailMessage) -> dict[str, str]:
    """The text of each leaf part, keyed by content type."""
    return {part.get_content_type(): str(part.get_content()) for part in msg.iter_parts()}


def slack_texts(payload: dict[str, object]) -> list[str]:
    """Every mrkdwn string in a payload, the fallback text included."""
    texts = [str(payload["text"])]
    blocks = payload["blocks"]
    assert isinstance(blocks, list)
    for block in blocks:
        if "text" in block:
            texts.append(block["text"]["text"])
        texts.extend(element["text"] for element in block.get("elements", []))
    return texts


def test_email_is_multipart_alternative_with_text_and_html() -> None:
    msg = render_email(make_alert(), SENDER)
    assert msg.get_content_type() == "multipart/alternative"
    bodies = parts(msg)
    assert set(bodies) == {"text/plain", "text/html"}
    assert "North Korean troops arrive in Kursk" in bodies["text/plain"]
    assert "**North Korean troops**" in bodies["text/plain"]
    assert "<mark" in bodies["text/html"] and "North Korean troops</mark>" in bodies["text/html"]
    assert 'href="https://news.example.org/kursk?id=1&amp;lang=en"' in bodies["text/html"]
    assert "Other Wire" in bodies["text/plain"] and "Also reported by" in bodies["text/html"]
    assert "Published: 2 Jan 2025, 12:04 KST (UTC+09:00)" in bodies["text/plain"]


def test_email_headers() -> None:
    alert = make_alert()
    msg = render_email(alert, SENDER)
    assert msg["Subject"] == "[deskwatch] Troop deployment: North Korean troops arrive in Kursk"
    assert msg["From"] == SENDER
    assert msg["To"] == "desk@example.org, editor@example.org"
    assert msg["List-Id"] == "<newsdesk.deskwatch>"
    assert msg["X-Deskwatch-Alert-Key"] == alert.alert_key
    assert msg["Message-ID"] == message_id_for(alert.alert_key)
    assert msg["Date"] == "Thu, 02 Jan 2025 03:10:00 +0000"


def test_message_id_is_deterministic_per_key() -> None:
    first = message_id_for("desk|email|topic|story")
    assert first == message_id_for("desk|email|topic|story")
    assert first != message_id_for("desk|email|topic|other-story")
    assert first.startswith("<") and first.endswith("@deskwatch>")
    # The whole message is reproducible too, so a re-send or a re-written .eml is the same bytes.
    alert = make_alert()
    assert render_email(alert, SENDER).as_bytes() == render_email(alert, SENDER).as_bytes()


def test_subject_cannot_inject_headers() -> None:
    msg = render_email(make_alert(headline="Breaking\r\nBcc: x@y\x00\x1b " + "x" * 400), SENDER)
    subject = msg["Subject"]
    assert "\r" not in subject and "\n" not in subject and "\x00" not in subject
    assert len(subject) <= 200
    assert msg["Bcc"] is None
    reparsed = message_from_bytes(msg.as_bytes(), policy=default_policy)
    assert reparsed["Bcc"] is None
    assert reparsed["Subject"].startswith("[deskwatch] Troop deployment: Breaking Bcc: x@y")


def test_html_escapes_feed_text_and_drops_unsafe_links() -> None:
    alert = make_alert(headline="<script>alert(1)</script>", url="javascript:alert(1)")
    html = parts(render_email(alert, SENDER))["text/html"]
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "javascript:" not in html


HOSTILE = "Ping <!channel> and <@U123> then <https://evil.example|click> *bold* _it_ ~s~ `c` @here"


def test_slack_payload_neutralises_feed_markup() -> None:
    alert = make_alert(
        channel="slack",
        headline=HOSTILE,
        outlet="<!here> Outlet",
        passages=[Passage(text=HOSTILE, highlights=[(0, 4)])],
        also_reported_by=[OtherOutlet(outlet="<@U999>", url="https://x.example/a|b>c<d")],
    )
    texts = slack_texts(render_slack(alert))
    joined = "\n".join(texts)
    for active in ("<!channel>", "<@U123>", "<!here>", "<@U999>", "<https://evil", "*bold*"):
        assert active not in joined
    for formatting in ("_it_", "~s~", "`c`"):
        assert formatting not in joined
    assert "@here" not in joined  # a word joiner splits the bare broadcast word
    assert "&lt;!channel&gt;" in joined
    assert "<https://x.example/a%7Cb%3Ec%3Cd|&lt;@U999&gt;>" in joined
    assert "*Ping*" in joined  # our own highlight markup still works


def test_slack_headline_link_and_fields() -> None:
    payload = render_slack(make_alert(channel="slack"))
    texts = slack_texts(payload)
    assert texts[1] == (
        "*<https://news.example.org/kursk?id=1&amp;lang=en|North Korean troops arrive in Kursk>*"
    )
    joined = "\n".join(texts)
    assert "Example News" in joined and "published 2 Jan 2025, 12:04 KST (UTC+09:00)" in joined
    assert "Troop deployment" in joined
    assert ">Some 10,000 *North Korean troops* arrived in Kursk on Monday." in joined
    assert "*Also reported by:* <https://wire.example.net/a|Other Wire>" in joined
    assert "North Korean troops arrive in Kursk" in str(payload["text"])


def test_slack_respects_size_limits() -> None:
    long_text = "&<>" * 3000 + " Pyongyang " + "word " * 2000
    start = long_text.index("Pyongyang")
    alert = make_alert(
        channel="slack",
        headline="H&" * 2000,
        passages=[Passage(text=long_text, highlights=[(start, start + 9), (0, 9000)])] * 60,
        also_reported_by=[
            OtherOutlet(outlet=f"Outlet {i}", url=f"https://o{i}.example/") for i in range(500)
        ],
    )
    payload = render_slack(alert)
    blocks = payload["blocks"]
    assert isinstance(blocks, list) and len(blocks) <= SLACK_MAX_BLOCKS
    for text in slack_texts(payload):
        assert len(text) <= SLACK_TEXT_MAX
        assert text.count("*") % 2 == 0  # truncation never leaves a bold marker open
        assert re.search(r"&(?!amp;|lt;|gt;)", text) is None  # no entity cut in half
    assert "more matching passages" in json.dumps(payload)
    assert json.loads(render_slack_json(alert)) == payload


def test_highlight_runs_clamp_merge_and_trim() -> None:
    passage = Passage(text="alpha beta gamma", highlights=[(4, 10), (6, 11), (-5, 2), (40, 50)])
    assert highlight_runs(passage) == [
        ("al", True),
        ("ph", False),
        ("a beta", True),
        (" gamma", False),
    ]
    assert highlight_runs(Passage(text="line\r\nbreak")) == [("line  break", False)]


@settings(max_examples=150, deadline=None)
@given(
    text=st.text(alphabet=st.sampled_from("ab @&<>*_~`|\n"), max_size=4000),
    spans=st.lists(st.tuples(st.integers(-5, 4005), st.integers(-5, 4005)), max_size=6),
)
def test_slack_passages_are_always_inert_and_bounded(
    text: str, spans: list[tuple[int, int]]
) -> None:
    alert = make_alert(channel="slack", passages=[Passage(text=text, highlights=spans)])
    blocks = render_slack(alert)["blocks"]
    assert isinstance(blocks, list)
    for block in blocks[4:-2]:  # the passage sections
        body = block["text"]["text"]
        assert len(body) <= SLACK_TEXT_MAX
        assert not set("<>_~`\n") & set(body[1:])  # only our leading ">" quote survives
        assert body.count("*") % 2 == 0
        assert re.search(r"&(?!amp;|lt;|gt;)", body) is None


# --- summaries -------------------------------------------------------------------------------


def make_summary(count: int, **changes: Any) -> AlertMessage:
    """A burst summary carrying `count` alerts; keyword arguments replace fields of each."""
    start = datetime(2025, 1, 2, 3, 0, tzinfo=UTC)
    desk = DeskSpec.model_validate(
        {"id": "newsdesk", "name": "News Desk", "timezone": "Asia/Seoul",
         "topics": ["troop-deployment"], "channels": [{"kind": "file"}]}
    )  # fmt: skip
    base = make_alert(channel="slack")
    summary = burst_summary(desk, base, start, start + timedelta(hours=1), 5, start)
    for n in range(count):
        fields = {"alert_key": f"k{n}", "headline": f"Story {n}"} | changes
        summary = with_item(summary, make_alert(**fields))
    return summary


def test_summary_email_lists_every_alert() -> None:
    summary = make_summary(3)
    msg = email_message(summary, SENDER)
    assert msg["Subject"] == (
        "[deskwatch] Troop deployment: more than 5 alerts an hour (12:00–13:00 KST) — 3 alerts"
    )
    assert msg["Message-ID"] == message_id_for(summary.alert_key)
    assert msg["List-Id"] == "<newsdesk.deskwatch>"
    bodies = parts(msg)
    for n in range(3):
        assert f"Story {n}" in bodies["text/plain"] and f"Story {n}</a>" in bodies["text/html"]
    assert email_message(summary, SENDER).as_bytes() == msg.as_bytes()
    assert (
        email_message(make_alert(), SENDER)["Subject"]
        == render_email(make_alert(), SENDER)["Subject"]
    )


def test_summary_of_hostile_feed_text_is_inert() -> None:
    summary = make_summary(
        2, headline="Hi\r\nBcc: x@y <script>" + HOSTILE, outlet="<!here>", url="javascript:x()"
    )
    msg = email_message(summary, SENDER)
    reparsed = message_from_bytes(msg.as_bytes(), policy=default_policy)
    assert reparsed["Bcc"] is None
    html = parts(msg)["text/html"]
    assert "<script>" not in html and "javascript:" not in html
    joined = "\n".join(slack_texts(slack_payload(summary)))
    for active in ("<!channel>", "<@U123>", "<!here>", "<https://evil", "*bold*", "\n>", "\r"):
        assert active not in joined.replace("\n•", "")


def test_summary_slack_respects_limits_and_counts_the_rest() -> None:
    summary = make_summary(
        MAX_ITEMS + 20, headline="&<>" * 70, outlet="O&" * 50, url="https://x.example/" + "a" * 900
    )
    payload = slack_payload(summary)
    blocks = payload["blocks"]
    assert isinstance(blocks, list) and len(blocks) <= SLACK_MAX_BLOCKS
    texts = slack_texts(payload)
    assert all(len(text) <= SLACK_TEXT_MAX for text in texts)
    assert all(re.search(r"&(?!amp;|lt;|gt;)", text) is None for text in texts)
    listed = sum(text.count("• ") for text in texts)
    more = re.search(r"\+(\d+) more", json.dumps(payload))
    assert more is not None and listed + int(more.group(1)) == MAX_ITEMS + 20
    assert json.loads(slack_json(summary)) == payload


# --- topics, updates, desk-local times -------------------------------------------------------


def two_topic_alert(**changes: Any) -> AlertMessage:
    """An alert about one story that matched two of the desk's topics, arms leading."""
    arms = TopicHit(
        topic_id="arms-transfers", title="Arms transfers", severity="high", score=9.5,
        passages=[Passage(text="20,000 containers of shells", highlights=[(21, 27)])],
    )  # fmt: skip
    troops = TopicHit(
        topic_id="troop-deployment", title="Troop deployment", severity="high", score=7.0,
        passages=[Passage(text="1,200 casualties among soldiers", highlights=[(23, 31)])],
    )  # fmt: skip
    fields = {"topic_id": "arms-transfers", "topic_title": "Arms transfers", "score": 9.5}
    return make_alert(**(fields | {"topics": [arms, troops]} | changes))


def test_one_message_names_every_topic_leading_first_with_its_evidence() -> None:
    alert = two_topic_alert()
    msg = render_email(alert, SENDER)
    assert msg["Subject"] == (
        "[deskwatch] Arms transfers + Troop deployment: North Korean troops arrive in Kursk"
    )
    bodies = parts(msg)
    text = bodies["text/plain"]
    assert text.index("== Arms transfers") < text.index("== Troop deployment")
    assert "**shells**" in text and "**soldiers**" in text
    assert "shells</mark>" in bodies["text/html"] and "soldiers</mark>" in bodies["text/html"]
    joined = "\n".join(slack_texts(render_slack(alert)))
    assert joined.index("*Topic:* Arms transfers") < joined.index("*Topic:* Troop deployment")
    assert "*soldiers*" in joined


def test_an_update_starts_by_saying_what_changed() -> None:
    change = Change(fact="3,000 casualties", earlier=["1,200 casualties"])
    alert = two_topic_alert(kind="update", changes=[change], alert_key="newsdesk|email|s|update-1")
    line = "What changed: 3,000 casualties (earlier: 1,200 casualties)"
    bodies = parts(render_email(alert, SENDER))
    assert bodies["text/plain"].startswith(line + "\n")
    assert line in bodies["text/html"]
    texts = slack_texts(render_slack(alert))
    assert texts[1] == line and texts[2].startswith("*<https://news.example.org/kursk")


def test_a_payload_stored_by_the_previous_release_still_parses_and_renders() -> None:
    stored = make_alert().model_dump(mode="json", exclude={"topics", "changes", "timezone"})
    stored["alert_key"] = "newsdesk|email|troop-deployment|story-1"
    alert = AlertMessage.model_validate_json(json.dumps(stored))
    assert [h.topic_id for h in alert.hits()] == ["troop-deployment"]
    msg = render_email(alert, SENDER)
    assert msg["Subject"] == "[deskwatch] Troop deployment: North Korean troops arrive in Kursk"
    assert "Published: 2 Jan 2025, 03:04 UTC (UTC+00:00)" in parts(msg)["text/plain"]
    assert "**North Korean troops**" in parts(msg)["text/plain"]
    assert "*Topic:* Troop deployment" in "\n".join(slack_texts(render_slack(alert)))


@pytest.mark.parametrize(
    ("zone", "shown"),
    [
        ("Asia/Seoul", "2 Jan 2025, 12:04 KST (UTC+09:00)"),
        ("Europe/Moscow", "2 Jan 2025, 06:04 MSK (UTC+03:00)"),
        ("America/New_York", "1 Jan 2025, 22:04 EST (UTC-05:00)"),
        ("Asia/Kolkata", "2 Jan 2025, 08:34 IST (UTC+05:30)"),
        ("Asia/Almaty", "2 Jan 2025, 08:04 (UTC+05:00)"),  # no abbreviation: the offset alone
        ("Not/AZone", "2 Jan 2025, 03:04 UTC (UTC+00:00)"),
    ],
)
def test_times_are_desk_local_with_the_utc_offset(zone: str, shown: str) -> None:
    assert local_time(datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC), zone) == shown
    assert local_time(None, zone) == "unknown"


def test_summaries_show_desk_local_times() -> None:
    summary = make_summary(2)
    bodies = parts(email_message(summary, SENDER))
    assert "detected 2 Jan 2025, 12:10 KST (UTC+09:00)" in bodies["text/plain"]
    assert ">2 Jan 2025, 12:10 KST (UTC+09:00)</time>" in bodies["text/html"]
    assert "2 Jan 2025, 12:10 KST (UTC+09:00)" in slack_json(summary)
