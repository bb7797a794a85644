"""Document → chunks that fit a model's context, with exact character offsets.

Every chunk is a slice of the document: ``doc.text[chunk.start:chunk.end] == chunk.text``, so a
quote found in a chunk can be placed in the article. A document that fits is one chunk (the
common case, costing one token count). A longer one is cut into units, preferring paragraph
breaks, then sentence ends and line breaks, and only then token boundaries (a paragraph with no
break at all); units are packed greedily up to ``max_tokens``, and each chunk after the first
starts with about ``overlap_tokens`` of the previous chunk's trailing sentences, so an event told
across a cut is seen whole once. Token counts are always taken on the chunk's own text.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from typing import NamedTuple

from briefer.errors import ConfigError
from briefer.llm.tokens import DEFAULT_ENCODING, count_tokens, encode, token_ends
from briefer.models import Chunk, Document

__all__ = ["MIN_MAX_TOKENS", "chunk_document", "split_chunk"]

MIN_MAX_TOKENS = 50  # below this, a chunk holds too little of an article to extract from

# A blank line, possibly holding spaces or "\r" (CRLF text), and any whitespace after it.
_PARAGRAPH_BREAK = re.compile(r"\n[^\S\n]*\n\s*|\u2029\s*")
# Where one sentence ends and the next starts; the captured group is the gap between them.
_SENTENCE_BREAK = re.compile(
    # (the lookbehinds start a match only at the first mark of a run: "!!!…" stays linear)
    r"(?<![.!?…])[.!?…]+[\"'”’»)\]]*(\s+)"  # a sentence end in spaced scripts, then whitespace
    r"|(?<![。！？])[。！？]+[」』”’）]*(\s*)"  # a CJK sentence end; no space follows it
    r"|([\n\r\u2028\x85]\s*)"  # a line break (paragraph breaks are line breaks too)
)
_WHITESPACE = re.compile(r"\s+")

# Boundary strengths: where a cut reads best.
_TOKEN, _SENTENCE, _PARAGRAPH = 0, 1, 2

_SPLIT_MIN_CHARS = 20


class _Unit(NamedTuple):
    """A piece of text that is never cut inside when packing chunks."""

    start: int
    end: int
    tokens: int  # tokens of text[start:end]
    gap_tokens: int  # tokens of the whitespace between the previous unit and this one
    strength: int  # how good a chunk boundary just before this unit is


def chunk_document(
    doc: Document,
    *,
    max_tokens: int = 2000,
    overlap_tokens: int = 100,
    encoding: str = DEFAULT_ENCODING,
) -> list[Chunk]:
    """Cut ``doc`` into chunks of at most ``max_tokens`` tokens, in order, with exact offsets."""
    _check_sizes(max_tokens, overlap_tokens)
    text = doc.text
    if not text.strip():
        return []
    total = count_tokens(text, encoding)
    if total <= max_tokens:
        return [_make_chunk(doc, 0, 0, len(text), total)]

    units = _units(text, max_tokens, encoding)
    spans = _pack(text, units, max_tokens, overlap_tokens, encoding)
    return [
        _make_chunk(doc, index, start, end, tokens)
        for index, (start, end, tokens) in enumerate(spans)
    ]


def split_chunk(
    doc: Document, chunk: Chunk, *, encoding: str = DEFAULT_ENCODING
) -> tuple[Chunk, Chunk]:
    """Split ``chunk`` in two at the sentence (else whitespace) boundary nearest its middle.

    Used when a model's reply to a chunk was cut off: each half asks for about half the output.
    Both halves keep the chunk's ``index``; their ids are ``f"{chunk.id}a"`` and ``f"{chunk.id}b"``.
    """
    if doc.text[chunk.start : chunk.end] != chunk.text:
        raise ValueError(f"chunk {chunk.id} is not a slice of document {doc.id}")
    text = chunk.text
    cut = _split_point(text)
    if cut is None:
        raise ValueError(
            f"chunk {chunk.id} is too small to split "
            f"({len(text.strip())} characters, a single sentence)"
        )
    gap_start, gap_end = cut
    left_start, left_end = _strip(text, 0, gap_start)
    right_start, right_end = _strip(text, gap_end, len(text))
    halves = []
    for suffix, start, end in (("a", left_start, left_end), ("b", right_start, right_end)):
        piece = text[start:end]
        halves.append(
            Chunk(
                id=f"{chunk.id}{suffix}",
                source_id=chunk.source_id,
                index=chunk.index,
                start=chunk.start + start,
                end=chunk.start + end,
                text=piece,
                tokens=count_tokens(piece, encoding),
            )
        )
    return halves[0], halves[1]


# --- checks and construction -------------------------------------------------------------------


def _check_sizes(max_tokens: int, overlap_tokens: int) -> None:
    if max_tokens < MIN_MAX_TOKENS:
        raise ConfigError(
            f"max_tokens is {max_tokens}: set it to at least {MIN_MAX_TOKENS} (2000 is typical)"
        )
    if not 0 <= overlap_tokens < max_tokens:
        raise ConfigError(
            f"overlap_tokens is {overlap_tokens}: set it between 0 and max_tokens - 1 "
            f"({max_tokens - 1}); about 5% of max_tokens is typical"
        )


def _make_chunk(doc: Document, index: int, start: int, end: int, tokens: int) -> Chunk:
    return Chunk(
        id=f"{doc.id}:{index}",
        source_id=doc.id,
        index=index,
        start=start,
        end=end,
        text=doc.text[start:end],
        tokens=tokens,
    )


def _strip(text: str, start: int, end: int) -> tuple[int, int]:
    """``(start, end)`` moved inward past whitespace; ``start == end`` when nothing is left."""
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def _pieces(
    text: str, start: int, end: int, gaps: Iterator[tuple[int, int]]
) -> Iterator[tuple[int, int]]:
    """The non-blank spans of ``text[start:end]`` between the given gaps, stripped."""
    pos = start
    for gap_start, gap_end in gaps:
        piece = _strip(text, pos, gap_start)
        if piece[0] < piece[1]:
            yield piece
        pos = gap_end
    piece = _strip(text, pos, end)
    if piece[0] < piece[1]:
        yield piece


def _paragraph_gaps(text: str, start: int, end: int) -> Iterator[tuple[int, int]]:
    for match in _PARAGRAPH_BREAK.finditer(text, start, end):
        yield match.span()


def _sentence_gaps(text: str, start: int, end: int) -> Iterator[tuple[int, int]]:
    for match in _SENTENCE_BREAK.finditer(text, start, end):
        group = match.lastindex or 0
        yield match.span(group)


# --- units -------------------------------------------------------------------------------------


def _units(text: str, max_tokens: int, encoding: str) -> list[_Unit]:
    """Paragraphs that fit; else their sentences that fit; else token-bounded pieces."""
    gap_counts: dict[str, int] = {}  # gaps repeat ("\n\n", " "): count each kind once

    def gap_tokens(start: int) -> int:
        previous_end = units[-1].end if units else start
        gap = text[previous_end:start]
        if gap not in gap_counts:
            gap_counts[gap] = count_tokens(gap, encoding)
        return gap_counts[gap]

    units: list[_Unit] = []
    for para_start, para_end in _pieces(text, 0, len(text), _paragraph_gaps(text, 0, len(text))):
        tokens = count_tokens(text[para_start:para_end], encoding)
        if tokens <= max_tokens:
            units.append(_Unit(para_start, para_end, tokens, gap_tokens(para_start), _PARAGRAPH))
            continue
        strength = _PARAGRAPH
        gaps = _sentence_gaps(text, para_start, para_end)
        for sent_start, sent_end in _pieces(text, para_start, para_end, gaps):
            tokens = count_tokens(text[sent_start:sent_end], encoding)
            if tokens <= max_tokens:
                units.append(_Unit(sent_start, sent_end, tokens, gap_tokens(sent_start), strength))
            else:
                for start, end, piece_tokens in _token_pieces(
                    text, sent_start, sent_end, max_tokens, encoding
                ):
                    units.append(_Unit(start, end, piece_tokens, gap_tokens(start), strength))
                    strength = _TOKEN
            strength = _SENTENCE
    return units


def _token_pieces(
    text: str, start: int, end: int, max_tokens: int, encoding: str
) -> Iterator[tuple[int, int, int]]:
    """Cut ``text[start:end]`` (no better break inside) into pieces of at most ``max_tokens``.

    Cuts fall on token boundaries that are also character boundaries, moved back to the last
    whitespace nearby when there is one, so words stay whole where the text allows it.
    """
    pos = start
    while pos < end:
        # Encode a window, not the whole rest: a 50,000-character paragraph is cut many times.
        window_end = min(end, pos + max_tokens * 8)
        ids = encode(text[pos:window_end], encoding)
        while len(ids) <= max_tokens and window_end < end:
            window_end = min(end, pos + (window_end - pos) * 2)
            ids = encode(text[pos:window_end], encoding)
        if len(ids) <= max_tokens:
            yield pos, end, len(ids)
            return
        ends = token_ends(ids, encoding)
        limit = max_tokens
        while True:
            cut = pos + ends[_last_cuttable(ends, limit) - 1]
            cut = _readable_cut(text, pos, cut)
            piece_start, piece_end = _strip(text, pos, cut)
            tokens = count_tokens(text[piece_start:piece_end], encoding)
            if tokens <= max_tokens:
                break
            # Re-encoding the piece alone gave more tokens than its share of the window did.
            limit = max(1, min(limit - 1, limit - (tokens - max_tokens)))
        yield piece_start, piece_end, tokens
        pos, _ = _strip(text, cut, end)


def _last_cuttable(ends: list[int], limit: int) -> int:
    """The largest token count ``k <= limit`` after which the text can be cut (else the least)."""
    for k in range(min(limit, len(ends)), 0, -1):
        if ends[k - 1] != -1:
            return k
    for k in range(limit + 1, len(ends) + 1):
        if ends[k - 1] != -1:
            return k
    return len(ends)


def _joins_previous(char: str) -> bool:
    """Whether ``char`` belongs with the character before it (accents, emoji sequences)."""
    code = ord(char)
    return (
        unicodedata.category(char).startswith("M")
        or char in "\u200d\ufe0e\ufe0f"
        or 0x1F3FB <= code <= 0x1F3FF  # skin-tone modifiers
        or 0xE0020 <= code <= 0xE007F  # tag characters (subdivision flags)
    )


def _readable_cut(text: str, start: int, cut: int) -> int:
    """``cut`` moved back to just after whitespace in the last quarter, or off a combined char."""
    floor = start + (cut - start) * 3 // 4
    for index in range(cut - 1, floor - 1, -1):
        if text[index].isspace() and index > start:
            return index + 1
    moved = cut
    while (
        moved > floor
        and moved < len(text)
        and (_joins_previous(text[moved]) or text[moved - 1] == "\u200d")
    ):
        moved -= 1
    return moved if moved > start else cut


# --- packing -----------------------------------------------------------------------------------


def _pack(
    text: str, units: list[_Unit], max_tokens: int, overlap_tokens: int, encoding: str
) -> list[tuple[int, int, int]]:
    """Greedy packing of ``units`` into ``(start, end, tokens)`` spans, with overlap."""
    spans: list[tuple[int, int, int]] = []
    first = 0  # the first unit not yet in any chunk
    carry: tuple[int, int] | None = None  # (start, tokens) of the overlap taken into this chunk
    while first < len(units):
        if carry is not None and carry[1] + units[first].gap_tokens + units[first].tokens > (
            max_tokens
        ):
            carry = None
        sizes = [carry[1] + units[first].gap_tokens if carry else 0]  # sizes[k]: first..first+k
        last = first
        while last < len(units):
            unit = units[last]
            size = sizes[-1] + unit.tokens + (unit.gap_tokens if last > first else 0)
            if size > max_tokens and last > first:
                break
            sizes.append(size)
            last += 1
        stop = last if last == len(units) else _best_stop(units, first, last, sizes, max_tokens)
        while True:
            start = carry[0] if carry else units[first].start
            end = units[stop - 1].end
            tokens = count_tokens(text[start:end], encoding)
            if tokens <= max_tokens:
                break
            # Counts of the parts undercounted the whole: shed the overlap, then a unit.
            if carry is not None:
                carry = None
            else:
                stop -= 1  # stop == first + 1 always fits: that unit alone was counted
        spans.append((start, end, tokens))
        first = stop
        carry = None
        if first < len(units) and overlap_tokens > 0:
            carry = _overlap(text, start, end, overlap_tokens, encoding)
    return spans


def _best_stop(units: list[_Unit], first: int, last: int, sizes: list[int], max_tokens: int) -> int:
    """Where to end a chunk holding units ``first..last-1``: the strongest boundary that still
    leaves the chunk at least half full, the latest of equals."""
    best = last
    for stop in range(first + 1, last):
        if sizes[stop - first] * 2 < max_tokens:
            continue
        if units[stop].strength > units[best].strength:
            best = stop
        elif units[stop].strength == units[best].strength:
            best = max(best, stop)
    return best


def _overlap(
    text: str, start: int, end: int, overlap_tokens: int, encoding: str
) -> tuple[int, int] | None:
    """The start and size of the longest tail of ``text[start:end]`` within ``overlap_tokens``,
    made of whole sentences if possible, else whole words, else whole tokens."""
    floor = max(start + 1, end - overlap_tokens * 16)
    for gaps in (_sentence_gaps(text, floor, end), _word_gaps(text, floor, end)):
        candidates = [gap_end for _, gap_end in gaps if start < gap_end < end]
        found = _first_fitting(text, candidates, end, overlap_tokens, encoding)
        if found is not None:
            return found
    ids = encode(text[floor:end], encoding)
    ends = token_ends(ids, encoding)
    for index in range(max(0, len(ids) - overlap_tokens), len(ids)):
        if index > 0 and ends[index - 1] != -1:
            tail_start, _ = _strip(text, floor + ends[index - 1], end)
            tokens = count_tokens(text[tail_start:end], encoding)
            if tail_start < end and tokens <= overlap_tokens:
                return tail_start, tokens
    return None


def _word_gaps(text: str, start: int, end: int) -> Iterator[tuple[int, int]]:
    for match in _WHITESPACE.finditer(text, start, end):
        yield match.span()


def _first_fitting(
    text: str, candidates: list[int], end: int, limit: int, encoding: str
) -> tuple[int, int] | None:
    """The earliest candidate start whose tail ``text[c:end]`` has at most ``limit`` tokens."""
    low, high = 0, len(candidates)
    found: tuple[int, int] | None = None
    while low < high:  # tails get shorter as candidates grow: binary search
        middle = (low + high) // 2
        tokens = count_tokens(text[candidates[middle] : end], encoding)
        if tokens <= limit:
            found = (candidates[middle], tokens)
            high = middle
        else:
            low = middle + 1
    return found


# --- splitting a chunk -------------------------------------------------------------------------


def _split_point(text: str) -> tuple[int, int] | None:
    """The gap ``(start, end)`` to split ``text`` at, nearest the middle, or None if too small."""
    body_start, body_end = _strip(text, 0, len(text))
    middle = (body_start + body_end) / 2

    def nearest(gaps: Iterator[tuple[int, int]]) -> tuple[int, int] | None:
        inside = [gap for gap in gaps if body_start < gap[0] and gap[1] < body_end]
        return min(inside, key=lambda gap: abs((gap[0] + gap[1]) / 2 - middle), default=None)

    sentence = nearest(_sentence_gaps(text, body_start, body_end))
    if sentence is not None:
        return sentence
    if body_end - body_start < _SPLIT_MIN_CHARS:
        return None
    word = nearest(_word_gaps(text, body_start, body_end))
    if word is not None:
        return word
    # No break at all (e.g. CJK without punctuation): cut between characters, keeping
    # combining marks and emoji sequences with their base character.
    cut = int(middle)
    while cut > body_start + 1 and (_joins_previous(text[cut]) or text[cut - 1] == "\u200d"):
        cut -= 1
    return cut, cut
