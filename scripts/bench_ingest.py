"""Measure the ingest stage: generate a corpus of articles, load it, print the throughput.

    .venv/bin/python scripts/bench_ingest.py [--articles 1000] [--words 800] [--html-share 0.5]

Half the articles (by default) are HTML pages with navigation, related links and a footer around
the article; the rest are plain text in the header convention. Prints MB/s of input, documents/s
and the peak resident memory of the process.
"""

from __future__ import annotations

import argparse
import random
import resource
import sys
import tempfile
import time
from pathlib import Path

from briefer.ingestion import load_sources

__all__ = ["main", "write_corpus"]

_SUBJECTS = [
    "The finance ministry", "Opposition lawmakers", "The port authority", "A regional court",
    "Union leaders", "The central bank", "Health officials", "The foreign minister",
    "Local farmers", "The electoral commission", "Coast guard crews", "City council members",
]  # fmt: skip
_VERBS = [
    "announced", "rejected", "criticised", "approved", "delayed", "proposed", "defended",
    "questioned", "welcomed", "suspended", "extended", "reviewed",
]  # fmt: skip
_OBJECTS = [
    "a plan to widen the northern channel", "new limits on grain exports",
    "the budget for the coming year", "a treaty on shared river water",
    "talks with neighbouring governments", "an inquiry into the bridge collapse",
    "emergency funds for flooded districts", "a ban on night-time fishing",
    "changes to the pension system", "the sale of two state-owned ferries",
]  # fmt: skip
_TAILS = [
    "officials said on Tuesday", "according to a statement released late on Monday",
    "after weeks of negotiation", "despite protests outside parliament",
    "in a vote of 51 to 44", "citing costs of about 3.2 million dollars",
    "a spokesperson told reporters", "in a move analysts called overdue",
]  # fmt: skip
_OUTLETS = ["Harbour Gazette", "Valley Courier", "Northern Ledger", "Coastal Times"]


def _sentence(rng: random.Random) -> str:
    return (
        f"{rng.choice(_SUBJECTS)} {rng.choice(_VERBS)} {rng.choice(_OBJECTS)}, "
        f"{rng.choice(_TAILS)}."
    )


def _paragraphs(rng: random.Random, words: int) -> list[str]:
    paragraphs: list[str] = []
    count = 0
    while count < words:
        paragraph = " ".join(_sentence(rng) for _ in range(rng.randint(2, 5)))
        paragraphs.append(paragraph)
        count += len(paragraph.split())
    return paragraphs


def _html_page(title: str, outlet: str, date: str, paragraphs: list[str]) -> str:
    body = "\n".join(f"<p>{paragraph}</p>" for paragraph in paragraphs)
    related = "".join(f'<li><a href="/r{i}">Related story {i}</a></li>' for i in range(6))
    return f"""<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">
<title>{title} | {outlet}</title>
<meta property="og:site_name" content="{outlet}">
<meta property="article:published_time" content="{date}T08:00:00Z">
</head><body>
<nav><ul><li><a href="/">Home</a></li><li><a href="/world">World</a></li></ul></nav>
<article><h1>{title}</h1>
{body}
</article>
<aside><h3>Related</h3><ul>{related}</ul></aside>
<footer><p>Copyright {outlet}. All rights reserved.</p></footer>
</body></html>
"""


def write_corpus(folder: Path, *, articles: int, words: int, html_share: float) -> int:
    """Write ``articles`` files under ``folder``; returns the total bytes written."""
    rng = random.Random(20240305)
    total = 0
    for index in range(articles):
        paragraphs = _paragraphs(rng, rng.randint(words * 3 // 4, words * 5 // 4))
        title = f"Story {index}: {rng.choice(_SUBJECTS)} {rng.choice(_VERBS)} a plan"
        outlet = rng.choice(_OUTLETS)
        date = f"2024-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
        subfolder = folder / f"day-{index % 10:02d}"
        subfolder.mkdir(parents=True, exist_ok=True)
        if rng.random() < html_share:
            path = subfolder / f"article-{index:04d}.html"
            content = _html_page(title, outlet, date, paragraphs)
        else:
            path = subfolder / f"article-{index:04d}.txt"
            header = f"Title: {title}\nOutlet: {outlet}\nPublished: {date}\n\n"
            content = header + "\n\n".join(paragraphs) + "\n"
        data = content.encode("utf-8")
        path.write_bytes(data)
        total += len(data)
    return total


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=1000)
    parser.add_argument("--words", type=int, default=800)
    parser.add_argument("--html-share", type=float, default=0.5)
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="briefer-bench-") as tmp:
        folder = Path(tmp)
        total_bytes = write_corpus(
            folder, articles=args.articles, words=args.words, html_share=args.html_share
        )
        # Warm the tokenizer and trafilatura once, so the figure is the steady state.
        load_sources([next(folder.rglob("*.html")), next(folder.rglob("*.txt"))])
        started = time.perf_counter()
        result = load_sources([folder])
        elapsed = time.perf_counter() - started

    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    documents = len(result.documents)
    print(f"articles: {args.articles} ({total_bytes / 1e6:.1f} MB on disk)")
    print(f"documents: {documents}, excluded: {len(result.excluded)}")
    print(f"time: {elapsed:.2f} s")
    print(
        f"throughput: {total_bytes / 1e6 / elapsed:.2f} MB/s, {documents / elapsed:.0f} documents/s"
    )
    print(f"peak RSS: {peak_kib / 1024:.0f} MB")
    return 0 if documents == args.articles and not result.excluded else 1


if __name__ == "__main__":
    sys.exit(main())
