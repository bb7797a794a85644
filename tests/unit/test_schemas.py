"""The checked-in JSON Schemas are the models' own, and the LLM-facing ones obey strict rules."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from briefer.json_schemas import SCHEMA_MODELS, STRICT, render_schema, schema_for

SCHEMAS = Path(__file__).resolve().parents[2] / "schemas"


@pytest.mark.parametrize("name", sorted(SCHEMA_MODELS))
def test_checked_in_schema_matches_model(name: str) -> None:
    path = SCHEMAS / f"{name}.schema.json"
    assert path.read_text(encoding="utf-8") == render_schema(name), (
        f"{path.name} is out of date: run `python -m briefer.json_schemas`"
    )


@pytest.mark.parametrize("name", sorted(SCHEMA_MODELS))
def test_schema_is_valid_draft_2020_12(name: str) -> None:
    jsonschema.Draft202012Validator.check_schema(schema_for(name))


def _objects(node: Any) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    if isinstance(node, dict):
        if node.get("type") == "object" or "properties" in node:
            found.append(node)
        for value in node.values():
            found.extend(_objects(value))
    elif isinstance(node, list):
        for value in node:
            found.extend(_objects(value))
    return found


def _keys(node: Any) -> set[str]:
    keys: set[str] = set()
    if isinstance(node, dict):
        for key, value in node.items():
            if key != "properties":
                keys.add(key)
            keys |= _keys(value)
    elif isinstance(node, list):
        for value in node:
            keys |= _keys(value)
    return keys


@pytest.mark.parametrize("name", STRICT)
def test_llm_facing_schema_is_strict(name: str) -> None:
    schema = schema_for(name)
    objects = _objects(schema)
    assert objects
    for obj in objects:
        assert obj.get("additionalProperties") is False, obj.get("title")
        assert set(obj["required"]) == set(obj["properties"]), obj.get("title")
    forbidden = {"default", "format", "pattern", "minimum", "maximum", "minLength", "maxLength"}
    assert not (_keys(schema) & forbidden)


def test_briefing_schema_rejects_unknown_fields() -> None:
    schema = schema_for("briefing")
    minimal = json.loads((SCHEMAS / "briefing.schema.json").read_text())
    assert minimal["$schema"].endswith("2020-12/schema")
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"surprise": 1}, schema)


def test_extraction_asks_for_a_quote_per_record_and_an_actor_per_event() -> None:
    # Under grammar-constrained decoding a server returned "quotes": [] when nothing said
    # otherwise; minItems is allowed by strict mode and makes the schema say it.
    defs = schema_for("extraction")["$defs"]
    assert defs["ExtractedEvent"]["properties"]["quotes"]["minItems"] == 1
    assert defs["ExtractedEvent"]["properties"]["actors"]["minItems"] == 1
    assert defs["ExtractedStance"]["properties"]["quotes"]["minItems"] == 1
    validator = jsonschema.Draft202012Validator(schema_for("extraction"))
    empty = {
        "events": [],
        "stances": [
            {
                "holder": {"name": "A", "canonical": "A", "country": None, "kind": "person"},
                "topic": "t",
                "target": None,
                "polarity": "favor",
                "quote_type": "direct",
                "claim": "c",
                "quotes": [],
            }
        ],
    }
    assert list(validator.iter_errors(empty))
