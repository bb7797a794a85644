"""Benchmark the whole pipeline over HTTP against a local stand-in model, and print the figures.

    .venv/bin/python -m benchmarks.run [--n 10 100 1000] [--concurrency 16] [--latency 0.3]
                                       [--per-token-latency 0.002] [--quick]

For each N, in a fresh process (so peak memory is per N): write N articles of ~800 tokens
(``benchmarks.corpus``), start ``FakeOpenAIServer`` in a process of its own with the replies of
``benchmarks.model`` and the given latency, and run ``briefer.abrief`` through the real
``OpenAIClient`` behind a ``CachingClient`` with an empty cache; then run it again on the same
cache and count the calls that reached the server. Separately: ``merge_records`` on 5,000 and
20,000 records (``scripts/bench_merge.py``'s generator), and three runs of the CLI, process start
to exit: the README's replayed example briefing, the examples answered wholly from a warm cache
(the recordings copied into a cache directory), and ``briefer --help``. ``--quick`` is a smoke
run: tiny N, no latency, small merges, one run of each command.

Figures, and how they are measured:

- bound: for each stage (extraction, then compose), ceil(calls / concurrency) times the mean
  server delay of its calls (latency + per-token latency x completion tokens), summed. The
  ratio wall / bound is what the pipeline adds to the model's own time.
- prompt tokens per article token, from what the server received (real tokenizer): the static
  prefix (system message + response schema) and the part after it, over extraction calls.
  "Prefix identical" checks every request of a stage against the others, byte for byte, and
  that it opens the request.
- first call: when the first request reached the server, from the start of ``abrief``.
- CPU outside model calls: the benchmarked process's CPU time (``time.process_time``; the
  server's CPU is in another process) over the second run, which answers every call from the
  cache: ingest, chunking, request building, cache reads, validation, grounding, merge,
  compose checks and rendering, with no HTTP. The first run's CPU (the same work plus the
  openai SDK and HTTP on the client side) is shown beside it. The split by stage comes from a
  third run on the same cache, stage after stage (``_stage_cpu``): in the pipeline the stages
  overlap (documents are extracted while others are read), so no stage's CPU can be told
  apart there.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import inspect
import json
import math
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, cast

__all__ = ["main"]

ROOT = Path(__file__).resolve().parents[1]
MODEL = "gpt-4.1-mini"
DUMMY_KEY = "sk-benchmark-not-a-real-key"
HEADER = "figure"


# --- one N, in its own process ----------------------------------------------------------------


def _peak_rss_mb() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


# The stages that run one after the other once every record is in, by the name
# ``briefer.pipeline`` calls them: on the re-run from the cache each one's CPU time is its stage's.
STAGES = {"merge_records": "merge", "compose_items": "compose"}
# Shown in this order; "extract, ground" is what the re-run spent besides the others.
STAGE_ROWS = ["ingest", "chunk", "extract, ground", "merge", "compose", "render"]


@contextmanager
def _stage_timers(cpu: dict[str, float]) -> Iterator[None]:
    """Count the CPU time of each of ``STAGES`` in ``cpu`` while the block runs."""
    import briefer.pipeline as pipeline

    originals: dict[str, Any] = {}
    for name, label in STAGES.items():
        original = getattr(pipeline, name, None)
        if original is None:
            continue
        originals[name] = original

        def timed(*args: Any, _f: Any = original, _label: str = label, **kw: Any) -> Any:
            started = time.process_time()
            result = _f(*args, **kw)
            if not inspect.isawaitable(result):
                cpu[_label] = cpu.get(_label, 0.0) + time.process_time() - started
                return result

            async def finish() -> Any:
                try:
                    return await result
                finally:
                    cpu[_label] = cpu.get(_label, 0.0) + time.process_time() - started

            return finish()

        setattr(pipeline, name, timed)
    try:
        yield
    finally:
        for name, original in originals.items():
            setattr(pipeline, name, original)


def _reading_cpu(corpus: Path, cpu: dict[str, float]) -> None:
    """The CPU of ingest and of chunking, each on its own: in the pipeline they run while
    documents are being extracted."""
    from briefer.ingestion import load_sources
    from briefer.pipeline import BriefOptions, plan_chunks

    started = time.process_time()
    documents = load_sources([corpus]).documents
    cpu["ingest"] = time.process_time() - started
    started = time.process_time()
    plan_chunks(documents, BriefOptions(model=MODEL))
    cpu["chunk"] = time.process_time() - started


async def _brief_once(
    corpus: Path, cache: Path, base_url: str, concurrency: int, stages: dict[str, float]
) -> tuple[float, float, float, Any]:
    """One run: wall and CPU seconds, when it started (``time.monotonic``), the briefing."""
    from briefer.llm.openai import Endpoint, OpenAIClient
    from briefer.llm.recording import CachingClient
    from briefer.pipeline import BriefOptions, abrief
    from briefer.rendering import render

    inner = OpenAIClient(endpoint=Endpoint(base_url=base_url, api_key_env="OPENAI_API_KEY"))
    client = CachingClient(inner, cache)
    options = BriefOptions(model=MODEL, concurrency=concurrency)
    began = time.monotonic()
    wall, cpu = time.perf_counter(), time.process_time()
    with _stage_timers(stages):
        briefing = await abrief([corpus], client=client, options=options)
    started = time.process_time()
    render(briefing, "markdown")
    stages["render"] = time.process_time() - started
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    await inner.aclose()
    return wall, cpu, began, briefing


def _warm_up() -> None:
    """Load once what a process loads once (the tokenizer, the HTML extractor, the modules the
    openai SDK imports at its first call, made here to a server of this benchmark's own): the
    figures are the steady state. The CLI's figures are cold starts."""
    from briefer.ingestion import load_sources
    from briefer.llm.base import LLMRequest, Message
    from briefer.llm.fake_server import FakeOpenAIServer
    from briefer.llm.openai import Endpoint, OpenAIClient
    from briefer.llm.tokens import get_encoding

    get_encoding("o200k_base")
    load_sources(sorted((ROOT / "examples" / "articles").iterdir()))
    schema = {"type": "object", "properties": {}, "required": [], "additionalProperties": False}
    request = LLMRequest(
        model=MODEL,
        messages=(Message(role="user", content="warm up"),),
        schema_name="warm_up",
        response_schema=schema,
        prompt_version="warm-up/1",
    )

    async def call(base_url: str) -> None:
        client = OpenAIClient(endpoint=Endpoint(base_url=base_url))
        await client.complete(request)
        await client.aclose()

    with FakeOpenAIServer() as server:
        asyncio.run(call(server.base_url))


def _run_pipeline(
    n: int, concurrency: int, latency: float, per_token_latency: float
) -> dict[str, Any]:
    from benchmarks.corpus import write_corpus
    from benchmarks.model import ModelProcess

    os.environ["OPENAI_API_KEY"] = DUMMY_KEY  # this process only: the server is local
    _warm_up()
    with tempfile.TemporaryDirectory(prefix="briefer-bench-") as tmp:
        corpus = write_corpus(Path(tmp) / "articles", n)
        cache = Path(tmp) / "cache"
        with ModelProcess(latency=latency, per_token_latency=per_token_latency) as server:
            gc.collect()
            wall, cpu, began, briefing = asyncio.run(
                _brief_once(corpus, cache, server.base_url, concurrency, {})
            )
            first_calls = server.requests()
            first_call = server.first_call()
            report = server.report()
            stages: dict[str, float] = {}
            wall2, cpu2, _, briefing2 = asyncio.run(
                _brief_once(corpus, cache, server.base_url, concurrency, stages)
            )
            second_calls = server.requests() - first_calls
        _reading_cpu(corpus, stages)
        stages["extract, ground"] = cpu2 - sum(stages.values())
    article_tokens = sum(s.tokens for s in briefing.sources)
    return {
        "n": n,
        "documents": len(briefing.sources),
        "excluded": len(briefing.excluded),
        "article_tokens": article_tokens,
        "wall": wall,
        "cpu": cpu,
        "first_call": first_call - began if first_call is not None else None,
        "wall_cached": wall2,
        "cpu_cached": cpu2,
        "cpu_stages": stages,
        "calls": first_calls,
        "calls_cached": second_calls,
        "usage_calls": briefing.usage.calls,
        "composer": briefing.composer,
        "notes": list(briefing.notes),
        "events": len(briefing.events),
        "merged_from": sum(len(e.members) for e in briefing.events),
        "conflicts": sum(len(e.conflicts) for e in briefing.events),
        "stances": len(briefing.stances),
        "stats": briefing.stats.model_dump() if briefing.stats else {},
        "same_briefing": briefing.items == briefing2.items,
        "report": report,
        "peak_rss_mb": _peak_rss_mb(),
    }


def _run_merge(counts: Sequence[int]) -> dict[str, Any]:
    from benchmarks.corpus import load_script
    from briefer.merging._merge import merge_records

    generate = cast(
        Callable[[int], tuple[list[Any], list[Any]]], load_script("bench_merge").synthetic_events
    )
    out: dict[str, Any] = {}
    for count in counts:
        events, documents = generate(count)
        gc.collect()
        gc.freeze()
        started = time.perf_counter()
        result = merge_records(events, [], documents)
        out[str(count)] = {
            "seconds": time.perf_counter() - started,
            "events": len(result.events),
            "comparisons": result.comparisons,
        }
        gc.unfreeze()
        del events, documents, result
    return out


# --- the replayed example through the CLI -----------------------------------------------------


def _cli_times(runs: int) -> dict[str, list[float] | None]:
    """Process start to exit of three commands, ``runs`` times each: the README's replay of the
    examples, the examples answered wholly from a warm cache (the recordings copied into a
    cache directory; no key is needed), and ``briefer --help``. One untimed run first fills the
    token cache (in a user cache directory of the benchmark's own): the figures are for every
    run after the first."""
    recordings = ROOT / "examples" / "recordings"
    if not recordings.is_dir() or not any(recordings.glob("*.json")):
        return {}
    command = Path(sys.executable).with_name("briefer")
    argv = [str(command)] if command.exists() else [sys.executable, "-m", "briefer.cli"]
    with tempfile.TemporaryDirectory(prefix="briefer-cli-") as tmp:
        cache = Path(tmp) / "cache"
        cache.mkdir()
        for recording in recordings.glob("*.json"):
            shutil.copy(recording, cache / recording.name)
        env = {k: v for k, v in os.environ.items() if k != "OPENAI_API_KEY"}
        env.update(XDG_CACHE_HOME=str(Path(tmp) / "xdg-cache"), BRIEFER_CACHE_DIR=str(cache))
        output = ["-o", str(Path(tmp) / "x.md")]
        commands = {
            "replay": ["brief", "examples/articles", "--replay", "examples/recordings", *output],
            "cache": ["brief", "examples/articles", *output],
            "help": ["--help"],
        }

        def once(args: list[str]) -> float | None:
            started = time.perf_counter()
            done = subprocess.run([*argv, *args], cwd=ROOT, env=env, capture_output=True)
            if done.returncode != 0:
                sys.stderr.write(done.stderr.decode("utf-8", "replace"))
                return None
            return time.perf_counter() - started

        once(commands["replay"])
        times: dict[str, list[float] | None] = {}
        for name, args in commands.items():
            found = [once(args) for _ in range(runs)]
            times[name] = None if None in found else [t for t in found if t is not None]
        return times


# --- the parent: one process per N, then the table --------------------------------------------


def _child(args: list[str], timeout: float) -> dict[str, Any]:
    env = {**os.environ, "OPENAI_API_KEY": DUMMY_KEY}
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.run", *args],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout, check=False,
    )  # fmt: skip
    if done.returncode != 0:
        sys.stderr.write(done.stderr)
        raise SystemExit(f"benchmark step {' '.join(args)} failed ({done.returncode})")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


_EMPTY_STAGE: dict[str, Any] = {
    "calls": 0, "prefix_tokens": 0, "rest_tokens": 0, "completion": [], "delays": [],
    "prefixes": 0, "prefix_first": True,
}  # fmt: skip


def _stage(result: dict[str, Any], name: str) -> dict[str, Any]:
    stage: dict[str, Any] = result["report"].get(name) or _EMPTY_STAGE
    return stage


def _bound(result: dict[str, Any], concurrency: int) -> float:
    """ceil(calls / concurrency) x mean delay for extraction, plus each compose call's delay
    (the compose calls run one after the other)."""
    extract, compose = _stage(result, "extraction"), _stage(result, "compose")
    bound = float(sum(compose["delays"]))
    if extract["calls"]:
        bound += math.ceil(extract["calls"] / concurrency) * statistics.fmean(extract["delays"])
    return bound


def _figures(result: dict[str, Any], concurrency: int) -> dict[str, str]:
    """One column of the table."""
    extract, compose = _stage(result, "extraction"), _stage(result, "compose")
    docs = max(1, result["documents"])
    tokens = max(1, result["article_tokens"])
    bound = _bound(result, concurrency)
    prefix_ok = bool(result["report"]) and all(
        s["prefixes"] <= 1 and s["prefix_first"] for s in result["report"].values()
    )
    completion = extract["completion"]
    stats = result["stats"]
    return {
        "articles (excluded)": f"{result['documents']} ({result['excluded']})",
        "article tokens, mean": f"{result['article_tokens'] / docs:.0f}",
        "wall time, s": f"{result['wall']:.2f}",
        "bound, s": f"{bound:.2f}",
        "wall / bound": f"{result['wall'] / bound:.2f}" if bound else "n/a",
        "first call reaches the model, s": (
            f"{result['first_call']:.2f}" if result["first_call"] is not None else "n/a"
        ),
        "LLM calls (extract + compose)": f"{extract['calls']} + {compose['calls']}",
        "LLM calls per article": f"{result['calls'] / docs:.2f}",
        "completion tokens per extraction": (
            f"{statistics.fmean(completion):.0f}" if completion else "n/a"
        ),
        "static prefix identical, first": "yes" if prefix_ok else "no",
        "prompt/article tok: static prefix": f"{extract['prefix_tokens'] / tokens:.2f}",
        "prompt/article tok: per-call part": f"{extract['rest_tokens'] / tokens:.2f}",
        "prompt/article tok: total": (
            f"{(extract['prefix_tokens'] + extract['rest_tokens']) / tokens:.2f}"
        ),
        "compose prompt tokens": f"{compose['prefix_tokens'] + compose['rest_tokens']}",
        "CPU outside LLM, ms / 1k art. tok": f"{1e6 * result['cpu_cached'] / tokens:.1f}",
        **{
            f"  {label}": f"{1e6 * result['cpu_stages'].get(label, 0.0) / tokens:.1f}"
            for label in STAGE_ROWS
        },
        "client CPU incl. HTTP, ms / 1k tok": f"{1e6 * result['cpu'] / tokens:.1f}",
        "peak RSS, MB": f"{result['peak_rss_mb']:.0f}",
        "events (from records), conflicts": (
            f"{result['events']} ({result['merged_from']}), {result['conflicts']}"
        ),
        "records grounded / total": (
            f"{stats.get('records_grounded', 0)} / {stats.get('records', 0)}"
        ),
        "composer": str(result["composer"]),
        "re-run on cache: wall s": f"{result['wall_cached']:.2f}",
        "re-run on cache: calls to server": str(result["calls_cached"]),
    }


# The commands of _cli_times: name, how the figure is said, its target.
CLI_FIGURES = [
    ("replay", "replayed example briefing", "< 1.5 s"),
    ("cache", "example briefing from a warm cache", "<= 0.5 s"),
    ("help", "briefer --help", "<= 0.25 s"),
]

TARGETS = {
    "wall / bound": "<= 1.2 at N=100",
    "first call reaches the model, s": "(streaming)",
    "static prefix identical, first": "yes",
    "prompt/article tok: static prefix": "(cacheable)",
    "prompt/article tok: per-call part": "<= 1.2",
    "CPU outside LLM, ms / 1k art. tok": "< 10",
    "peak RSS, MB": "< 400 at N=1000",
    "re-run on cache: calls to server": "0",
}


def _rows(results: list[dict[str, Any]], concurrency: int) -> list[tuple[str, list[str], str]]:
    columns = [_figures(r, concurrency) for r in results]
    names = list(columns[0]) if columns else []
    return [(name, [c[name] for c in columns], TARGETS.get(name, "")) for name in names]


def _print_table(rows: list[tuple[str, list[str], str]], ns: Sequence[int]) -> None:
    heads = [HEADER, *[f"N={n}" for n in ns], "target"]
    table = [heads, *[[name, *values, target] for name, values, target in rows]]
    widths = [max(len(line[i]) for line in table) for i in range(len(heads))]
    for k, line in enumerate(table):
        cells = [
            line[0].ljust(widths[0]),
            *(c.rjust(w) for c, w in zip(line[1:-1], widths[1:-1], strict=True)),
            line[-1].ljust(widths[-1]),
        ]
        print("| " + " | ".join(cells) + " |")
        if k == 0:
            print(
                "|"
                + "|".join("-" * (w + 2) for w in widths[:1])
                + "|"
                + "|".join("-" * (w + 1) + ":" for w in widths[1:-1])
                + "|"
                + "-" * (widths[-1] + 2)
                + "|"
            )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--n", type=int, nargs="+", default=[10, 100, 1000])
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--latency", type=float, default=0.3, help="seconds per call")
    parser.add_argument(
        "--per-token-latency", type=float, default=0.002, help="seconds per completion token"
    )
    parser.add_argument("--merge", type=int, nargs=2, default=[5_000, 20_000])
    parser.add_argument("--replays", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="tiny N, no latency: a smoke run")
    parser.add_argument("--step", choices=["pipeline", "merge"], help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.quick:
        args.n, args.latency, args.per_token_latency = [3], 0.0, 0.0
        args.merge, args.replays = [200, 800], 1
    if args.step == "pipeline":
        print(
            json.dumps(
                _run_pipeline(args.n[0], args.concurrency, args.latency, args.per_token_latency)
            )
        )
        return 0
    if args.step == "merge":
        print(json.dumps(_run_merge(args.merge)))
        return 0

    common = ["--concurrency", str(args.concurrency), "--latency", str(args.latency),
              "--per-token-latency", str(args.per_token_latency)]  # fmt: skip
    results = []
    for n in args.n:
        print(f"running N={n} ...", file=sys.stderr, flush=True)
        results.append(_child(["--step", "pipeline", "--n", str(n), *common], timeout=900))
    print("merging ...", file=sys.stderr, flush=True)
    merge = _child(["--step", "merge", "--merge", *map(str, args.merge)], timeout=600)
    print("running the CLI ...", file=sys.stderr, flush=True)
    cli = _cli_times(args.replays)

    print(
        f"latency {args.latency * 1000:g} ms per call + {args.per_token_latency * 1000:g} ms per "
        f"completion token, concurrency {args.concurrency}, model server in its own process"
    )
    _print_table(_rows(results, args.concurrency), args.n)
    print()
    if len(results) > 1:
        first, last = results[0], results[-1]
        per_100 = (last["peak_rss_mb"] - first["peak_rss_mb"]) / max(1, last["n"] - first["n"])
        print(
            f"peak RSS: {first['peak_rss_mb']:.0f} MB at N={first['n']}, "
            f"{last['peak_rss_mb']:.0f} MB at N={last['n']}: {100 * per_100:.1f} MB per 100 "
            "articles"
        )
    small, large = (merge[str(c)] for c in args.merge)
    print(
        f"merge: {args.merge[0]:,} records {small['seconds']:.2f} s, {args.merge[1]:,} records "
        f"{large['seconds']:.2f} s, ratio {large['seconds'] / small['seconds']:.2f} "
        f"(linear: {args.merge[1] / args.merge[0]:.2f}); pairs compared "
        f"{small['comparisons']:,} and {large['comparisons']:,}, ratio "
        f"{large['comparisons'] / max(1, small['comparisons']):.2f}"
    )
    for name, label, target in CLI_FIGURES:
        times = cli.get(name)
        said = (
            f"median {statistics.median(times):.2f} s of {len(times)} (target {target})"
            if times
            else "n/a"
        )
        print(f"{label} (CLI, process start to exit): {said}")
    for r in results:
        for note in r["notes"]:
            print(f"note (N={r['n']}): {note}")
        if not r["same_briefing"]:
            print(f"note (N={r['n']}): the re-run on the cache gave different items")
    return 0


if __name__ == "__main__":
    sys.exit(main())
