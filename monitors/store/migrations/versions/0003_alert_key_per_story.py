"""Key story alerts by desk, channel and story, no longer by topic.

A story that matched two topics used to send a desk two messages, keyed
`desk|channel|topic|story[|update-N]`; one message per story is now keyed
`desk|channel|story[|update-N]`. Each old story row gets the new key; where several rows of one
desk, channel and story (and update number) would share it, the earliest (by creation time, then
id) takes it and the others keep their old keys: they are history, and told-ness is read by
(desk, channel, story), so they still count as told. Summary rows (story key `summary:…`) keep
their keys.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

BATCH = 1000
SUMMARY_PREFIX = "summary:"
_outbox = sa.table(
    "outbox",
    sa.column("id", sa.Integer),
    sa.column("alert_key", sa.Text),
    sa.column("desk_id", sa.String),
    sa.column("channel", sa.String),
    sa.column("topic_id", sa.String),
    sa.column("story_key", sa.Text),
    sa.column("created_at", sa.DateTime(timezone=True)),
)


def new_key(alert_key: str, desk_id: str, channel: str, topic_id: str) -> str | None:
    """`desk|channel|story[|update-N]` for a `desk|channel|topic|…` key; None for any other."""
    old_prefix = f"{desk_id}|{channel}|{topic_id}|"
    if not alert_key.startswith(old_prefix):
        return None
    return f"{desk_id}|{channel}|{alert_key[len(old_prefix) :]}"


def upgrade() -> None:
    """Walk the story rows oldest first, a batch at a time, and re-key them."""
    conn = op.get_bind()
    query = (
        sa.select(*_outbox.c)
        .where(sa.not_(_outbox.c.story_key.startswith(SUMMARY_PREFIX)))
        .order_by(_outbox.c.created_at, _outbox.c.id)
        .limit(BATCH)
    )
    rows = conn.execute(query).all()
    while rows:
        _rekey(conn, rows)
        last = rows[-1]
        after = sa.or_(
            _outbox.c.created_at > last.created_at,
            sa.and_(_outbox.c.created_at == last.created_at, _outbox.c.id > last.id),
        )
        rows = conn.execute(query.where(after)).all()


def _rekey(conn: sa.Connection, rows: Sequence[Any]) -> None:
    """Give each row of the batch its new key, unless an earlier row took it already."""
    wanted = {
        row.id: key
        for row in rows
        if (key := new_key(row.alert_key, row.desk_id, row.channel, row.topic_id)) is not None
    }
    if not wanted:
        return
    taken = set(
        conn.execute(
            sa.select(_outbox.c.alert_key).where(_outbox.c.alert_key.in_(set(wanted.values())))
        ).scalars()
    )
    for row_id, key in wanted.items():  # oldest first: the earliest row keeps the new key
        if key in taken:
            continue
        taken.add(key)
        conn.execute(_outbox.update().where(_outbox.c.id == row_id).values(alert_key=key))


def downgrade() -> None:
    """Old keys are not restored: the rows keep their story, desk and channel, which is history."""
