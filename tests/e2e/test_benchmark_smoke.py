"""The benchmark runs end to end: a tiny corpus, no model latency, the table printed."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_quick_benchmark_prints_the_table() -> None:
    env = {k: v for k, v in os.environ.items() if k != "OPENAI_API_KEY"}
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.run", "--quick"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    header = next(line for line in lines if line.startswith("| figure"))
    assert "N=3" in header and "target" in header
    assert any(line.startswith("| re-run on cache: calls to server") for line in lines)
    assert any(line.startswith("merge:") for line in lines)
    assert any(line.startswith("replayed example briefing") for line in lines)
