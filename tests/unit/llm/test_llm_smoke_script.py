"""scripts/smoke_server.py against FakeOpenAIServer acting as the servers of docs/servers.md."""

from __future__ import annotations

import importlib.util
import io
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from briefer.testing import FakeOpenAIServer, FakeReply

SCRIPT = Path(__file__).resolve().parents[3] / "scripts" / "smoke_server.py"


@pytest.fixture(scope="module")
def smoke() -> ModuleType:
    path = SCRIPT
    spec = importlib.util.spec_from_file_location("smoke_server", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run(smoke: ModuleType, server: FakeOpenAIServer, *extra: str) -> tuple[int, list[str]]:
    out = io.StringIO()
    code = smoke.main(["--base-url", server.base_url, "--model", "qwen2.5-7b", *extra], out)
    return code, out.getvalue().splitlines()


def like_llama_cpp_python(body: dict[str, Any]) -> FakeReply:
    if body["response_format"]["type"] == "json_schema":
        return FakeReply.llama_cpp_python_rejects_json_schema()
    return FakeReply.schema_valid()


def test_a_server_that_takes_json_schema_passes(
    smoke: ModuleType, server: FakeOpenAIServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-local-0123456789")
    code, lines = run(smoke, server)
    assert code == 0
    assert lines[0] == f"server: {server.base_url} (key from OPENAI_API_KEY)"
    assert lines[1] == "response_format accepted: json_schema"
    assert lines[2].startswith('reply: qwen2.5-7b, the server named it "qwen2.5-7b"; ')
    assert lines[3].startswith("validation: valid (")
    sent = server.requests[0].body
    assert sent["model"] == "qwen2.5-7b" and sent["max_tokens"] == 2000
    assert sent["response_format"]["json_schema"]["name"] == "extraction"
    assert server.requests[0].sent_key("sk-local-0123456789")


def test_llama_cpp_python_shows_the_refusal_and_the_format_it_took(
    smoke: ModuleType, server: FakeOpenAIServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    server.handler = like_llama_cpp_python
    code, lines = run(smoke, server)
    assert code == 0, lines
    assert lines[0].endswith("(OPENAI_API_KEY unset: sent a placeholder key)")
    assert lines[1].startswith("response_format refused: json_schema: 500 [{'type': 'literal_")
    assert lines[2] == "response_format accepted: json_object"
    assert lines[4].startswith("validation: valid")
    assert lines[5].startswith("note: briefer steps down to this format by itself")
    assert len(lines) == 6
    assert "schema" in server.requests[1].body["response_format"]


def test_an_invalid_reply_fails_with_the_first_error(
    smoke: ModuleType, server: FakeOpenAIServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-local-0123456789")
    server.enqueue(FakeReply.json({"events": [{"type": "PARTY"}], "stances": "none"}))
    code, lines = run(smoke, server)
    assert code == 1
    assert lines[-1].startswith("validation: does not validate: ")


def test_a_cut_off_reply_and_a_strict_refusal_say_what_to_change(
    smoke: ModuleType, server: FakeOpenAIServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-local-0123456789")
    server.enqueue(FakeReply.truncated())
    code, lines = run(smoke, server)
    assert code == 1 and lines[-1] == (
        "validation: the reply was cut off at the token limit (raise --max-tokens)"
    )
    server.handler = like_llama_cpp_python
    code, lines = run(smoke, server, "--strict")
    assert code == 1 and lines[-1].startswith("call failed: ")
    assert "does not take the json_schema response format (500" in lines[-1]


@pytest.mark.slow
def test_the_script_runs_as_a_command(server: FakeOpenAIServer) -> None:
    server.handler = like_llama_cpp_python
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--base-url", server.base_url, "--model", "m"],
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(SCRIPT.parents[1])},
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "response_format accepted: json_object" in done.stdout
    assert done.stderr == ""  # a few plain lines, no traceback
