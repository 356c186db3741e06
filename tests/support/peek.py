"""Direct SQL on a store's database, for tests that set up or inspect rows no store API writes."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from monitors.store import Store, create_engine
from monitors.store.schema import metadata


@contextmanager
def database(target: Store | str) -> Iterator[Connection]:
    """A transaction on the store's database (or a URL's), committed when the block ends."""
    engine = create_engine(target.url if isinstance(target, Store) else target)
    try:
        with engine.begin() as conn:
            yield conn
    finally:
        engine.dispose()


def empty_database(url: str) -> None:
    """Drop every table, the migrations' version table included: the next store starts empty."""
    with database(url) as conn:
        for name in ("alembic_version", *(t.name for t in reversed(metadata.sorted_tables))):
            conn.execute(sa.text(f"DROP TABLE IF EXISTS {name}"))
