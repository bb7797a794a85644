"""Checks a composed item against the records it cites: citations exist, numbers are supported.

A briefing sentence may only state numbers its cited records give. Numbers are read from text
as digits (``1,000``, ``3.5``, ``12%``, ``5 million``, ``12th``) and as words (``one`` to
``nineteen``, the tens, ``hundred``/``thousand``/``million``/``billion``, ``dozen``, compounds
such as ``twenty-five`` or ``two hundred``, ordinals from ``third`` on). "first" and "second"
are left out: they are as often adverbs or units as counts. Digits glued to letters (``G7``,
``F-35`` keeps 35) are names, not counts.

A number is supported when it appears, as digits or words, in a cited record's evidence quotes,
quantities (value or text), date (day, month number, year), conflicts, or the names it carries
(actors, location, the outlets of its sources).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence

from briefer.models import ComposeItem, MergedEvent, MergedStance, Source

__all__ = [
    "check_item",
    "format_number",
    "numbers_in",
    "source_label",
    "supported_numbers",
    "unsupported_numbers",
]

MergedRecord = MergedEvent | MergedStance

_UNITS = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13,
    "fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18,
    "nineteen": 19,
}  # fmt: skip
_TENS = {
    "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70,
    "eighty": 80, "ninety": 90,
}  # fmt: skip
_ORDINALS = {
    "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7, "eighth": 8, "ninth": 9,
    "tenth": 10, "eleventh": 11, "twelfth": 12, "thirteenth": 13, "fourteenth": 14,
    "fifteenth": 15, "sixteenth": 16, "seventeenth": 17, "eighteenth": 18, "nineteenth": 19,
    "twentieth": 20, "thirtieth": 30, "hundredth": 100,
}  # fmt: skip
_SCALES = {"hundred": 100, "thousand": 1_000, "million": 1_000_000, "billion": 1_000_000_000}
_SCALE_ABBREVIATIONS = {"m": 1_000_000, "mn": 1_000_000, "bn": 1_000_000_000, "k": 1_000}

_TOKEN = re.compile(
    r"(?P<num>(?<![\w.])\d{1,3}(?:,\d{3})+(?:\.\d+)?"  # 1,000 / 12,500.5
    r"|(?<![\w.])\d+(?:\.\d+)?)"  # 12 / 3.5
    r"(?P<suffix>st|nd|rd|th|%|m|mn|bn|k)?(?![\w])"
    r"|(?P<word>[A-Za-z]+)"
)


def _key(value: float) -> float:
    return round(value, 6)


def numbers_in(text: str) -> list[tuple[str, float]]:
    """Every number stated in ``text``, as (the words or digits as written, its value)."""
    found: list[tuple[str, float]] = []
    tokens = list(_TOKEN.finditer(text))
    i = 0
    while i < len(tokens):
        match = tokens[i]
        if match.group("num"):
            value = float(match.group("num").replace(",", ""))
            written = match.group(0)
            suffix = match.group("suffix")
            if suffix in _SCALE_ABBREVIATIONS:
                value *= _SCALE_ABBREVIATIONS[suffix]
            elif suffix is None and i + 1 < len(tokens):
                following = (tokens[i + 1].group("word") or "").lower()
                if following in _SCALES or following == "dozen":
                    value *= _SCALES.get(following, 12)
                    written = f"{written} {tokens[i + 1].group(0)}"
                    i += 1
            found.append((written, value))
            i += 1
            continue
        word = match.group("word").lower()
        if word in _ORDINALS:
            found.append((match.group(0), float(_ORDINALS[word])))
            i += 1
            continue
        # A run of number words: "twenty five", "two hundred and five", "a dozen", "three million".
        total, current, start, used = 0, 0, i, False
        while i < len(tokens) and tokens[i].group("word"):
            gap = text[tokens[i - 1].end() : tokens[i].start()] if i > start else ""
            if gap.strip(" -\u00a0"):
                break  # a comma or other punctuation ends the number: "one, three"
            w = tokens[i].group("word").lower()
            if w in _UNITS:
                current += _UNITS[w]
            elif w in _TENS:
                current += _TENS[w]
            elif w == "hundred":
                current = max(current, 1) * 100
            elif w in _SCALES:
                total += max(current, 1) * _SCALES[w]
                current = 0
            elif w == "dozen":
                current = max(current, 1) * 12
            elif w == "and" and used and i + 1 < len(tokens):
                nxt = (tokens[i + 1].group("word") or "").lower()
                if nxt not in _UNITS and nxt not in _TENS:
                    break
            else:
                break
            used = True
            i += 1
        if used:
            written = text[tokens[start].start() : tokens[i - 1].end()]
            found.append((written, float(total + current)))
        else:
            i += 1
    return found


def format_number(value: float) -> str:
    """A value as a briefing writes it: ``5``, ``3.5``, ``1,500,000``."""
    if value == int(value):
        return f"{int(value):,}"
    return f"{value:,.6f}".rstrip("0").rstrip(".")


def source_label(source: Source) -> str:
    """How a briefing names a source: its outlet, else its title, else its id."""
    return source.outlet or source.title or source.id


def _support_texts(record: MergedRecord, sources: Mapping[str, Source]) -> Iterable[str]:
    yield from (e.quote for e in record.evidence)
    for sid in record.source_ids:
        if sid in sources:
            yield source_label(sources[sid])
    if isinstance(record, MergedEvent):
        for q in record.quantities:
            yield q.text
        for actor in (*record.actors, *record.targets):
            yield actor.name
            yield actor.canonical
        if record.location:
            yield record.location
        for q in record.quantities:
            yield q.kind
        for conflict in record.conflicts:
            yield conflict.field
            for cv in conflict.values:
                if isinstance(cv.value, str):
                    yield cv.value.replace("-", " ")  # ISO dates give day, month and year
    else:
        yield record.holder.name
        yield record.holder.canonical


def supported_numbers(
    records: Iterable[MergedRecord], sources: Mapping[str, Source] | None = None
) -> set[float]:
    """Every value the records state, and (for "5 million") the value before its scale."""
    values: set[float] = set()
    for record in records:
        for text in _support_texts(record, sources or {}):
            for written, value in numbers_in(text):
                values.add(_key(value))
                first = numbers_in(written.split()[0]) if " " in written else []
                values.update(_key(v) for _, v in first)
        if isinstance(record, MergedEvent):
            values.update(_key(q.value) for q in record.quantities)
            for conflict in record.conflicts:
                values.update(_key(v.value) for v in conflict.values if isinstance(v.value, float))
        if record.date is not None:
            values.update({record.date.day, record.date.month, record.date.year})
    return values


def unsupported_numbers(text: str, supported: set[float]) -> list[str]:
    """The numbers written in ``text`` that are not in ``supported``, as written."""
    return [written for written, value in numbers_in(text) if _key(value) not in supported]


def check_item(
    item: ComposeItem,
    records: Mapping[str, MergedRecord],
    *,
    sources: Sequence[Source] = (),
) -> list[str]:
    """What is wrong with ``item``: uncited sentences, unknown ids, unsupported numbers."""
    by_id = {s.id: s for s in sources}
    failures: list[str] = []
    if not item.sentences:
        failures.append("the item has no sentences")
    cited_anywhere: list[MergedRecord] = []
    for n, sentence in enumerate(item.sentences, start=1):
        known = []
        for rid in sentence.citations:
            if rid in records:
                known.append(records[rid])
            else:
                failures.append(f"sentence {n} cites unknown id {rid}")
        if not sentence.text.strip():
            failures.append(f"sentence {n} is empty")
        if not sentence.citations:
            failures.append(f"sentence {n} cites no record")
        cited_anywhere.extend(known)
        supported = supported_numbers(known, by_id)
        for written in unsupported_numbers(sentence.text, supported):
            failures.append(
                f"number {written} in sentence {n} is not in the cited records' "
                "evidence or quantities"
            )
    supported = supported_numbers(cited_anywhere, by_id)
    for written in unsupported_numbers(item.headline, supported):
        failures.append(
            f"number {written} in the headline is not in the cited records' evidence or quantities"
        )
    return failures
