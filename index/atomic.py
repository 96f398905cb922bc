"""Crash-safe file writes: a reader sees the old file or the new one, never a torn mix."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

TEMP_SUFFIX = ".partial"
"""Temporary files end with this, so a later run can recognise and remove what a crash left."""


def fsync_path(path: str | os.PathLike[str]) -> None:
    """Flush a file, or a directory's entries (renames, new files), to disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> None:
    """Write data to path so that a crash at any point leaves either the old file or the new one.

    The bytes go to a temporary file in the same directory (so the rename never crosses a file
    system), are fsynced, and then replace path with os.replace; the directory is fsynced last.
    """
    target = Path(path)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=TEMP_SUFFIX)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    fsync_path(target.parent)


def atomic_write_text(path: str | os.PathLike[str], text: str, encoding: str = "utf-8") -> None:
    """atomic_write_bytes for text."""
    atomic_write_bytes(path, text.encode(encoding))
