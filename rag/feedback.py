"""Thumbs up/down on answers, kept locally as JSON lines (one record per rating) for later review."""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Mapping
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

from rag.results import Answer

try:  # POSIX: also serialise appends from several server processes sharing one file
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None


class Rating(StrEnum):
    UP = "up"
    DOWN = "down"


def feedback_record(
    answer: Answer, rating: Rating | str, *, comment: str | None = None, now: datetime | None = None
) -> dict[str, Any]:
    """What one rating stores: question, answer text, citations (clause ids and strings), rating, time."""
    moment = now or datetime.now(UTC)
    record: dict[str, Any] = {
        "timestamp": moment.isoformat(timespec="seconds"),
        "rating": Rating(rating).value,
        "question": answer.question,
        "resolved_question": answer.resolved_question,
        "answer": answer.text,
        "abstained": answer.abstained,
        "citations": [
            {"n": c.n, "clause_id": c.clause.id, "citation": c.clause.citation} for c in answer.citations
        ],
        "generated_by": answer.generated_by,
    }
    if comment:
        record["comment"] = comment
    return record


class FeedbackLog:
    """Appends records to one JSON-lines file; safe to share between threads (and processes on POSIX)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()

    def record(
        self, answer: Answer, rating: Rating | str, *, comment: str | None = None, now: datetime | None = None
    ) -> dict[str, Any]:
        record = feedback_record(answer, rating, comment=comment, now=now)
        self.append(record)
        return record

    def append(self, record: Mapping[str, Any]) -> None:
        line = (json.dumps(record, ensure_ascii=False) + "\n").encode("utf-8")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._lock:
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            try:
                if fcntl is not None:
                    fcntl.flock(fd, fcntl.LOCK_EX)
                view = memoryview(line)
                while view:  # O_APPEND under an exclusive lock: whole lines, never interleaved
                    view = view[os.write(fd, view) :]
                os.fsync(fd)
            finally:
                os.close(fd)  # closing releases the flock

    def read(self) -> list[dict[str, Any]]:
        """Every stored record, oldest first; an absent file is an empty log."""
        return read_feedback(self.path)


def read_feedback(path: Path) -> list[dict[str, Any]]:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    return [json.loads(line) for line in text.splitlines() if line.strip()]
