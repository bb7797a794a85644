"""The API key reaches the model server and nothing else: not outputs, recordings, cache
files, anything under the home directory, stdout, stderr or error messages."""

from __future__ import annotations

import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from reliability.support import REPO, answer_normally, run_cli, write_articles

import briefer.cli
from briefer.testing import FakeOpenAIServer, FakeReply


def files_holding(folder: Path, needles: list[bytes]) -> list[Path]:
    found = []
    for path in folder.rglob("*"):
        if path.is_file() and not path.is_symlink():
            data = path.read_bytes()
            if any(needle in data for needle in needles):
                found.append(path)
    return found


@pytest.mark.slow
def test_the_key_is_sent_to_the_server_and_written_nowhere(
    tmp_path: Path, _isolated_home: Path
) -> None:
    key = f"sk-test-SENTINEL-{secrets.token_hex(12)}"
    needles = [key.encode(), key.split("-")[-1].encode()]
    folder = tmp_path / "articles"
    write_articles(folder, 4)
    env = {
        "OPENAI_API_KEY": key,
        "HOME": str(_isolated_home),
        "BRIEFER_CACHE_DIR": str(_isolated_home / "cache"),
        "BRIEFER_MAX_RETRIES": "1",
        "BRIEFER_BACKOFF": "0.01",
    }
    outputs = []
    with FakeOpenAIServer(answer_normally) as server:
        base = ["--base-url", server.base_url, "--record", tmp_path / "rec"]
        # 1. A good run, recorded and cached (markdown is rendered from the JSON below).
        for fmt in ("json", "html"):
            out = tmp_path / f"b.{fmt}"
            run = run_cli(["brief", folder, *base, "-o", out], env=env)
            assert run.code == 0, run.stderr
            outputs.append(run)
        # 2. The key is rejected (401, and the server's message repeats it).
        server.enqueue(FakeReply.http_error(401, f"Incorrect API key provided: {key}."))
        other = tmp_path / "other"
        write_articles(other, 1)
        (other / "article-00.txt").write_text("Title: Other\n\nA different article, this.\n")
        rejected = run_cli(["brief", other, *base, "-o", tmp_path / "401.md"], env=env)
        assert rejected.code == 2, rejected.stderr
        assert "OPENAI_API_KEY was rejected" in rejected.stderr
        outputs.append(rejected)
        # 3. A 400 whose message echoes the key, and a server failing: partial runs.
        server.enqueue(
            FakeReply.http_error(400, f"Invalid request from key {key} (key={key})"),
            *[FakeReply.server_error(500)] * 2,
        )
        fresh = tmp_path / "fresh"
        for path in write_articles(fresh, 7)[:4]:
            path.unlink()  # the others were not asked about before
        partial = run_cli(
            ["brief", fresh, *base, "-o", tmp_path / "400.json", "--concurrency", "1"], env=env
        )
        assert partial.code == 3, partial.stderr
        assert "rejected the request (400)" in partial.stderr
        assert "failed with 500" in partial.stderr
        outputs.append(partial)
        # 4. Estimate, schema, render: nothing there either.
        outputs.append(run_cli(["estimate", folder], env=env))
        outputs.append(run_cli(["render", tmp_path / "b.json", "-f", "markdown"], env=env))
        received = list(server.requests)

    assert received and all(r.sent_key(key) for r in received)
    for run in outputs:
        for needle in needles:
            assert needle.decode() not in run.stdout + run.stderr
    assert len(list((tmp_path / "rec").glob("*.json"))) >= 4
    assert len(list((_isolated_home / "cache").glob("*.json"))) >= 4
    assert files_holding(tmp_path, needles) == []
    assert files_holding(_isolated_home, needles) == []


UNEXPECTED = """
import os, sys
import briefer
from briefer.cli import main

def broken(sources, **kwargs):
    key = os.environ["OPENAI_API_KEY"]  # a local holding the key when it fails
    raise RuntimeError("something unexpected")

briefer.brief = broken
sys.argv = ["briefer", "brief", "examples/articles", "--replay", "examples/recordings"]
main()
"""


def test_a_traceback_shows_no_locals_and_no_key(tmp_path: Path) -> None:
    assert briefer.cli.app.pretty_exceptions_show_locals is False
    key = f"sk-test-SENTINEL-{secrets.token_hex(12)}"
    done = subprocess.run(
        [sys.executable, "-c", UNEXPECTED],
        capture_output=True,
        text=True,
        cwd=REPO,
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "OPENAI_API_KEY": key},
        timeout=60,
    )
    assert done.returncode == 1
    assert "RuntimeError" in done.stderr and "something unexpected" in done.stderr
    assert key not in done.stderr + done.stdout
    assert "SENTINEL" not in done.stderr + done.stdout
