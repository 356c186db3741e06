"""Files for people to read: atomic writes and path segments that cannot leave their folder."""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import tempfile
from pathlib import Path


def label(text: str) -> str:
    """A lowercase [a-z0-9-] label (for List-Id and file names); never empty."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "desk"


def write_atomic(path: Path, data: bytes) -> None:
    """Write `data` to `path` via a temporary file in the same directory and os.replace."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp_name, 0o644)  # mkstemp makes 0600; these files are meant to be read
        os.replace(tmp_name, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp_name)
        raise


def safe_dir_name(name: str) -> str:
    """`name` as one path segment: only [A-Za-z0-9_-], so never `..`, `/` or a hidden file."""
    return re.sub(r"[^A-Za-z0-9_-]+", "-", name).strip("-") or "unnamed"


def safe_file_name(key: str) -> str:
    """A readable, collision-free file name stem for a key (no dots, no slashes)."""
    readable = label(key)[:80].strip("-")
    return f"{readable}-{hashlib.sha256(key.encode('utf-8')).hexdigest()[:12]}"
