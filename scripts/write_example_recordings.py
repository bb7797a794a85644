"""Rebuild ``examples/recordings/`` from the hand-written replies in ``examples/replies/``.

The replies are fixtures written by hand, not a model's output. This script runs the example
briefing with a client that answers each request from those files, wrapped in the recording
client, so every recording holds the exact request briefer sends (its key included) and a reply
in the shape the API returns. Run it after changing a prompt: the prompt version is part of the
request key. With no ``compose.json`` yet, it prints the merged record ids to write one against.

    python scripts/write_example_recordings.py
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import briefer
from briefer.llm import FunctionClient, LLMRequest, LLMResponse, RecordingClient, TokenUsage
from briefer.llm.base import canonical_json
from briefer.llm.tokens import count_tokens

ROOT = Path(__file__).resolve().parents[1]
ARTICLES = ROOT / "examples" / "articles"
REPLIES = ROOT / "examples" / "replies"
RECORDINGS = ROOT / "examples" / "recordings"
# The model the replies pretend to come from, as a server names it in its reply.
SERVED_MODEL = "gpt-4.1-mini-2025-04-14"


def _reply_file(request: LLMRequest, stems: dict[str, str]) -> Path:
    context = request.context
    if context.stage == "extract" and context.source_id in stems:
        return REPLIES / "extract" / f"{stems[context.source_id]}.json"
    if context.stage == "compose":
        return REPLIES / "compose.json"
    raise SystemExit(f"no hand-written reply for a {context.stage} request ({context.chunk_id})")


def _content(path: Path) -> dict[str, object]:
    data: dict[str, object] = json.loads(path.read_text(encoding="utf-8"))
    data.pop("recorded_at", None)
    return data


def main() -> int:
    loaded = briefer.load_sources([ARTICLES])
    stems = {d.id: Path(d.source.path or "").stem for d in loaded.documents}

    def answer(request: LLMRequest) -> LLMResponse:
        path = _reply_file(request, stems)
        if not path.exists():
            # Without a compose reply the briefing falls back to the deterministic composer.
            return LLMResponse(
                content=None, refusal="no hand-written reply yet", model=SERVED_MODEL
            )
        # Compact, as the API sends it.
        content = json.dumps(json.loads(path.read_text(encoding="utf-8")), ensure_ascii=False)
        prompt = sum(count_tokens(m.content) + 4 for m in request.messages)
        prompt += count_tokens(canonical_json(request.response_schema))
        return LLMResponse(
            content=content,
            finish_reason="stop",
            usage=TokenUsage(prompt_tokens=prompt, completion_tokens=count_tokens(content)),
            model=SERVED_MODEL,
        )

    staging = RECORDINGS.with_name(".recordings.new")
    shutil.rmtree(staging, ignore_errors=True)
    result = briefer.brief([ARTICLES], client=RecordingClient(FunctionClient(answer), staging))
    # A recording whose request and reply are unchanged keeps its file (and its time).
    for path in staging.glob("*.json"):
        old = RECORDINGS / path.name
        if old.exists() and _content(old) == _content(path):
            shutil.copyfile(old, path)
    shutil.rmtree(RECORDINGS, ignore_errors=True)
    staging.rename(RECORDINGS)

    print(f"{len(list(RECORDINGS.glob('*.json')))} recordings in {RECORDINGS}")
    print(f"composed by: {result.composer}; notes: {result.notes}")
    if not (REPLIES / "compose.json").exists():
        for event in result.events:
            print(event.id, event.type, event.date, event.summary)
        for stance in result.stances:
            print(stance.id, stance.holder.canonical, stance.polarity, stance.claim)
    return 0


if __name__ == "__main__":
    sys.exit(main())
