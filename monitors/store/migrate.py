"""Schema migrations, run in code: a store opened on an older database is upgraded first."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection, Engine

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
# The schema of the first release, which created its tables without recording a revision.
FIRST = "0001"
# Upgraders of one PostgreSQL database take turns (a single-key advisory lock).
_PG_MIGRATION_LOCK_ID = 0x6D696772  # "migr"


def _config(conn: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = conn
    return config


def head() -> str:
    """The newest revision this code knows."""
    found = ScriptDirectory.from_config(_config()).get_current_head()
    assert found is not None
    return found


def current(conn: Connection) -> str | None:
    """The database's revision: None when it has no tables, FIRST when it predates revisions."""
    revision = MigrationContext.configure(conn).get_current_revision()
    if revision is None and sa.inspect(conn).has_table("items"):
        return FIRST
    return revision


def upgrade_engine(engine: Engine) -> tuple[str | None, str]:
    """Bring the database to the newest revision; (revision before, revision after)."""
    target = head()
    with engine.connect() as conn:
        before = current(conn)
    if before == target:
        return before, target  # the usual open: nothing to lock, nothing to write
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(sa.select(sa.func.pg_advisory_xact_lock(_PG_MIGRATION_LOCK_ID)))
        config = _config(conn)
        before = current(conn)
        if before is not None and MigrationContext.configure(conn).get_current_revision() is None:
            command.stamp(config, FIRST)  # tables of the first release, no version table yet
        command.upgrade(config, "head")
        after = MigrationContext.configure(conn).get_current_revision()
    assert after is not None
    return before, after
