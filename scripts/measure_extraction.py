"""Measure what extraction prompts cost in tokens, per article, without calling a model.

    .venv/bin/python scripts/measure_extraction.py [PATH ...] [--chunk-tokens N]

Reads ``examples/articles`` (when it exists) and every path given, chunks each document as a run
would, builds the extraction requests and prints, per article: the article's tokens, the chunks,
the prompt tokens of all its requests (every message's content plus ~4 tokens of overhead per
message), the static prefix (the system message, shared by every call and cacheable) against the
per-article part, and prompt tokens per article token.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from briefer.extraction import build_extraction_request
from briefer.ingestion import chunk_document, load_sources
from briefer.llm.base import LLMRequest
from briefer.llm.tokens import count_tokens

MESSAGE_OVERHEAD_TOKENS = 4  # role and separators per chat message, as chat formats count them
MODEL = "gpt-4o-mini"


def request_tokens(request: LLMRequest) -> tuple[int, int]:
    """(all prompt tokens, static-prefix tokens) of one request."""
    total = sum(count_tokens(m.content) + MESSAGE_OVERHEAD_TOKENS for m in request.messages)
    system = request.messages[0]
    return total, count_tokens(system.content) + MESSAGE_OVERHEAD_TOKENS


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="*", type=Path)
    parser.add_argument("--chunk-tokens", type=int, default=2000)
    parser.add_argument("--overlap-tokens", type=int, default=100)
    args = parser.parse_args(argv)

    inputs: list[Path] = []
    default = Path(__file__).resolve().parents[1] / "examples" / "articles"
    if default.is_dir():
        inputs.append(default)
    inputs.extend(args.paths)
    loaded = load_sources(inputs)
    for excluded in loaded.excluded:
        print(f"skipped {excluded.input}: {excluded.reason}", file=sys.stderr)

    header = (
        f"{'article':<48} {'art.tok':>7} {'chunks':>6} {'prompt':>7} "
        f"{'static':>7} {'per-art':>7} {'ratio':>6}"
    )
    print(header)
    print("-" * len(header))
    totals = [0, 0, 0, 0, 0]
    for doc in loaded.documents:
        chunks = chunk_document(
            doc, max_tokens=args.chunk_tokens, overlap_tokens=args.overlap_tokens
        )
        article_tokens = count_tokens(doc.text)
        prompt = static = 0
        for chunk in chunks:
            total, prefix = request_tokens(build_extraction_request(doc, chunk, model=MODEL))
            prompt += total
            static += prefix
        name = Path(doc.source.path or doc.source.url or doc.id).name[:48]
        ratio = prompt / article_tokens if article_tokens else float("nan")
        print(
            f"{name:<48} {article_tokens:>7} {len(chunks):>6} {prompt:>7} "
            f"{static:>7} {prompt - static:>7} {ratio:>6.2f}"
        )
        for i, value in enumerate((article_tokens, len(chunks), prompt, static, prompt - static)):
            totals[i] += value
    if loaded.documents:
        ratio = totals[2] / totals[0] if totals[0] else float("nan")
        print("-" * len(header))
        print(
            f"{'total':<48} {totals[0]:>7} {totals[1]:>6} {totals[2]:>7} "
            f"{totals[3]:>7} {totals[4]:>7} {ratio:>6.2f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
