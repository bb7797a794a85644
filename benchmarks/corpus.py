"""A corpus of N news articles made from ``examples/articles``, written to a folder as files.

Each article starts from one example (its paragraphs, title and date), takes paragraphs from
the other examples, and is padded with newswire-like filler from ``scripts/bench_ingest.py``
until it is about ``tokens`` long. Then it is varied: people's names swapped, counts changed,
the publication date moved by up to three days, the outlet drawn from 120, paragraphs
shuffled. A quarter of the articles are HTML pages (``scripts/bench_ingest.py``'s page), the
rest plain text with the header lines. The same event told in other words by other outlets is
what merging is for, and here it happens as in a real news day.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import random
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import cast

from briefer.ingestion import load_sources
from briefer.llm.tokens import count_tokens

__all__ = ["ROOT", "Base", "load_script", "write_corpus"]

ROOT = Path(__file__).resolve().parents[1]

# People named in the examples, and the names an article may use instead.
_PEOPLE = {
    "Linda Thomas-Greenfield": ["Maria Okafor", "Helen Marsh", "Joan Whitcombe"],
    "Zhao Lijian": ["Wang Wenbin", "Hua Chunying", "Mao Ning"],
    "Dmitry Polyanskiy": ["Vasily Nebenzya", "Anna Evstigneeva", "Gennady Kuzmin"],
    "Antony Blinken": ["Wendy Sherman", "Victoria Nuland"],
    "Brian Nelson": ["Elizabeth Rosenberg", "Andrea Gacki"],
    "Ned Price": ["Jalina Porter", "Vedant Patel"],
    "Park Won-gon": ["Kim Dong-yup", "Yang Moo-jin", "Lee Sung-yoon"],
    "Dana Whitfield": ["Tom Arkwright", "Priya Raman"],
}
_COUNTS = {
    "two": "three",
    "three": "four",
    "four": "five",
    "five": "six",
    "six": "seven",
    "seven": "eight",
}
_OUTLET_WORDS = (
    ["Harbor", "Meridian", "Continental", "Peninsula", "Northern", "Coastal", "Capital", "Valley"],
    ["Post", "Wire", "Ledger", "Review", "Times", "Courier", "Herald", "Gazette", "Observer",
     "Tribune", "Dispatch", "Monitor", "Chronicle", "Express", "Standard"],
)  # fmt: skip
_SECTIONS = ["world", "asia", "politics", "security", "diplomacy"]


@cache
def load_script(name: str) -> ModuleType:
    """A module of ``scripts/`` (not a package), loaded by path, so its generators are reused."""
    path = ROOT / "scripts" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"_bench_scripts_{name}", path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@dataclass(frozen=True)
class Base:
    """One example article, as briefer reads it."""

    title: str
    outlet: str
    published: dt.date
    paragraphs: list[str]


def _bases() -> list[Base]:
    loaded = load_sources([ROOT / "examples" / "articles"])
    bases = []
    for doc in loaded.documents:
        source = doc.source
        paragraphs = [p.strip() for p in doc.text.split("\n\n") if p.strip()]
        title = source.title or paragraphs[0]
        if paragraphs and paragraphs[0] == title:
            paragraphs = paragraphs[1:]
        bases.append(
            Base(
                title=title,
                outlet=source.outlet or "Unknown",
                published=source.published or dt.date(2022, 1, 15),
                paragraphs=paragraphs,
            )
        )
    return sorted(bases, key=lambda b: b.published)


def _vary(text: str, rng: random.Random) -> str:
    for name, others in _PEOPLE.items():
        if name in text and rng.random() < 0.6:
            text = text.replace(name, rng.choice(others))
    if rng.random() < 0.3:
        # One outlet counts differently: merging must keep both counts as a conflict.
        pattern = re.compile(r"\b(" + "|".join(_COUNTS) + r")\b(?= North Korean)")
        text = pattern.sub(lambda m: _COUNTS[m.group(1)], text)
    return text


def _article(
    index: int, bases: list[Base], tokens: int, filler: Callable[[random.Random, int], list[str]]
) -> tuple[Base, str, list[str]]:
    rng = random.Random(index)
    base = bases[index % len(bases)]
    others = [b for b in bases if b is not base]
    paragraphs = list(base.paragraphs)
    lead, rest = paragraphs[:1], paragraphs[1:]
    for other in rng.sample(others, len(others)):
        rest += rng.sample(other.paragraphs, min(2, len(other.paragraphs)))
    rng.shuffle(rest)
    paragraphs = [_vary(p, rng) for p in lead + rest]
    used = count_tokens("\n\n".join(paragraphs))
    while used < tokens * 0.95:
        extra = filler(rng, 60)
        paragraphs.insert(rng.randrange(1, len(paragraphs) + 1), extra[0])
        used += count_tokens(extra[0])
    words = rng.choice(_OUTLET_WORDS[0]), rng.choice(_OUTLET_WORDS[1])
    outlet = f"The {words[0]} {words[1]}" if index % 3 == 0 else f"{words[0]} {words[1]}"
    title = _vary(base.title, rng)
    return base, outlet, [title, *paragraphs]


def write_corpus(folder: Path, count: int, *, tokens: int = 800) -> Path:
    """Write ``count`` articles of about ``tokens`` tokens under ``folder``; returns it."""
    bench_ingest = load_script("bench_ingest")
    filler = cast(Callable[[random.Random, int], list[str]], bench_ingest._paragraphs)
    html_page = cast(Callable[[str, str, str, list[str]], str], bench_ingest._html_page)
    bases = _bases()
    folder.mkdir(parents=True, exist_ok=True)
    for index in range(count):
        base, outlet, (title, *paragraphs) = _article(index, bases, tokens, filler)
        published = base.published + dt.timedelta(days=index % 4)
        slug = re.sub(r"[^a-z0-9]+", "-", outlet.lower()).strip("-")
        name = f"{index:05d}-{slug}-{published.isoformat()}"
        if index % 4 == 3:
            page = html_page(title, outlet, published.isoformat(), paragraphs)
            (folder / f"{name}.html").write_text(page, encoding="utf-8")
            continue
        url = f"https://{slug}.example/{random.Random(index).choice(_SECTIONS)}/{index}"
        header = f"Title: {title}\nOutlet: {outlet}\nPublished: {published}\nURL: {url}\n\n"
        body = "\n\n".join([title, *paragraphs])
        (folder / f"{name}.txt").write_text(header + body + "\n", encoding="utf-8")
    return folder
