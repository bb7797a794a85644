"""Rebuild ``examples/days/recordings/`` from the replies in ``examples/days/replies/``.

The replies are fixtures written by hand, not a model's output: what a careful model returns
for each article of the three days of ``examples/days/``. This script runs each day's briefing
(extraction only, ``compose=False``) with a client that answers each request from those files,
wrapped in the recording client, so every recording holds the exact request briefer sends (its
key included) and a reply in the shape the API returns. The three days share one folder of
recordings. Run it after changing an article, a reply or the extraction prompt: the prompt
version is part of the request key.

It fails when a reply has no article, an article has no reply, or a record is not grounded.

    python scripts/write_day_recordings.py
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import sys
from pathlib import Path

import briefer
from briefer import BriefOptions
from briefer.llm import FunctionClient, LLMRequest, LLMResponse, RecordingClient, TokenUsage
from briefer.llm.base import canonical_json
from briefer.llm.tokens import count_tokens

ROOT = Path(__file__).resolve().parents[1]
DAYS_DIR = ROOT / "examples" / "days"
REPLIES = DAYS_DIR / "replies"
RECORDINGS = DAYS_DIR / "recordings"
# Each day's folder and the date its briefing is for (the newest article's date).
DAYS = {
    "day1": dt.date(2026, 11, 16),
    "day2": dt.date(2026, 11, 17),
    "day3": dt.date(2026, 11, 18),
}
# The model the replies pretend to come from, as a server names it in its reply.
SERVED_MODEL = "gpt-4.1-mini-2025-04-14"


def _content(path: Path) -> dict[str, object]:
    data: dict[str, object] = json.loads(path.read_text(encoding="utf-8"))
    data.pop("recorded_at", None)
    return data


def _answerer(stems: dict[str, str]) -> FunctionClient:
    """A client answering each extraction request with the reply written for its article."""

    def answer(request: LLMRequest) -> LLMResponse:
        context = request.context
        if context.stage != "extract" or context.source_id not in stems:
            raise SystemExit(f"no hand-written reply for a {context.stage} request")
        path = REPLIES / f"{stems[context.source_id]}.json"
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

    return FunctionClient(answer)


def main() -> int:
    staging = RECORDINGS.with_name(".recordings.new")
    shutil.rmtree(staging, ignore_errors=True)
    answered: set[str] = set()
    for folder, day in DAYS.items():
        loaded = briefer.load_sources([DAYS_DIR / folder])
        stems = {d.id: Path(d.source.path or "").stem for d in loaded.documents}
        missing = [s for s in stems.values() if not (REPLIES / f"{s}.json").exists()]
        if missing or loaded.excluded:
            raise SystemExit(f"{folder}: no reply for {missing}; excluded: {loaded.excluded}")
        answered.update(stems.values())
        client = RecordingClient(_answerer(stems), staging)
        result = briefer.brief(
            [DAYS_DIR / folder], client=client, options=BriefOptions(compose=False, date=day)
        )
        stats = result.stats
        print(
            f"{folder} ({day}): {stats.documents} documents, {stats.records} records, "
            f"{stats.records_grounded} grounded, {stats.quotes_grounded} of {stats.quotes} "
            f"quotes found; {len(result.events)} events, {len(result.stances)} stances"
        )
        if stats.records_grounded != stats.records or stats.quotes_grounded != stats.quotes:
            raise SystemExit(f"{folder}: every record and quote must be grounded")
    unused = sorted({p.stem for p in REPLIES.glob("*.json")} - answered)
    if unused:
        raise SystemExit(f"replies with no article: {unused}")
    # A recording whose request and reply are unchanged keeps its file (and its time).
    for path in staging.glob("*.json"):
        old = RECORDINGS / path.name
        if old.exists() and _content(old) == _content(path):
            shutil.copyfile(old, path)
    shutil.rmtree(RECORDINGS, ignore_errors=True)
    staging.rename(RECORDINGS)
    print(f"{len(list(RECORDINGS.glob('*.json')))} recordings in {RECORDINGS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
