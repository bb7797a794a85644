"""Check an OpenAI-compatible server with one small extraction request, as briefer sends it.

    python scripts/smoke_server.py --base-url http://localhost:8080/v1 --model qwen2.5-7b

The request is briefer's own (the extraction prompt and its strict JSON Schema, for a short
article written for this check), sent through briefer's real client: if the server refuses
``json_schema``, the client steps down to ``json_object`` exactly as a briefing run would. It
prints, in a few lines, which response formats the server refused and which it accepted, how
the reply ended, and whether it validated against the schema. Exit code 0: briefer can use the
server; 1: it cannot as things stand (the lines say why); 2: bad arguments.

The key is read from ``--api-key-env`` (default ``OPENAI_API_KEY``). A local server started
without a key takes any: when the variable is unset and the URL is not OpenAI's, a placeholder
is sent and the output says so.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import hashlib
import json
import os
import sys
import time
from collections.abc import Sequence
from typing import TextIO

from briefer.errors import BrieferError
from briefer.extraction import build_extraction_request
from briefer.ingestion import chunk_document
from briefer.llm.base import LLMResponse, normalize_base_url
from briefer.llm.openai import Endpoint, OpenAIClient
from briefer.llm.structured import validate_reply
from briefer.models import Document, ExtractionReply, Source

# Written for this check: one event with a number, one stance, a relative date.
ARTICLE = (
    "Port authority halts night shipping after collision\n\n"
    "HARBOUR CITY, March 4 — The port authority on Tuesday suspended night-time traffic in "
    "the outer harbour after two cargo vessels collided near the breakwater, injuring three "
    "crew members.\n\n"
    '"Nothing moves after dark until we know what went wrong," harbour master Ana Ruiz said '
    "at a briefing, adding that the suspension would last at least a week.\n\n"
    "The shipping association said it opposed the suspension, calling it a blow to exporters."
)

PLACEHOLDER_KEY = "no-key-needed"


def smoke_document() -> Document:
    digest = hashlib.sha256(ARTICLE.encode("utf-8")).hexdigest()
    source = Source(
        id=f"src-{digest[:12]}",
        title="Port authority halts night shipping after collision",
        url=None,
        path=None,
        outlet="Smoke Test Wire",
        published=dt.date(2025, 3, 4),
        sha256=digest,
        tokens=len(ARTICLE) // 4,
        chars=len(ARTICLE),
    )
    return Document(source=source, text=ARTICLE)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="smoke_server.py",
        description="Send one small briefer extraction request to an OpenAI-compatible server "
        "and say what it accepted and whether the reply validated.",
    )
    parser.add_argument("--base-url", required=True, help="e.g. http://localhost:11434/v1")
    parser.add_argument("--model", required=True, help="the model name the server knows")
    parser.add_argument("--api-key-env", default="OPENAI_API_KEY", help="variable holding the key")
    parser.add_argument("--timeout", type=float, default=180.0, help="seconds for the reply")
    parser.add_argument(
        "--max-tokens", type=int, default=2000, help="reply limit sent (default 2000)"
    )
    strictness = parser.add_mutually_exclusive_group()
    strictness.add_argument(
        "--strict", action="store_true", help="json_schema only, as BRIEFER_STRICT_SCHEMA=1"
    )
    strictness.add_argument(
        "--no-strict", action="store_true", help="start at json_object, as BRIEFER_STRICT_SCHEMA=0"
    )
    return parser


def _validation(response: LLMResponse, schema: dict[str, object]) -> tuple[bool, str]:
    if response.refusal:
        return False, f"the model refused: {response.refusal}"
    if response.finish_reason == "length":
        return False, "the reply was cut off at the token limit (raise --max-tokens)"
    try:
        reply = validate_reply(response.content, dict(schema), ExtractionReply)
    except ValueError as exc:
        first = str(exc).splitlines()[0] if str(exc) else "invalid"
        return False, f"does not validate: {first}"
    return True, f"valid ({len(reply.events)} events, {len(reply.stances)} stances)"


async def _smoke(args: argparse.Namespace, out: TextIO) -> int:
    strict = True if args.strict else False if args.no_strict else None
    endpoint = Endpoint(
        base_url=args.base_url,
        api_key_env=args.api_key_env,
        timeout=args.timeout,
        strict_schema=strict,
    )
    key_note = f"key from {args.api_key_env}"
    if not os.environ.get(args.api_key_env, "").strip():
        if normalize_base_url(args.base_url) is None:
            print(f"error: {args.api_key_env} is not set; OpenAI's API needs a key", file=out)
            return 1
        os.environ[args.api_key_env] = PLACEHOLDER_KEY
        key_note = f"{args.api_key_env} unset: sent a placeholder key"
    doc = smoke_document()
    [chunk] = chunk_document(doc)
    request = build_extraction_request(doc, chunk, model=args.model, max_tokens=args.max_tokens)
    client = OpenAIClient(endpoint=endpoint, max_retries=1, backoff_base=0.5)
    print(f"server: {endpoint.name} ({key_note})", file=out)
    started = time.monotonic()
    try:
        async with client:
            response = await client.complete(request)
    except BrieferError as exc:
        for refusal in client.format_rejections:
            print(f"response_format refused: {refusal}", file=out)
        print(f"call failed: {exc}", file=out)
        return 1
    seconds = time.monotonic() - started
    for refusal in client.format_rejections:
        print(f"response_format refused: {refusal}", file=out)
    print(f"response_format accepted: {client.json_mode}", file=out)
    named = f", the server named it {json.dumps(response.model)}" if response.model else ""
    print(
        f"reply: {args.model}{named}; finish_reason {response.finish_reason}, "
        f"{response.usage.prompt_tokens} prompt + {response.usage.completion_tokens} completion "
        f"tokens, {seconds:.1f} s",
        file=out,
    )
    ok, said = _validation(response, request.response_schema)
    print(f"validation: {said}", file=out)
    if ok and client.json_mode != "json_schema":
        print(
            "note: briefer steps down to this format by itself; BRIEFER_STRICT_SCHEMA=0 "
            "starts there and saves the refused call",
            file=out,
        )
    return 0 if ok else 1


def main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    args = _parser().parse_args(argv)
    return asyncio.run(_smoke(args, out or sys.stdout))


if __name__ == "__main__":
    sys.exit(main())
