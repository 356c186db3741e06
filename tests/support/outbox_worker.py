"""A delivery worker in its own process, for crash and concurrency tests.

    python -m tests.support.outbox_worker DB_URL SMTP_URL MODE [GO_FILE [BATCH]]

MODE:
  hang-after-claim  claim every due alert (lease 5 minutes), print "claimed N", then wait to be
                    killed: the crash between claiming and sending
  exit-after-send   claim and send every due alert, then exit at once without marking any sent:
                    the crash between sending and marking
  drain             print "ready", wait for GO_FILE to exist, drain the outbox in batches of
                    BATCH, print "sent N"
"""

from __future__ import annotations

import os
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from alerts.delivery.channels import SmtpChannel
from alerts.delivery.outbox import Outbox, deliver_pending
from monitors.store import open_store

LEASE = timedelta(minutes=5)
SENDER = "deskwatch <alerts@example.org>"


def main(argv: list[str]) -> int:
    db_url, smtp_url, mode = argv[:3]
    box = Outbox(open_store(db_url).outbox)
    channel = SmtpChannel(smtp_url, SENDER, timeout=10)
    now = datetime.now(UTC)
    if mode == "hang-after-claim":
        claims = box.claim(now, LEASE)
        for claim in claims:
            box.settle(claim, None, now, LEASE)
        print(f"claimed {len(claims)}", flush=True)
        time.sleep(600)  # the test kills us long before
        return 1
    if mode == "exit-after-send":
        for claim in box.claim(now, LEASE):
            box.settle(claim, None, now, LEASE)
            channel.send(claim.alert)
        os._exit(3)  # no mark_sent, no cleanup: as if the machine died here
    go, batch = Path(argv[3]), int(argv[4])
    print("ready", flush=True)
    while not go.exists():
        time.sleep(0.01)
    report = deliver_pending(box, lambda _alert: channel, batch=batch)
    print(f"sent {report.sent}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
