"""The README's main job: the example briefing, replayed offline, is right and does not drift."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from typer.testing import CliRunner

import briefer
from briefer.cli import app
from briefer.json_schemas import schema_for
from briefer.rendering import render_html, render_markdown

ROOT = Path(__file__).resolve().parents[2]
ARTICLES = ROOT / "examples" / "articles"
RECORDINGS = ROOT / "examples" / "recordings"
GOLDEN = ROOT / "tests" / "golden" / "example_briefing.json"

runner = CliRunner()


def _brief_json(tmp_path: Path, recordings: Path = RECORDINGS) -> tuple[Any, dict[str, Any]]:
    out = tmp_path / "briefing.json"
    result = runner.invoke(
        app, ["brief", str(ARTICLES), "--replay", str(recordings), "-o", str(out), "--quiet"]
    )
    return result, json.loads(out.read_text(encoding="utf-8")) if out.exists() else {}


def _without_volatile(briefing: dict[str, Any]) -> dict[str, Any]:
    data = dict(briefing)
    data.pop("generated_at")
    # Paths are as the user gave them; compare them relative to the repository.
    data["sources"] = [
        {**s, "path": os.path.relpath(s["path"], ROOT) if s["path"] else None}
        for s in data["sources"]
    ]
    return data


def test_replayed_example_matches_the_golden_briefing(tmp_path: Path) -> None:
    result, briefing = _brief_json(tmp_path)
    assert result.exit_code == 0, result.stderr
    assert result.stdout == ""
    got = _without_volatile(briefing)
    if os.environ.get("UPDATE_GOLDEN"):
        GOLDEN.write_text(json.dumps(got, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    assert got == json.loads(GOLDEN.read_text(encoding="utf-8")), (
        "the example briefing changed; if that is intended, rerun with UPDATE_GOLDEN=1"
    )


def test_example_briefing_is_valid_grounded_and_shows_what_it_must(tmp_path: Path) -> None:
    result, briefing = _brief_json(tmp_path)
    assert result.exit_code == 0, result.stderr
    jsonschema.validate(briefing, schema_for("briefing"))

    texts = {d.id: d.text for d in briefer.load_sources([ARTICLES]).documents}
    records = {r["id"]: r for r in [*briefing["events"], *briefing["stances"]]}
    cited = [c for item in briefing["items"] for c in item["citations"]]
    assert cited
    for rid in cited:
        assert rid in records, rid
    for record in records.values():
        for ev in record["evidence"]:
            assert texts[ev["source_id"]][ev["start"] : ev["end"]] == ev["quote"]
    for item in briefing["items"]:
        assert len(item["sentences"]) == len(item["sentence_citations"])
        assert all(item["sentence_citations"]), item["headline"]

    # The five-versus-six conflict, with the outlet behind each number.
    outlets = {s["id"]: s["outlet"] for s in briefing["sources"]}
    conflicts = [c for e in briefing["events"] for c in e["conflicts"]]
    [people] = [c for c in conflicts if c["field"] == "quantities.people sanctioned"]
    values = {v["value"]: {outlets[s] for s in v["source_ids"]} for v in people["values"]}
    assert values == {5.0: {"Meridian Wire"}, 6.0: {"The Harbor Post"}}
    sanction = next(e for e in briefing["events"] if e["conflicts"])
    assert sanction["corroboration"] == 3

    # Stances of at least three holders; a weekday resolved from the publication date.
    assert len({s["holder"]["canonical"] for s in briefing["stances"]}) >= 3
    dated = {(e["date_text"], e["date"]) for e in briefing["events"]}
    assert ("on Wednesday", "2022-01-19") in dated  # Peninsula Review, published Thu 20 Jan
    assert ("on Friday", "2022-01-14") in dated  # Continental Ledger, published Sat 15 Jan

    # The injected instruction in one article produced nothing.
    assert briefing["stats"]["records_dropped"] >= 1
    assert "give up its nuclear weapons" not in json.dumps(briefing["events"])


def test_markdown_and_html_show_the_conflict_and_resolve_citations(tmp_path: Path) -> None:
    md = tmp_path / "b.md"
    html = tmp_path / "b.html"
    for out in (md, html):
        result = runner.invoke(
            app, ["brief", str(ARTICLES), "--replay", str(RECORDINGS), "-o", str(out), "-q"]
        )
        assert result.exit_code == 0, result.stderr
    text = md.read_text(encoding="utf-8")
    assert "5 (Meridian Wire), 6 (The Harbor Post)" in text
    assert "## Citations" in text
    markers = {int(n) for n in __import__("re").findall(r"\[(\d+)\]", text)}
    for number in markers:
        assert f"\n{number}. " in text, f"citation [{number}] does not resolve"
    page = html.read_text(encoding="utf-8")
    assert "<script" not in page.lower()
    assert 'name="viewport"' in page
    assert "Meridian Wire" in page and "The Harbor Post" in page


def test_stdout_carries_only_the_briefing(tmp_path: Path) -> None:
    result = runner.invoke(app, ["brief", str(ARTICLES), "--replay", str(RECORDINGS)])
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("# ")
    assert "documents" in result.stderr and "grounded" in result.stderr
    assert "grounded" not in result.stdout.splitlines()[-1]


def test_render_reproduces_the_markdown_without_a_model(tmp_path: Path) -> None:
    as_json = tmp_path / "b.json"
    as_md = tmp_path / "b.md"
    for out in (as_json, as_md):
        runner.invoke(app, ["brief", str(ARTICLES), "--replay", str(RECORDINGS), "-o", str(out)])
    rerendered = runner.invoke(app, ["render", str(as_json), "--format", "markdown"])
    assert rerendered.exit_code == 0, rerendered.stderr
    assert rerendered.stdout == as_md.read_text(encoding="utf-8")


def test_refused_composition_falls_back_to_the_deterministic_briefing(tmp_path: Path) -> None:
    recordings = tmp_path / "recordings"
    shutil.copytree(RECORDINGS, recordings)
    composes = []
    for path in recordings.glob("*.json"):
        data = json.loads(path.read_text(encoding="utf-8"))
        if data["request"]["prompt_version"].startswith("compose/"):
            data["response"].update(content=None, refusal="I can't help with that.")
            path.write_text(json.dumps(data), encoding="utf-8")
            composes.append(path)
    assert len(composes) == 1
    out = tmp_path / "b.json"
    result = runner.invoke(
        app, ["brief", str(ARTICLES), "--replay", str(recordings), "-o", str(out)]
    )
    # The briefing is written, but it is not the model's: a partial result, said even under -q.
    assert result.exit_code == 3, result.stderr
    briefing = json.loads(out.read_text(encoding="utf-8"))
    assert briefing["composer"] == "deterministic"
    assert {i["composer"] for i in briefing["items"]} == {"deterministic"}
    assert "deterministic composer" in result.stderr
    (failed,) = [e for e in briefing["excluded"] if e["stage"] == "compose"]
    assert "refused" in failed["reason"] and failed["input"] == "composition"
    assert briefing["usage"]["failed"] == 0  # the model answered: it refused


def test_replay_miss_names_the_request_and_how_to_record_it(tmp_path: Path) -> None:
    article = tmp_path / "new.txt"
    article.write_text("Title: Something new\n\nA story nobody recorded yet.\n", encoding="utf-8")
    result = runner.invoke(app, ["brief", str(article), "--replay", str(RECORDINGS), "-q"])
    assert "Traceback" not in result.stderr
    assert "--record" in result.stderr
    # The chunk could not be extracted: the input is excluded and nothing is usable.
    assert result.exit_code in (1, 3)


@pytest.mark.parametrize("fmt", ["markdown", "json", "html"])
def test_library_briefing_renders_itself(fmt: str) -> None:
    briefing = briefer.brief([ARTICLES], client=briefer.ReplayClient(RECORDINGS))
    rendered = briefer.render(briefing, fmt)  # type: ignore[arg-type]
    assert rendered.strip()
    if fmt == "markdown":
        assert rendered == render_markdown(briefing)
    elif fmt == "html":
        assert rendered == render_html(briefing)
    else:
        assert briefer.Briefing.model_validate_json(rendered).events == briefing.events
