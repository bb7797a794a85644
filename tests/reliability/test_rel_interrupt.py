"""A run killed (SIGKILL) or interrupted (SIGINT) part-way leaves no partial output and no
damaged cache entry, and the next run resumes from what was saved."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from reliability.support import (
    BRIEFER,
    answer_normally,
    check_store,
    index_of,
    run_cli,
    write_articles,
)

from briefer.testing import FakeOpenAIServer, FakeReply

ARTICLES = 16


class GatedModel:
    """Answers normally, but once ``open_replies`` replies have gone out, holds every further
    request until released (so the run is caught mid-way, deterministically)."""

    def __init__(self, open_replies: int) -> None:
        self.open_replies = open_replies
        self.answered = 0
        self.lock = threading.Lock()
        self.release = threading.Event()
        self.waiting = threading.Event()
        self.extraction_requests = 0

    def __call__(self, body: dict[str, Any]) -> FakeReply:
        with self.lock:
            if index_of(body) is not None:
                self.extraction_requests += 1
            self.answered += 1
            hold = self.answered > self.open_replies
        if hold:
            self.waiting.set()
            self.release.wait(20)
        return answer_normally(body)


def wait_for(condition: Callable[[], bool], what: str, deadline: float = 20.0) -> None:
    end = time.monotonic() + deadline
    while not condition():
        if time.monotonic() > end:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.01)


# A shell starts background jobs with SIGINT ignored, and a process inherits that: exec the
# command with SIGINT at its default, as a terminal's Ctrl-C would find it (same process).
SIGINT_AS_A_TERMINAL_GIVES = (
    sys.executable,
    "-c",
    "import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_DFL); "
    "os.execv(sys.argv[1], sys.argv[1:])",
)


def start_cli(
    folder: Path, base_url: str, out: Path, cache: Path, command: str = "brief"
) -> subprocess.Popen[str]:
    env = {
        **os.environ,
        "OPENAI_API_KEY": "sk-dummy-interrupt",
        "BRIEFER_CACHE_DIR": str(cache),
        "NO_COLOR": "1",
        "PYTHONFAULTHANDLER": "1",  # SIGABRT prints every thread's stack
    }
    return subprocess.Popen(
        [
            *SIGINT_AS_A_TERMINAL_GIVES,
            *(str(BRIEFER), command, str(folder), "--base-url", base_url, "-o", str(out)),
            *("-j", "2", "--record", str(cache.with_name("recordings"))),
        ],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def finish(process: subprocess.Popen[str], timeout: float) -> str:
    """The process's stderr once it ends; if it does not, its stacks, in the failure."""
    try:
        return process.communicate(timeout=timeout)[1]
    except subprocess.TimeoutExpired:
        process.send_signal(signal.SIGABRT)
        stacks = process.communicate(timeout=10)[1]
        raise AssertionError(f"the run did not end after the signal:\n{stacks}") from None


def interrupt_mid_run(tmp_path: Path, sig: signal.Signals) -> tuple[int, str, int, Path, int]:
    """Start a run, stop it with ``sig`` once 6 replies are saved; returns (code, stderr,
    entries saved, folder, the server's port: the next run asks the same server)."""
    folder = tmp_path / "articles"
    write_articles(folder, ARTICLES)
    cache = tmp_path / "cache"
    out = tmp_path / "briefing.md"
    model = GatedModel(open_replies=6)
    with FakeOpenAIServer(model) as server:
        port = urlsplit(server.base_url).port or 0
        process = start_cli(folder, server.base_url, out, cache)
        try:
            # The sixth reply is saved once the run asks for more and is held.
            wait_for(model.waiting.is_set, "the run to reach the held replies")
            wait_for(lambda: len(list(cache.glob("*.json"))) >= 6, "six saved replies")
            process.send_signal(sig)
            stderr = finish(process, timeout=20)
        finally:
            model.release.set()
            if process.poll() is None:
                process.kill()
                process.wait()
    assert not out.exists(), "a partial briefing was written"
    assert not list(tmp_path.glob(".briefing.md*")), "a temporary output file was left"
    saved = check_store(cache)
    # A reply is cached, then recorded: a kill between the two leaves it cached only (the
    # next run with --record records it from the cache). Calls in flight: -j 2.
    assert len(saved) - 2 <= len(check_store(tmp_path / "recordings")) <= len(saved)
    return process.returncode, stderr, len(saved), folder, port


def resume(tmp_path: Path, folder: Path, saved: int, port: int) -> None:
    calls: list[int] = []

    def count(body: dict[str, Any]) -> FakeReply:
        if index_of(body) is not None:
            calls.append(1)
        return answer_normally(body)

    out = tmp_path / "resumed.md"
    with FakeOpenAIServer(count, port=port) as server:
        env = {"OPENAI_API_KEY": "sk-dummy-interrupt", "BRIEFER_CACHE_DIR": str(tmp_path / "cache")}
        run = run_cli(["brief", folder, "--base-url", server.base_url, "-o", out], env=env)
    assert run.code == 0, run.stderr
    assert out.read_text("utf-8").startswith("# ")
    # Only the articles without a saved reply were asked for.
    assert len(calls) == ARTICLES - saved


@pytest.mark.slow  # several processes or a whole run each: seconds
def test_sigkill_mid_run_leaves_no_partial_output_and_the_next_run_resumes(
    tmp_path: Path,
) -> None:
    code, _, saved, folder, port = interrupt_mid_run(tmp_path, signal.SIGKILL)
    assert code == -signal.SIGKILL
    assert 6 <= saved < ARTICLES
    resume(tmp_path, folder, saved, port)


@pytest.mark.slow  # several processes or a whole run each: seconds
def test_sigint_stops_cleanly_with_130_and_says_what_was_saved(tmp_path: Path) -> None:
    code, stderr, saved, folder, port = interrupt_mid_run(tmp_path, signal.SIGINT)
    assert code == 130, stderr
    assert "Traceback" not in stderr, stderr
    lines = [line for line in stderr.splitlines() if line.startswith("interrupted:")]
    assert len(lines) == 1, stderr
    assert f"saved in {tmp_path / 'cache'}" in lines[0]
    assert 6 <= saved < ARTICLES
    resume(tmp_path, folder, saved, port)


@pytest.mark.parametrize("command", ["brief", "extract"])
def test_sigint_run_with_a_hung_server_still_ends(tmp_path: Path, command: str) -> None:
    """Every request held: the interrupt must not wait for the server."""
    folder = tmp_path / "articles"
    write_articles(folder, 3)
    out = tmp_path / "b.md"
    release = threading.Event()
    entered = threading.Event()

    def hang(body: dict[str, Any]) -> FakeReply:
        entered.set()
        release.wait(20)
        return answer_normally(body)

    with FakeOpenAIServer(hang) as server:
        process = start_cli(folder, server.base_url, out, tmp_path / "cache", command)
        try:
            wait_for(entered.is_set, "a request")
            started = time.monotonic()
            process.send_signal(signal.SIGINT)
            stderr = finish(process, timeout=15)
            took = time.monotonic() - started
        finally:
            release.set()
            if process.poll() is None:
                process.kill()
                process.wait()
    assert process.returncode == 130, stderr
    assert "Traceback" not in stderr
    assert "interrupted: the replies received so far are saved in" in stderr
    assert took < 5
    assert not out.exists()
