"""Delivery guarantees end to end: real SMTP and webhook servers, real stores, real crashes.

Each acceptance case of the delivery issue is one test here: SMTP down for a run, Slack 429,
a worker killed after claiming or after sending, two worker processes, a burst against a
budget, quiet hours, and hostile feed text.
"""

from __future__ import annotations

import signal
import subprocess
import sys
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from alerts.delivery.channels import Channel, SlackWebhookChannel, SmtpChannel
from alerts.delivery.outbox import Outbox, deliver_pending
from alerts.delivery.pacing import Pacer
from alerts.delivery.render import message_id_for
from alerts.digest.read import build_digest
from alerts.models import AlertMessage, Passage
from flows.local.sinks import SlackWebhookSink, SmtpSink
from monitors.store import Store, create_engine
from seeds.loader import load_seeds
from seeds.models import DeskSpec
from tests.conftest import REPO
from tests.support.outbox_rows import alert_for, queue_story

NOW = datetime(2024, 12, 17, 9, 10, tzinfo=UTC)  # 18:10 in Seoul
SENDER = "deskwatch <alerts@example.org>"
CHANNELS = [
    {"kind": "email", "to": ["korea-desk@newsroom.example"]},
    {"kind": "slack", "webhook": "korea-desk"},
]


def make_desk(**changes: Any) -> DeskSpec:
    fields = {
        "id": "korea-desk",
        "name": "Korea desk",
        "timezone": "Asia/Seoul",
        "topics": ["troop-deployment", "arms-transfers"],
        "channels": CHANNELS,
    }
    return DeskSpec.model_validate(fields | changes)


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=5.0) as c:
        yield c


@pytest.fixture
def sinks() -> Iterator[tuple[SmtpSink, SlackWebhookSink]]:
    with SmtpSink() as smtp, SlackWebhookSink() as slack:
        yield smtp, slack


def transports(
    smtp_url: str, slack: SlackWebhookSink, client: httpx.Client
) -> Callable[[AlertMessage], Channel]:
    """Real channels for one run: email to `smtp_url`, Slack to the sink, unpaced."""
    email = SmtpChannel(smtp_url, SENDER, timeout=5)
    hook = SlackWebhookChannel(slack.url, client)
    return lambda alert: email if alert.channel == "email" else hook


def at(moment: datetime) -> Callable[[], datetime]:
    return lambda: moment


def statuses(store: Store) -> Counter[str]:
    return Counter(store.outbox.counts())


# --- SMTP down for one run -------------------------------------------------------------------


def test_smtp_down_for_one_run_then_each_alert_sent_once(database_url: str) -> None:
    store = Store(create_engine(database_url))
    for n in range(3):
        queue_story(
            store, f"s{n}", NOW, [alert_for("korea-desk", "email", "arms-transfers", f"s{n}", NOW)]
        )
    box = Outbox(store.outbox)
    smtp = SmtpSink().start()
    smtp.stop()  # the port is known and nothing listens on it
    send = SmtpChannel(smtp.url, SENDER, timeout=2)
    down = deliver_pending(box, lambda _a: send, now=at(NOW), desks=[make_desk()])
    assert (down.sent, down.retrying, down.failed) == (0, 3, 0)
    assert all(f"smtp 127.0.0.1:{smtp.port}" in error for error in down.errors)
    waiting = store.outbox.list_rows()
    assert [r.status for r in waiting] == ["pending"] * 3
    assert all(r.next_attempt_at and r.next_attempt_at > NOW and r.last_error for r in waiting)
    with smtp:  # back up, same port
        later = NOW + timedelta(hours=1)
        up = deliver_pending(box, lambda _a: send, now=at(later), desks=[make_desk()])
        again = deliver_pending(box, lambda _a: send, now=at(later), desks=[make_desk()])
        ids = [m["Message-ID"] for m in smtp.messages]
    assert (up.sent, again.sent) == (3, 0)
    assert sorted(ids) == sorted(message_id_for(f"korea-desk|email|s{n}") for n in range(3))
    assert statuses(store) == {"sent": 3}


# --- Slack 429 -------------------------------------------------------------------------------


def test_slack_429_is_waited_out_without_a_duplicate(tmp_path: Path, client: httpx.Client) -> None:
    store = Store(create_engine(f"sqlite:///{tmp_path / 'state.db'}"))
    for n in range(2):
        queue_story(
            store, f"s{n}", NOW, [alert_for("korea-desk", "slack", "arms-transfers", f"s{n}", NOW)]
        )
    with SlackWebhookSink(rate_limit_first=1, retry_after=0.3) as slack:
        hook = SlackWebhookChannel(slack.url, client, pacer=Pacer(1.0, 10), max_wait_s=30)
        report = deliver_pending(Outbox(store.outbox), lambda _a: hook, now=at(NOW))
        texts = [p["text"] for p in slack.payloads]
        assert (report.sent, report.retrying, slack.requests) == (2, 0, 3)
    assert len(texts) == len(set(texts)) == 2
    assert statuses(store) == {"sent": 2}


def test_slack_429_longer_than_the_wait_defers_to_a_later_run(
    tmp_path: Path, client: httpx.Client
) -> None:
    store = Store(create_engine(f"sqlite:///{tmp_path / 'state.db'}"))
    for n in range(2):
        queue_story(
            store, f"s{n}", NOW, [alert_for("korea-desk", "slack", "arms-transfers", f"s{n}", NOW)]
        )
    box = Outbox(store.outbox)
    with SlackWebhookSink(rate_limit_first=1, retry_after=90) as slack:
        hook = SlackWebhookChannel(slack.url, client, max_wait_s=30)
        first = deliver_pending(box, lambda _a: hook, now=at(NOW))
        assert (first.sent, first.retrying, slack.requests) == (0, 2, 1)  # one request only
        due = sorted(r.next_attempt_at for r in store.outbox.list_rows() if r.next_attempt_at)
        assert due[-1] == NOW + timedelta(seconds=90)  # the refused one: its Retry-After
        assert due[0] >= NOW + timedelta(seconds=85)  # the other: the time left of it
        early = deliver_pending(box, lambda _a: hook, now=at(NOW + timedelta(seconds=60)))
        fresh = SlackWebhookChannel(slack.url, client)  # the next run's channel
        later = deliver_pending(box, lambda _a: fresh, now=at(NOW + timedelta(seconds=91)))
        assert (early.sent, later.sent, len(slack.payloads)) == (0, 2, 2)


# --- crashes ---------------------------------------------------------------------------------


def worker(*args: str) -> subprocess.Popen[str]:
    """tests/support/outbox_worker.py in a process of its own."""
    return subprocess.Popen(
        [sys.executable, "-m", "tests.support.outbox_worker", *args],
        cwd=REPO,
        stdout=subprocess.PIPE,
        text=True,
    )


def queue_emails(store: Store, count: int, prefix: str = "s") -> list[str]:
    keys = []
    for n in range(count):
        alert = alert_for("korea-desk", "email", "arms-transfers", f"{prefix}{n}", NOW)
        queue_story(store, f"{prefix}{n}", NOW, [alert])
        keys.append(alert.alert_key)
    return keys


def test_worker_killed_after_claiming_is_replaced_after_the_lease(database_url: str) -> None:
    store = Store(create_engine(database_url))
    keys = queue_emails(store, 3)
    box = Outbox(store.outbox)
    with SmtpSink() as smtp:
        proc = worker(database_url, smtp.url, "hang-after-claim")
        assert proc.stdout is not None and proc.stdout.readline().strip() == "claimed 3"
        proc.send_signal(signal.SIGKILL)
        assert proc.wait(timeout=10) == -signal.SIGKILL
        send = SmtpChannel(smtp.url, SENDER, timeout=5)
        held = deliver_pending(box, lambda _a: send)  # the dead worker's lease still holds
        assert held.sent == 0 and smtp.messages == []
        after_lease = datetime.now(UTC) + timedelta(minutes=6)
        taken_over = deliver_pending(box, lambda _a: send, now=at(after_lease))
        ids = [m["Message-ID"] for m in smtp.messages]
    assert taken_over.sent == 3
    assert sorted(ids) == sorted(message_id_for(k) for k in keys)  # each exactly once
    assert statuses(store) == {"sent": 3}


def test_worker_killed_after_sending_resends_once_with_the_same_message_id(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'state.db'}"
    store = Store(create_engine(url))
    keys = queue_emails(store, 3)
    with SmtpSink() as smtp:
        proc = worker(url, smtp.url, "exit-after-send")
        assert proc.wait(timeout=30) == 3
        assert len(smtp.messages) == 3 and statuses(store) == {"claimed": 3}
        send = SmtpChannel(smtp.url, SENDER, timeout=5)
        after_lease = datetime.now(UTC) + timedelta(minutes=6)
        resent = deliver_pending(Outbox(store.outbox), lambda _a: send, now=at(after_lease))
        settled = deliver_pending(Outbox(store.outbox), lambda _a: send, now=at(after_lease))
        ids = Counter(m["Message-ID"] for m in smtp.messages)
    # The documented window: one more copy each, recognisable as the same mail, then never again.
    assert (resent.sent, settled.sent) == (3, 0)
    assert ids == Counter({message_id_for(k): 2 for k in keys})
    assert statuses(store) == {"sent": 3}


def test_two_worker_processes_send_every_alert_once(database_url: str, tmp_path: Path) -> None:
    store = Store(create_engine(database_url))
    keys = queue_emails(store, 40)
    go = tmp_path / "go"
    with SmtpSink() as smtp:
        procs = [worker(database_url, smtp.url, "drain", str(go), "4") for _ in range(2)]
        for proc in procs:
            assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
        go.touch()  # both start draining at the same moment
        outputs = [proc.communicate(timeout=60)[0].strip() for proc in procs]
        ids = [m["Message-ID"] for m in smtp.messages]
    assert [proc.returncode for proc in procs] == [0, 0]
    sent = [int(out.removeprefix("sent ")) for out in outputs]
    assert sum(sent) == 40 and min(sent) > 0  # both took part, neither sent another's alert
    assert sorted(ids) == sorted(message_id_for(k) for k in keys)
    assert statuses(store) == {"sent": 40}


# --- budgets and quiet hours -----------------------------------------------------------------


def test_a_burst_of_50_yields_the_budget_plus_one_summary_per_channel(
    database_url: str, sinks: tuple[SmtpSink, SlackWebhookSink], client: httpx.Client
) -> None:
    smtp, slack = sinks
    store = Store(create_engine(database_url))
    desk = make_desk(budget={"per_hour": 5})
    for n in range(50):  # one topic, fifty stories within a minute
        when = NOW + timedelta(seconds=n)
        alerts = [
            alert_for("korea-desk", c, "troop-deployment", f"s{n:02}", when)
            for c in ("email", "slack")
        ]
        queue_story(store, f"s{n:02}", when, alerts)
    channels = transports(smtp.url, slack, client)
    box = Outbox(store.outbox)
    burst = deliver_pending(box, channels, now=at(NOW + timedelta(minutes=1)), desks=[desk])
    assert (burst.sent, burst.suppressed) == (10, 90)
    assert (len(smtp.messages), len(slack.payloads)) == (5, 5)
    window_end = datetime(2024, 12, 17, 10, 0, tzinfo=UTC)
    assert (
        deliver_pending(box, channels, now=at(window_end - timedelta(seconds=1)), desks=[desk]).sent
        == 0
    )
    summaries = deliver_pending(box, channels, now=at(window_end), desks=[desk])
    assert summaries.sent == 2 and all(a.kind == "summary" for a in summaries.sent_alerts)
    assert (
        deliver_pending(box, channels, now=at(window_end + timedelta(hours=2)), desks=[desk]).sent
        == 0
    )
    assert (len(smtp.messages), len(slack.payloads)) == (6, 6)  # budget + one summary each
    summary = smtp.messages[-1]
    assert "more than 5 alerts an hour (18:00–19:00 KST) — 45 alerts" in summary["Subject"]
    body = summary.get_body(("plain",))
    assert body is not None and all(
        f"Headline of s{n:02}" in body.get_content() for n in range(5, 50)
    )
    assert statuses(store) == {"sent": 12, "suppressed": 90}
    # The digest counts what happened: 10 alerts and 2 summaries sent, 90 held back.
    seeds = load_seeds()
    digest = build_digest(store, desk, seeds.topics, seeds.sources, date(2024, 12, 17))
    troops = next(t for t in digest.topics if t.topic_id == "troop-deployment")
    assert (troops.alerts_sent, troops.suppressed_over_budget) == (12, 90)
    assert digest.summary.alerted_stories == 5


def test_quiet_hours_hold_alerts_for_one_summary_when_they_end(
    tmp_path: Path, sinks: tuple[SmtpSink, SlackWebhookSink], client: httpx.Client
) -> None:
    smtp, slack = sinks
    store = Store(create_engine(f"sqlite:///{tmp_path / 'state.db'}"))
    desk = make_desk(quiet_hours={"start": "22:00", "end": "07:00"})
    night = datetime(2024, 12, 17, 14, 0, tzinfo=UTC)  # 23:00 in Seoul
    for n, topic in enumerate(["troop-deployment", "arms-transfers", "troop-deployment"]):
        alerts = [alert_for("korea-desk", c, topic, f"n{n}", night) for c in ("email", "slack")]
        queue_story(store, f"n{n}", night, alerts)
    channels = transports(smtp.url, slack, client)
    box = Outbox(store.outbox)
    held = deliver_pending(box, channels, now=at(night + timedelta(minutes=5)), desks=[desk])
    assert (held.sent, held.held) == (0, 6)
    morning = datetime(2024, 12, 17, 22, 0, tzinfo=UTC)  # 07:00 in Seoul
    assert (
        deliver_pending(box, channels, now=at(morning - timedelta(minutes=1)), desks=[desk]).sent
        == 0
    )
    woke = deliver_pending(box, channels, now=at(morning), desks=[desk])
    assert woke.sent == 2 and (len(smtp.messages), len(slack.payloads)) == (1, 1)
    assert "Held during quiet hours (22:00–07:00 KST) — 3 alerts" in smtp.messages[0]["Subject"]
    assert "3 alerts" in slack.payloads[0]["text"]
    assert statuses(store) == {"summarized": 6, "sent": 2}
    later = morning + timedelta(minutes=30)
    queue_story(
        store, "day", later, [alert_for("korea-desk", "email", "arms-transfers", "day", later)]
    )
    assert deliver_pending(box, channels, now=at(later), desks=[desk]).sent == 1


def test_a_digest_only_desk_is_never_sent_anything(tmp_path: Path) -> None:
    store = Store(create_engine(f"sqlite:///{tmp_path / 'state.db'}"))
    queue_story(store, "s1", NOW, [alert_for("korea-desk", "email", "arms-transfers", "s1", NOW)])
    report = deliver_pending(
        Outbox(store.outbox), lambda _a: pytest.fail("nothing may be sent"), now=at(NOW),
        desks=[make_desk(mode="digest-only")],
    )  # fmt: skip
    assert (report.sent, report.dropped) == (0, 1)
    assert statuses(store) == {"dropped": 1}


# --- hostile feed text -----------------------------------------------------------------------

HOSTILE = (
    "Ping <!channel> <@U123> *bold* <https://evil.example|click> @here\r\nBcc: victim@evil.example"
)
ACTIVE = ("<!channel>", "<@U123>", "<!here>", "*bold*", "<https://evil", "|click>", "@here")


def test_hostile_feed_text_reaches_slack_and_email_inert(
    tmp_path: Path, sinks: tuple[SmtpSink, SlackWebhookSink], client: httpx.Client
) -> None:
    smtp, slack = sinks
    store = Store(create_engine(f"sqlite:///{tmp_path / 'state.db'}"))
    hostile: dict[str, Any] = {
        "headline": HOSTILE,
        "outlet": "<!here> Wire\r\nX-Injected: 1",
        "passages": [Passage(text=HOSTILE, highlights=[(0, 4)])],
        "url": "https://wire.example/a?x=<@U123>|b",
    }
    alerts = [
        alert_for("korea-desk", c, "arms-transfers", "h1", NOW, **hostile)
        for c in ("email", "slack")
    ]
    queue_story(store, "h1", NOW, alerts)
    # The same text through a quiet-hours summary, so both renderers face it.
    night = datetime(2024, 12, 17, 14, 0, tzinfo=UTC)
    alerts = [
        alert_for("korea-desk", c, "arms-transfers", "h2", night, **hostile)
        for c in ("email", "slack")
    ]
    queue_story(store, "h2", night, alerts)
    desk = make_desk(quiet_hours={"start": "22:00", "end": "07:00"})
    channels = transports(smtp.url, slack, client)
    box = Outbox(store.outbox)
    deliver_pending(box, channels, now=at(NOW), desks=[desk])
    deliver_pending(box, channels, now=at(night), desks=[desk])
    report = deliver_pending(
        box, channels, now=at(datetime(2024, 12, 17, 22, 0, tzinfo=UTC)), desks=[desk]
    )
    assert report.sent == 2 and (len(smtp.messages), len(slack.payloads)) == (2, 2)
    for payload in slack.payloads:
        texts = [payload["text"]]
        for block in payload["blocks"]:
            texts += [block.get("text", {}).get("text", "")]
            texts += [e["text"] for e in block.get("elements", [])]
        joined = "\n".join(texts)
        assert not any(active in joined for active in ACTIVE), joined
        assert "&lt;!channel&gt;" in joined
    for message in smtp.messages:
        assert message["Bcc"] is None and message["X-Injected"] is None
        assert "\n" not in message["Subject"] and "\r" not in message["Subject"]
        html = message.get_body(("html",))
        assert html is not None and "<!channel>" not in html.get_content()
    assert smtp.envelope_recipients == [["korea-desk@newsroom.example"]] * 2
