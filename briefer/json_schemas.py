"""JSON Schemas (draft 2020-12) of the records, generated from the models and checked in.

``python -m briefer.json_schemas`` rewrites ``schemas/``; a test fails when they drift.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from briefer.llm.store import Recording
from briefer.models import (
    Briefing,
    ComposeReply,
    EventRecord,
    ExtractionReply,
    StanceRecord,
    StoryTimeline,
    reply_schema,
)

__all__ = ["SCHEMA_MODELS", "render_schema", "schema_for", "write_schemas"]

DIALECT = "https://json-schema.org/draft/2020-12/schema"

SCHEMA_MODELS: dict[str, type[BaseModel]] = {
    "event": EventRecord,
    "stance": StanceRecord,
    "briefing": Briefing,
    "extraction": ExtractionReply,
    "compose": ComposeReply,
    "recording": Recording,
    "story": StoryTimeline,
}
# LLM-facing schemas are sent as they are; they must pass the strict Structured Outputs rules.
STRICT = ("extraction", "compose")


def schema_for(name: str) -> dict[str, Any]:
    """The schema ``name``: a reply's as it is sent (``briefer.models.reply_schema``), or a
    record's with its dialect and id."""
    if name == "extraction":
        return reply_schema(ExtractionReply)
    if name == "compose":
        return reply_schema(ComposeReply)
    schema = SCHEMA_MODELS[name].model_json_schema(mode="serialization")
    return {"$schema": DIALECT, "$id": f"https://briefer.dev/schemas/{name}.schema.json", **schema}


def render_schema(name: str) -> str:
    return json.dumps(schema_for(name), indent=2, ensure_ascii=False) + "\n"


def write_schemas(folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name in SCHEMA_MODELS:
        path = folder / f"{name}.schema.json"
        path.write_text(render_schema(name), encoding="utf-8")
        written.append(path)
    return written


if __name__ == "__main__":  # pragma: no cover
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).parents[1] / "schemas"
    for p in write_schemas(target):
        print(p)
