"""Chunking: exact offsets, full coverage, order and token bounds, on awkward text too."""

from __future__ import annotations

import hashlib
import itertools
import random
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from briefer.errors import ConfigError
from briefer.ingestion import _chunk as chunk_module
from briefer.ingestion._chunk import chunk_document, split_chunk
from briefer.llm.tokens import count_tokens
from briefer.models import Chunk, Document, Source

NEWS = (
    "the United States Treasury sanctioned five North Korean officials on Wednesday after "
    "Pyongyang launched two ballistic missiles into the sea east of the peninsula while "
    "diplomats in Seoul and Tokyo called for restraint and new talks"
)
WORDS = NEWS.split()


def make_doc(text: str) -> Document:
    digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
    source = Source(
        id=f"src-{digest[:12]}",
        title=None,
        url=None,
        path=None,
        outlet=None,
        published=None,
        sha256=digest,
        tokens=0,
        chars=len(text),
    )
    return Document(source=source, text=text)


def sentence(rng: random.Random, words: int) -> str:
    body = " ".join(rng.choice(WORDS) for _ in range(words))
    return body[0].upper() + body[1:] + rng.choice([".", ".", "!", "?"])


def paragraph(rng: random.Random, sentences: int, words: int = 12) -> str:
    return " ".join(sentence(rng, rng.randint(3, words)) for _ in range(sentences))


def assert_valid(
    doc: Document, chunks: list[Chunk], max_tokens: int, encoding: str = "o200k_base"
) -> None:
    text = doc.text
    covered = bytearray(len(text))
    previous_start = -1
    for index, chunk in enumerate(chunks):
        assert chunk.text, "empty chunk"
        assert text[chunk.start : chunk.end] == chunk.text
        assert chunk.start > previous_start
        previous_start = chunk.start
        assert chunk.tokens == count_tokens(chunk.text, encoding) <= max_tokens
        assert chunk.index == index
        assert chunk.id == f"{doc.id}:{index}"
        assert chunk.source_id == doc.id
        covered[chunk.start : chunk.end] = b"\x01" * (chunk.end - chunk.start)
    missed = [i for i, flag in enumerate(covered) if not flag and not text[i].isspace()]
    assert not missed, f"characters not in any chunk at {missed[:5]}"
    if text.strip():
        assert chunks


# Text built from the pieces that make chunking hard: several scripts, combining marks, emoji
# sequences, CRLF, blank lines, sentence ends, and special-token text.
awkward_piece = st.one_of(
    st.text(min_size=1, max_size=80),
    st.text(alphabet="你好世界北朝鮮制裁。、！？", min_size=1, max_size=60),
    st.sampled_from(
        [
            "\n\n",
            "\r\n",
            "\r\n\r\n",
            "\n \n",
            ". ",
            "! ",
            "。",
            " ",
            "<|endoftext|>",
            "<|endofprompt|>",
            "👩\u200d👩\u200d👧",
            "🇰🇷",
            "👍🏽",
            "e\u0301\u0316",
            "\u0d9e\U0001f9ec",
            "Missiles were fired on Wednesday.",
        ]
    ),
)


@settings(max_examples=80, deadline=None)
@given(
    pieces=st.lists(awkward_piece, min_size=0, max_size=200),
    repeat=st.integers(min_value=1, max_value=6),  # long enough to need several chunks
    max_tokens=st.integers(min_value=50, max_value=100),
    overlap_share=st.floats(min_value=0, max_value=0.9),
)
def test_property_offsets_coverage_order_bounds(
    pieces: list[str], repeat: int, max_tokens: int, overlap_share: float
) -> None:
    doc = make_doc("".join(pieces) * repeat)
    overlap = int(max_tokens * overlap_share)
    chunks = chunk_document(doc, max_tokens=max_tokens, overlap_tokens=overlap)
    assert_valid(doc, chunks, max_tokens)
    for chunk in chunks:
        try:
            left, right = split_chunk(doc, chunk)
        except ValueError:
            continue
        for half in (left, right):
            assert half.text and doc.text[half.start : half.end] == half.text
        assert chunk.start <= left.start < left.end <= right.start < right.end <= chunk.end


@pytest.mark.parametrize(
    "alphabet",
    [
        "abcdefghijklmnopqrstuvwxyz",
        "你好世界北朝鮮制裁",
        "😀👍🏽é\u0301\u0d9e",
        "ab \t",
        ".!?",
        "。",
    ],
    ids=["latin", "cjk", "emoji-combining", "spaced", "punctuation-run", "cjk-stop-run"],
)
def test_fifty_thousand_character_paragraph(alphabet: str) -> None:
    rng = random.Random(alphabet)
    text = "Intro sentence.\n\n" + "".join(rng.choice(alphabet) for _ in range(50_000))
    doc = make_doc(text)
    for max_tokens, overlap in ((2000, 100), (50, 10)):
        chunks = chunk_document(doc, max_tokens=max_tokens, overlap_tokens=overlap)
        assert len(chunks) > 1
        assert_valid(doc, chunks, max_tokens)


def test_many_short_paragraphs_and_crlf() -> None:
    rng = random.Random(7)
    text = "\r\n\r\n".join(sentence(rng, rng.randint(1, 4)) for _ in range(3000))
    doc = make_doc(text)
    chunks = chunk_document(doc, max_tokens=120, overlap_tokens=20)
    assert_valid(doc, chunks, 120)
    # packed, not one paragraph per chunk
    assert len(chunks) < 3000 / 5


def test_special_token_text_is_chunked_as_text() -> None:
    doc = make_doc("The string <|endoftext|> appeared in the leak. " * 400)
    chunks = chunk_document(doc, max_tokens=100, overlap_tokens=10)
    assert_valid(doc, chunks, 100)
    assert all("<|endoftext|>" in chunk.text for chunk in chunks)


def test_cl100k_encoding() -> None:
    rng = random.Random(3)
    doc = make_doc("\n\n".join(paragraph(rng, 6) for _ in range(40)))
    chunks = chunk_document(doc, max_tokens=200, overlap_tokens=0, encoding="cl100k_base")
    assert_valid(doc, chunks, 200, encoding="cl100k_base")


def test_article_that_fits_is_one_chunk_counted_once(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = random.Random(1)
    text = "\n\n".join(paragraph(rng, 5) for _ in range(12)) + "\n"
    calls: list[int] = []

    def counting(text: str, encoding: str = "o200k_base") -> int:
        calls.append(len(text))
        return count_tokens(text, encoding)

    monkeypatch.setattr(chunk_module, "count_tokens", counting)
    doc = make_doc(text)
    chunks = chunk_document(doc)
    assert calls == [len(text)]
    assert len(chunks) == 1
    only = chunks[0]
    assert (only.start, only.end, only.text) == (0, len(text), text)
    assert only.tokens == count_tokens(text) <= 2000
    assert only.id == f"{doc.id}:0"


@pytest.mark.parametrize("text", ["", "   ", "\r\n\r\n\t"])
def test_blank_document_has_no_chunks(text: str) -> None:
    assert chunk_document(make_doc(text)) == []


def test_boundaries_land_on_blank_lines() -> None:
    rng = random.Random(11)
    paragraphs = [paragraph(rng, rng.randint(2, 6)) for _ in range(60)]
    doc = make_doc("\n\n".join(paragraphs))
    chunks = chunk_document(doc, max_tokens=300, overlap_tokens=0)
    assert len(chunks) > 3
    assert_valid(doc, chunks, 300)
    starts = {m.end() for m in re.finditer(r"\n\n", doc.text)} | {0}
    ends = {m.start() for m in re.finditer(r"\n\n", doc.text)} | {len(doc.text)}
    for chunk in chunks:
        assert chunk.start in starts
        assert chunk.end in ends


def test_long_paragraph_is_cut_at_sentence_ends_and_prefers_the_blank_line() -> None:
    rng = random.Random(5)
    short = paragraph(rng, 12)  # well over half of max_tokens, under max_tokens
    long = paragraph(rng, 80)  # several chunks' worth, sentences only
    doc = make_doc(short + "\n\n" + long)
    max_tokens = 2 * count_tokens(short) - 10
    chunks = chunk_document(doc, max_tokens=max_tokens, overlap_tokens=0)
    assert_valid(doc, chunks, max_tokens)
    # The first chunk stops at the blank line rather than taking a few sentences of the next
    # paragraph, which would have fitted.
    assert chunks[0].text == short
    for chunk in chunks[1:-1]:
        assert chunk.text[-1] in ".!?"
        assert doc.text[chunk.end] == " "


def test_overlap_is_whole_trailing_sentences_within_budget() -> None:
    rng = random.Random(9)
    doc = make_doc("\n\n".join(paragraph(rng, 8, words=8) for _ in range(30)))
    overlap = 40
    chunks = chunk_document(doc, max_tokens=250, overlap_tokens=overlap)
    assert_valid(doc, chunks, 250)
    assert len(chunks) > 3
    for previous, current in itertools.pairwise(chunks):
        assert current.start < previous.end, "no overlap"
        shared = doc.text[current.start : previous.end]
        assert 0 < count_tokens(shared) <= overlap
        # it starts where a sentence starts
        assert doc.text[current.start - 2 : current.start] in {". ", "! ", "? ", "\n\n"}
        # and takes as many whole sentences as fit: one more would not have
        before = doc.text[: current.start - 2]
        earlier = max(before.rfind(". "), before.rfind("! "), before.rfind("? "))
        if earlier > previous.start:
            assert count_tokens(doc.text[earlier + 2 : previous.end]) > overlap


def test_no_overlap_when_zero() -> None:
    rng = random.Random(9)
    doc = make_doc("\n\n".join(paragraph(rng, 8) for _ in range(30)))
    chunks = chunk_document(doc, max_tokens=250, overlap_tokens=0)
    for previous, current in itertools.pairwise(chunks):
        assert current.start >= previous.end


@pytest.mark.parametrize(
    ("max_tokens", "overlap", "message"),
    [
        (49, 0, "max_tokens is 49: set it to at least 50"),
        (100, 100, "overlap_tokens is 100: set it between 0 and max_tokens - 1"),
        (100, -1, "overlap_tokens is -1"),
    ],
)
def test_sizes_are_checked(max_tokens: int, overlap: int, message: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(message)):
        chunk_document(make_doc("text"), max_tokens=max_tokens, overlap_tokens=overlap)


def test_unknown_encoding_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="unknown token encoding"):
        chunk_document(make_doc("text"), encoding="gpt2")


def test_split_chunk_at_the_sentence_nearest_the_middle() -> None:
    text = "Intro. " + "One two three four. Five six seven eight. Nine ten eleven twelve. End."
    doc = make_doc(text)
    [whole] = chunk_document(doc)
    left, right = split_chunk(doc, whole)
    assert (left.text, right.text) == (
        "Intro. One two three four. Five six seven eight.",
        "Nine ten eleven twelve. End.",
    )
    assert (left.id, right.id) == (f"{whole.id}a", f"{whole.id}b")
    assert left.index == right.index == whole.index
    for half in (left, right):
        assert doc.text[half.start : half.end] == half.text
        assert half.tokens == count_tokens(half.text)
    again_left, again_right = split_chunk(doc, left)
    assert again_left.id == f"{whole.id}aa"
    assert (again_left.text, again_right.text) == (
        "Intro. One two three four.",
        "Five six seven eight.",
    )


def test_split_chunk_inside_a_chunk_keeps_document_offsets() -> None:
    rng = random.Random(2)
    doc = make_doc("\n\n".join(paragraph(rng, 6) for _ in range(20)))
    chunks = chunk_document(doc, max_tokens=200, overlap_tokens=30)
    for chunk in chunks[1:]:
        left, right = split_chunk(doc, chunk)
        assert doc.text[left.start : left.end] == left.text
        assert doc.text[right.start : right.end] == right.text
        assert left.end < right.start
        assert abs(len(left.text) - len(right.text)) < len(chunk.text) * 0.6


def test_split_chunk_falls_back_to_words_then_characters() -> None:
    doc = make_doc("alpha beta gamma delta epsilon zeta")
    left, right = split_chunk(doc, chunk_document(doc)[0])
    assert (left.text, right.text) == ("alpha beta gamma", "delta epsilon zeta")
    cjk = make_doc("北朝鮮制裁北朝鮮制裁北朝鮮制裁北朝鮮制裁北朝鮮")
    left, right = split_chunk(cjk, chunk_document(cjk)[0])
    assert left.text + right.text == cjk.text
    assert abs(len(left.text) - len(right.text)) <= 1


def test_split_chunk_keeps_accents_with_their_letter() -> None:
    doc = make_doc("e\u0301" * 15)
    left, right = split_chunk(doc, chunk_document(doc)[0])
    assert left.text + right.text == doc.text
    assert not right.text.startswith("\u0301")


@pytest.mark.parametrize("text", ["Too short.", "no-break-at-all-19c", "  x  "])
def test_split_chunk_refuses_a_tiny_chunk(text: str) -> None:
    doc = make_doc(text)
    with pytest.raises(ValueError, match="too small to split"):
        split_chunk(doc, chunk_document(doc)[0])


def test_split_chunk_refuses_a_chunk_of_another_document() -> None:
    doc = make_doc("First sentence here. Second sentence here.")
    other = make_doc("Different text entirely. With two sentences.")
    with pytest.raises(ValueError, match="not a slice"):
        split_chunk(other, chunk_document(doc)[0])


def test_bound_holds_on_real_counts_when_part_counts_mislead(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Chunk sizes are planned from the counts of their parts; the bound must still come from
    # counting each chunk's own text. Make the planning counts far too low to prove it.
    real_units = chunk_module._units

    def undercounted(text: str, max_tokens: int, encoding: str) -> list[chunk_module._Unit]:
        return [u._replace(tokens=1, gap_tokens=0) for u in real_units(text, max_tokens, encoding)]

    monkeypatch.setattr(chunk_module, "_units", undercounted)
    rng = random.Random(4)
    doc = make_doc("\n\n".join(paragraph(rng, 3) for _ in range(40)))
    chunks = chunk_document(doc, max_tokens=120, overlap_tokens=30)
    assert len(chunks) > 5
    assert_valid(doc, chunks, 120)
