"""A throwaway PostgreSQL server on 127.0.0.1 for the test session (run as the postgres user)."""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager


def _binaries() -> str | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return os.path.dirname(found[-1]) if found else None


def _as_postgres(args: list[str]) -> list[str]:
    # The server refuses to run as root; as root we drop to the `postgres` account.
    return ["runuser", "-u", "postgres", "--", *args] if os.geteuid() == 0 else args


def unavailable_reason() -> str | None:
    if _binaries() is None:
        return "PostgreSQL server binaries not installed (run `make system-deps` as root)"
    if os.geteuid() == 0 and shutil.which("runuser") is None:
        return "running as root without runuser to drop to the postgres user"
    return None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def temporary_postgres() -> Iterator[str]:
    """Start initdb + postgres in a temp dir; yield a SQLAlchemy URL; stop and delete after."""
    bindir = _binaries()
    assert bindir is not None
    root = tempfile.mkdtemp(prefix="deskwatch-pg-")
    os.chmod(root, 0o777)
    data, port = os.path.join(root, "data"), _free_port()
    run = {"check": True, "stdout": subprocess.DEVNULL, "stderr": subprocess.PIPE}
    subprocess.run(
        _as_postgres([f"{bindir}/initdb", "-D", data, "-A", "trust", "-U", "postgres"]), **run
    )  # type: ignore[call-overload]
    options = f"-c listen_addresses=127.0.0.1 -p {port} -k {root} -c fsync=off"
    start = [f"{bindir}/pg_ctl", "-D", data, "-o", options, "-w", "-l", f"{root}/log", "start"]
    subprocess.run(_as_postgres(start), **run)  # type: ignore[call-overload]
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"
    finally:
        stop = [f"{bindir}/pg_ctl", "-D", data, "-m", "immediate", "-w", "stop"]
        subprocess.run(_as_postgres(stop), check=False, capture_output=True)
        shutil.rmtree(root, ignore_errors=True)
