"""Thumbs up/down stored as JSON lines: what a record holds, and appends that never interleave."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime

import pytest
from ui_support import TALENT, answer

from rag.feedback import FeedbackLog, Rating, feedback_record, read_feedback


def test_record_holds_question_answer_citations_rating_and_time():
    moment = datetime(2024, 5, 1, 8, 30, tzinfo=UTC)
    record = feedback_record(answer(), "up", now=moment)
    assert record["question"] == "外籍人才工作许可年龄能放宽到多少岁？"
    assert record["answer"] == "工作许可年龄可放宽至65岁[1]。"
    assert record["citations"] == [{"n": 1, "clause_id": TALENT.id, "citation": TALENT.citation}]
    assert record["rating"] == "up"
    assert record["timestamp"] == "2024-05-01T08:30:00+00:00"


def test_unknown_rating_is_refused():
    with pytest.raises(ValueError):
        feedback_record(answer(), "meh")


def test_log_appends_json_lines_and_reads_them_back(tmp_path):
    log = FeedbackLog(tmp_path / "sub" / "feedback.jsonl")
    log.record(answer(), Rating.UP)
    log.record(answer(), Rating.DOWN, comment="引用不对")
    lines = (tmp_path / "sub" / "feedback.jsonl").read_text(encoding="utf-8").splitlines()
    assert [json.loads(line)["rating"] for line in lines] == ["up", "down"]
    assert log.read()[1]["comment"] == "引用不对"
    assert "外籍人才" in lines[0]  # stored readable, not \u-escaped


def test_missing_log_reads_as_empty(tmp_path):
    assert read_feedback(tmp_path / "none.jsonl") == []


def test_concurrent_appends_keep_every_line_whole(tmp_path):
    log = FeedbackLog(tmp_path / "feedback.jsonl")
    long_answer = answer("很长的回答" * 2000 + "[1]")

    def rate(i: int) -> None:
        for _ in range(10):
            log.record(long_answer, Rating.UP if i % 2 else Rating.DOWN)

    threads = [threading.Thread(target=rate, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    records = read_feedback(tmp_path / "feedback.jsonl")
    assert len(records) == 80
    assert all(r["answer"] == long_answer.text for r in records)
