"""`policy-rag serve` on a port that is taken: one line saying so at once, before anything loads."""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ui.cli_serve import _port

REPO = Path(__file__).resolve().parents[1]


def test_busy_port_is_reported_in_one_line_before_the_model_or_index_loads(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"  # empty: a first start would build the model and index here
    env = dict(os.environ, HF_HUB_OFFLINE="1", POLICYQA_DATA_DIR=str(data_dir), PYTHONIOENCODING="utf-8")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        started = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-m", "ui.cli", "serve", "--port", str(port)], cwd=REPO, env=env,
            capture_output=True, text=True, encoding="utf-8", timeout=120, check=False,
        )
        seconds = time.perf_counter() - started
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert done.returncode == 1, done.stderr
    assert len(lines) == 1 and "Traceback" not in done.stderr, done.stderr
    assert f"127.0.0.1:{port}" in lines[0] and "in use" in lines[0] and "--port" in lines[0]
    assert not (data_dir / "models").exists() and not (data_dir / "index").exists(), "it loaded before checking"
    assert seconds < 30, f"took {seconds:.1f} s"  # a first start takes most of a minute; this takes a few s


def test_port_out_of_range_is_refused_by_the_argument_parser() -> None:
    assert _port("7860") == 7860
    with pytest.raises(argparse.ArgumentTypeError, match="not a port number"):
        _port("70000")
