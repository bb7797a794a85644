"""Benchmark the whole pipeline over HTTP against a local stand-in model, and print the figures.

    .venv/bin/python -m benchmarks.run [--n 10 100 1000] [--concurrency 16] [--latency 0.3]
                                       [--per-token-latency 0.002] [--quick]

For each N, in a fresh process (so peak memory is per N): write N articles of ~800 tokens
(``benchmarks.corpus``), start ``FakeOpenAIServer`` in a process of its own with the replies of
``benchmarks.model`` and the given latency, and run ``briefer.abrief`` through the real
``OpenAIClient`` behind a ``CachingClient`` with an empty cache; then run it again on the same
cache and count the calls that reached the server. Separately: ``merge_records`` on 5,000 and
20,000 records (``scripts/bench_merge.py``'s generator), and the README's replayed example
briefing through the CLI, process start to exit. ``--quick`` is a smoke run: tiny N, no
latency, small merges, one replay.

Figures, and how they are measured:

- bound: for each stage (extraction, then compose), ceil(calls / concurrency) times the mean
  server delay of its calls (latency + per-token latency x completion tokens), summed. The
  ratio wall / bound is what the pipeline adds to the model's own time.
- prompt tokens per article token, from what the server received (real tokenizer): the static
  prefix (system message + response schema) and the part after it, over extraction calls.
  "Prefix identical" checks every request of a stage against the others, byte for byte, and
  that it opens the request.
- CPU outside model calls: the benchmarked process's CPU time (``time.process_time``; the
  server's CPU is in another process) over the second run, which answers every call from the
  cache: ingest, chunking, request building, cache reads, validation, grounding, merge,
  compose checks and rendering, with no HTTP. The first run's CPU (the same work plus the
  openai SDK and HTTP on the client side) is shown beside it. The re-run's CPU is also split
  by stage, by wrapping the stage functions ``briefer.pipeline`` calls (``STAGES``).
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


# The stage functions ``briefer.pipeline`` calls, by the name it calls them: on the re-run
# from the cache (nothing else runs meanwhile) each one's CPU time is its stage's.
STAGES = {
    "load_sources": "ingest",
    "plan_chunks": "chunk",
    "extract_documents": "extract, ground",
    "merge_records": "merge",
    "compose_items": "compose",
}


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


async def _brief_once(
    corpus: Path, cache: Path, base_url: str, concurrency: int, stages: dict[str, float]
) -> tuple[float, float, Any]:
    from briefer.llm.openai import Endpoint, OpenAIClient
    from briefer.llm.recording import CachingClient
    from briefer.pipeline import BriefOptions, abrief
    from briefer.rendering._render import render

    inner = OpenAIClient(endpoint=Endpoint(base_url=base_url, api_key_env="OPENAI_API_KEY"))
    client = CachingClient(inner, cache)
    options = BriefOptions(model=MODEL, concurrency=concurrency)
    wall, cpu = time.perf_counter(), time.process_time()
    with _stage_timers(stages):
        briefing = await abrief([corpus], client=client, options=options)
    started = time.process_time()
    render(briefing, "markdown")
    stages["render"] = time.process_time() - started
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    await inner.aclose()
    return wall, cpu, briefing


def _warm_up() -> None:
    """Load the tokenizer and the HTML extractor once: the figures are the steady state."""
    from briefer.ingestion._sources import load_sources
    from briefer.llm.tokens import get_encoding

    get_encoding("o200k_base")
    load_sources(sorted((ROOT / "examples" / "articles").iterdir()))


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
            wall, cpu, briefing = asyncio.run(
                _brief_once(corpus, cache, server.base_url, concurrency, {})
            )
            first_calls = server.requests()
            report = server.report()
            stages: dict[str, float] = {}
            wall2, cpu2, briefing2 = asyncio.run(
                _brief_once(corpus, cache, server.base_url, concurrency, stages)
            )
            second_calls = server.requests() - first_calls
    article_tokens = sum(s.tokens for s in briefing.sources)
    return {
        "n": n,
        "documents": len(briefing.sources),
        "excluded": len(briefing.excluded),
        "article_tokens": article_tokens,
        "wall": wall,
        "cpu": cpu,
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


def _replay_times(runs: int) -> list[float] | None:
    recordings = ROOT / "examples" / "recordings"
    if not recordings.is_dir() or not any(recordings.glob("*.json")):
        return None
    command = Path(sys.executable).with_name("briefer")
    argv = [str(command)] if command.exists() else [sys.executable, "-m", "briefer.cli"]
    env = {k: v for k, v in os.environ.items() if k != "OPENAI_API_KEY"}
    times = []
    with tempfile.TemporaryDirectory(prefix="briefer-replay-") as tmp:
        for _ in range(runs):
            started = time.perf_counter()
            done = subprocess.run(
                [*argv, "brief", "examples/articles", "--replay", "examples/recordings",
                 "-o", str(Path(tmp) / "x.md")],
                cwd=ROOT, env=env, capture_output=True, check=False,
            )  # fmt: skip
            times.append(time.perf_counter() - started)
            if done.returncode != 0:
                sys.stderr.write(done.stderr.decode("utf-8", "replace"))
                return None
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
            for label in [*STAGES.values(), "render"]
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


TARGETS = {
    "wall / bound": "<= 1.2 at N=100",
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
    print("replaying the example ...", file=sys.stderr, flush=True)
    replays = _replay_times(args.replays)

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
    if replays is None:
        print("replayed example briefing (CLI, process start to exit): n/a")
    else:
        print(
            f"replayed example briefing (CLI, process start to exit): median "
            f"{statistics.median(replays):.2f} s of {len(replays)} (target < 1.5 s)"
        )
    for r in results:
        for note in r["notes"]:
            print(f"note (N={r['n']}): {note}")
        if not r["same_briefing"]:
            print(f"note (N={r['n']}): the re-run on the cache gave different items")
    return 0


if __name__ == "__main__":
    sys.exit(main())
