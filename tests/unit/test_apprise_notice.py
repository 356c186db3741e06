"""What an Apprise notification carries: the email's subject and its Markdown text part."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from alerts.delivery.apprise_channel import render_notice
from alerts.delivery.summaries import quiet_summary, with_item
from alerts.models import Passage
from tests.support.builders import a_desk, an_alert

NOW = datetime(2024, 12, 17, 9, 10, tzinfo=UTC)


def test_a_notice_is_the_email_subject_and_markdown_text() -> None:
    alert = an_alert(
        channel="apprise",
        severity="medium",
        passages=[Passage(text="Troops were seen near Kursk.", highlights=[(0, 6)])],
    )
    notice = render_notice(alert)
    assert notice.title.startswith("[deskwatch] ") and alert.headline in notice.title
    assert "> **Troops** were seen near Kursk." in notice.body
    assert not notice.urgent and notice.body == notice.body.strip()


def test_an_update_says_so_in_its_title_and_high_severity_is_urgent() -> None:
    notice = render_notice(an_alert(channel="apprise", kind="update", severity="high"))
    assert "Update: " in notice.title and notice.urgent


def test_a_quiet_hours_summary_lists_its_alerts() -> None:
    held = an_alert(channel="apprise", headline="Second brigade reported in Kursk")
    start = NOW - timedelta(hours=1)
    summary = with_item(quiet_summary(a_desk(), held, start, NOW, NOW), held)
    notice = render_notice(summary)
    assert "Held during quiet hours" in notice.title and notice.title.endswith("1 alert")
    assert "- Second brigade reported in Kursk" in notice.body
