"""Measure chunking throughput on generated articles.

    .venv/bin/python scripts/bench_chunk.py [--articles 1000] [--long 10] [--seed 0]

Prints the cold start of the token encoding, then MB/s, documents/s, tokens/s, the number of
chunks and the peak resident memory of chunking every article in memory.
"""

from __future__ import annotations

import argparse
import hashlib
import random
import resource
import sys
import time

from briefer.ingestion import chunk_document
from briefer.llm.tokens import count_tokens, get_encoding
from briefer.models import Document, Source

__all__ = ["main", "make_article"]

_WORDS = (
    "the a of to in and said on for that with was by officials government Pyongyang Seoul "
    "Washington Tokyo Beijing sanctions missile missiles launch launched ballistic Treasury "
    "department five North Korean Korea South United States Nations Security Council "
    "Wednesday Thursday statement minister foreign spokesperson talks nuclear program "
    "weapons test tests sea east coast military forces exercise agreement week month "
    "year new against after before while would could not have has been 2022 January "
    "according analysts experts told reporters briefing"
)
_VOCABULARY = _WORDS.split()


def make_article(rng: random.Random, words: int) -> str:
    """Newswire-like text: sentences of 8-30 words, paragraphs of 1-5 sentences."""
    paragraphs: list[str] = []
    written = 0
    while written < words:
        sentences = []
        for _ in range(rng.randint(1, 5)):
            length = rng.randint(8, 30)
            body = " ".join(rng.choice(_VOCABULARY) for _ in range(length))
            sentences.append(body[0].upper() + body[1:] + rng.choice(".....?!"))
            written += length
        paragraphs.append(" ".join(sentences))
    return "\n\n".join(paragraphs) + "\n"


def make_document(text: str) -> Document:
    digest = hashlib.sha256(text.encode()).hexdigest()
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


def _peak_rss_mb() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # Linux reports kibibytes, macOS bytes.
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--articles", type=int, default=1000, help="articles of ~800 words")
    parser.add_argument("--long", type=int, default=10, help="long articles of ~20,000 words")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--max-tokens", type=int, default=2000)
    parser.add_argument("--overlap-tokens", type=int, default=100)
    args = parser.parse_args(argv)

    started = time.perf_counter()
    get_encoding("o200k_base")
    cold_ms = (time.perf_counter() - started) * 1000

    rng = random.Random(args.seed)
    texts = [make_article(rng, 800) for _ in range(args.articles)]
    texts += [make_article(rng, 20_000) for _ in range(args.long)]
    documents = [make_document(text) for text in texts]
    megabytes = sum(len(text.encode()) for text in texts) / 1e6

    started = time.perf_counter()
    chunk_count = 0
    multi_chunk_documents = 0
    for document in documents:
        chunks = chunk_document(
            document, max_tokens=args.max_tokens, overlap_tokens=args.overlap_tokens
        )
        chunk_count += len(chunks)
        multi_chunk_documents += len(chunks) > 1
    elapsed = time.perf_counter() - started

    tokens = sum(count_tokens(text) for text in texts)  # outside the timing
    print(f"encoding cold start   {cold_ms:8.0f} ms  (o200k_base, from the bundled vocabulary)")
    print(f"documents             {len(documents):8d}  ({args.articles} x ~800 words, ", end="")
    print(f"{args.long} x ~20,000 words; {megabytes:.1f} MB, {tokens:,} tokens)")
    print(f"chunks                {chunk_count:8d}  ({multi_chunk_documents} documents split)")
    print(f"time                  {elapsed:8.2f} s")
    print(f"throughput            {megabytes / elapsed:8.2f} MB/s")
    print(f"                      {len(documents) / elapsed:8.0f} documents/s")
    print(f"                      {tokens / elapsed:8.0f} tokens/s")
    print(f"peak RSS              {_peak_rss_mb():8.0f} MB")


if __name__ == "__main__":
    main()
