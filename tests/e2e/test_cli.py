"""The CLI as a user meets it: exit codes, one-line reasons, stdout kept for results."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
from helpers.web_server import WebServer, web_server  # noqa: F401  (fixture)
from typer.testing import CliRunner

from briefer.cli import app
from briefer.json_schemas import schema_for

ROOT = Path(__file__).resolve().parents[2]
ARTICLES = ROOT / "examples" / "articles"
RECORDINGS = ROOT / "examples" / "recordings"

runner = CliRunner()

ARTICLE_HTML = (
    "<html><head><title>Council meets on sanctions</title></head><body><article>"
    "<h1>Council meets on sanctions</h1>"
    "<p>The council met on Tuesday to discuss a new round of measures against the program, "
    "and members said they would return to the question next week after consultations.</p>"
    "</article></body></html>"
)


def test_help_lists_the_commands() -> None:
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    for command in ("brief", "extract", "estimate", "schema", "render"):
        assert command in result.stdout


def test_schema_prints_a_valid_draft_2020_12_schema() -> None:
    for name in ("event", "stance", "briefing", "extraction"):
        result = runner.invoke(app, ["schema", name])
        assert result.exit_code == 0
        jsonschema.Draft202012Validator.check_schema(json.loads(result.stdout))


def test_estimate_examples_as_json() -> None:
    result = runner.invoke(app, ["estimate", str(ARTICLES), "--json"])
    assert result.exit_code == 0, result.stderr
    estimate = json.loads(result.stdout)
    assert len(estimate["documents"]) == 4
    assert all(d["tokens"] > 100 and d["chunks"] == 1 for d in estimate["documents"])
    assert estimate["calls"] == 5  # four chunks and one composition
    assert estimate["prompt_tokens"] > estimate["tokens"]


def test_estimate_with_bad_inputs_uses_the_rest_and_says_why(
    tmp_path: Path,
    web_server: WebServer,  # noqa: F811
) -> None:
    (tmp_path / "empty.txt").write_text("")
    (tmp_path / "binary.txt").write_bytes(b"\x00\x01\x02\xff" * 100)
    huge = tmp_path / "huge.txt"
    with huge.open("wb") as handle:
        handle.truncate(20 * 1024 * 1024 + 1)  # sparse: no time spent writing it
    good = tmp_path / "good.txt"
    good.write_text("Title: A real article\n\nThe ministry announced new measures today.\n")
    missing = tmp_path / "missing.txt"
    not_found = web_server.route("/gone", status=404, body="no")
    page = web_server.route("/page", body=ARTICLE_HTML)

    inputs = [str(p) for p in (tmp_path / "empty.txt", tmp_path / "binary.txt", huge, missing)]
    result = runner.invoke(app, ["estimate", *inputs, str(good), page, "--json"])
    assert result.exit_code == 3, result.stderr
    assert "Traceback" not in result.stderr
    estimate = json.loads(result.stdout)
    reasons = {e["input"]: e["reason"] for e in estimate["excluded"]}
    assert "empty" in reasons[str(tmp_path / "empty.txt")]
    assert "binary" in reasons[str(tmp_path / "binary.txt")]
    assert "larger than" in reasons[str(huge)]
    assert "no such file" in reasons[str(missing)]
    assert "loopback" in reasons[page] and "--allow-private" in reasons[page]
    # One line on stderr per excluded input.
    lines = [line for line in result.stderr.splitlines() if line.startswith("excluded:")]
    assert len(lines) == len(reasons) == 5
    assert [d["input"] for d in estimate["documents"]] == [str(good)]
    assert web_server.requests == []  # refused before connecting

    allowed = runner.invoke(app, ["estimate", page, not_found, "--allow-private", "--json"])
    assert allowed.exit_code == 3, allowed.stderr
    estimate = json.loads(allowed.stdout)
    [doc] = estimate["documents"]
    assert doc["title"] == "Council meets on sanctions"
    [gone] = estimate["excluded"]
    assert gone["input"] == not_found and "404" in gone["reason"]


def test_nothing_usable_is_exit_1(tmp_path: Path) -> None:
    (tmp_path / "empty.txt").write_text("   \n")
    result = runner.invoke(app, ["estimate", str(tmp_path / "empty.txt")])
    assert result.exit_code == 1
    assert "empty" in result.stderr
    assert "Traceback" not in result.stderr


def test_usage_errors_are_exit_2(tmp_path: Path) -> None:
    both = runner.invoke(
        app, ["brief", str(ARTICLES), "--replay", str(RECORDINGS), "--record", str(tmp_path)]
    )
    assert both.exit_code == 2
    assert "cannot be used together" in both.stderr
    unknown = runner.invoke(
        app, ["brief", str(ARTICLES), "--replay", str(RECORDINGS), "-o", str(tmp_path / "b.pdf")]
    )
    assert unknown.exit_code == 2
    assert "--format" in unknown.stderr
    no_such = runner.invoke(app, ["brief", str(ARTICLES), "--replay", str(tmp_path / "nope")])
    assert no_such.exit_code == 2


def test_extract_writes_valid_json_lines(tmp_path: Path) -> None:
    out = tmp_path / "records.jsonl"
    result = runner.invoke(
        app, ["extract", str(ARTICLES), "--replay", str(RECORDINGS), "-o", str(out)]
    )
    assert result.exit_code == 0, result.stderr
    lines = out.read_text(encoding="utf-8").splitlines()
    assert len(lines) >= 20
    event_schema, stance_schema = schema_for("event"), schema_for("stance")
    kinds = set()
    for line in lines:
        record = json.loads(line)
        kind = "event" if record["id"].startswith("ev-") else "stance"
        kinds.add(kind)
        jsonschema.validate(record, event_schema if kind == "event" else stance_schema)
    assert kinds == {"event", "stance"}
    assert "dropped as ungrounded" in result.stderr


def test_missing_key_is_a_one_line_usage_error(tmp_path: Path) -> None:
    article = tmp_path / "a.txt"
    article.write_text("Title: T\n\nThe ministry announced new measures today.\n")
    result = runner.invoke(app, ["brief", str(article), "--no-cache"])
    assert result.exit_code != 0
    assert "OPENAI_API_KEY" in result.stderr
    assert "Traceback" not in result.stderr
