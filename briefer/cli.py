"""The ``briefer`` command: parse options, call the library, print. Decisions live in the library.

stdout carries only the result (briefing, records, schema, estimate); progress, warnings and the
summary go to stderr. Exit codes: 0 ok, 1 error, 2 usage, 3 partial result (inputs excluded),
130 interrupted.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
import time
from pathlib import Path
from typing import Annotated, Literal

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn

import briefer
from briefer.config import Settings, build_client, load_settings
from briefer.errors import BrieferError, ConfigError
from briefer.llm.base import LLMClient, LLMRequest
from briefer.models import Briefing, Excluded
from briefer.output import write_output
from briefer.pipeline import BriefOptions

app = typer.Typer(
    name="briefer",
    help="Turn a day's news articles into a sourced daily briefing.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,  # a traceback must never print a key
    add_completion=False,
)

Format = Literal["markdown", "json", "html"]

SourcesArg = Annotated[
    list[str],
    typer.Argument(help="Files, folders, http(s) URLs, or - for stdin.", show_default=False),
]
ModelOpt = Annotated[str | None, typer.Option("--model", "-m", help="Model name.")]
BaseUrlOpt = Annotated[
    str | None, typer.Option("--base-url", help="OpenAI-compatible server (Ollama, vLLM...).")
]
ReplayOpt = Annotated[
    Path | None, typer.Option("--replay", help="Answer only from recordings in DIR; no network.")
]
RecordOpt = Annotated[
    Path | None, typer.Option("--record", help="Call the model and save every reply in DIR.")
]
NoCacheOpt = Annotated[bool, typer.Option("--no-cache", help="Do not read or write the cache.")]
ConcurrencyOpt = Annotated[
    int | None, typer.Option("--concurrency", "-j", min=1, help="Calls in flight at once.")
]
MaxCostOpt = Annotated[
    float | None, typer.Option("--max-cost", min=0, help="Stop before spending more (USD).")
]
AllowPrivateOpt = Annotated[
    bool, typer.Option("--allow-private", help="Allow URLs on loopback or private addresses.")
]
MaxBytesOpt = Annotated[
    int, typer.Option("--max-bytes", min=1, help="Largest URL body to download, in bytes.")
]
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar or summary.")]
OutputOpt = Annotated[
    Path | None, typer.Option("--output", "-o", help="Write here (atomically) instead of stdout.")
]

err = Console(stderr=True, highlight=False, soft_wrap=True)


def _fail(exc: BrieferError) -> typer.Exit:
    err.print(f"[bold red]error:[/] {escape(str(exc))}", markup=True, highlight=False)
    return typer.Exit(exc.exit_code)


class StderrProgress:
    """A rich progress bar on stderr, drawn only for a terminal."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled and err.is_terminal
        self._progress: object | None = None
        self._task: object | None = None

    def __enter__(self) -> StderrProgress:
        if self.enabled:
            from rich.progress import Progress

            progress = Progress(
                TextColumn("[progress.description]{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=err,
                transient=True,
            )
            progress.start()
            self._progress = progress
            self._task = progress.add_task("model calls", total=None)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._progress is not None:
            self._progress.stop()  # type: ignore[attr-defined]

    def expect(self, calls: int) -> None:
        if self._progress is not None:
            self._progress.update(self._task, total=calls)  # type: ignore[attr-defined]

    def call_started(self, request: LLMRequest) -> None:
        if self._progress is not None:
            self._progress.update(  # type: ignore[attr-defined]
                self._task, advance=1, description=f"{request.context.stage}"
            )


def _settings(
    model: str | None,
    *,
    base_url: str | None = None,
    replay: Path | None = None,
    record: Path | None = None,
    no_cache: bool = False,
    concurrency: int | None = None,
    max_cost: float | None = None,
) -> Settings:
    """Settings from defaults, config file and environment, with the flags given on top."""
    if replay is not None and record is not None:
        raise ConfigError("--replay and --record cannot be used together")
    if replay is not None and not replay.is_dir():
        raise ConfigError(f"--replay {replay}: no such directory of recordings")
    return load_settings(
        model=model,
        base_url=base_url,
        replay_dir=replay,
        record_dir=record,
        cache=False if no_cache else None,
        concurrency=concurrency,
        max_cost=max_cost,
    )


def _options(
    settings: Settings, allow_private: bool, max_bytes: int, **extra: object
) -> BriefOptions:
    from briefer.fetch import FetchPolicy

    return BriefOptions(
        model=settings.model,
        concurrency=settings.concurrency,
        max_cost=settings.max_cost,
        max_repairs=settings.max_repairs,
        prices=settings.price_table(),
        fetch=FetchPolicy(
            allow_private=allow_private,
            max_bytes=max_bytes,
            connect_timeout=min(5.0, settings.fetch_timeout),
            read_timeout=settings.fetch_timeout,
        ),
        **extra,  # type: ignore[arg-type]
    )


def _report_excluded(excluded: list[Excluded]) -> None:
    for item in excluded:
        err.print(f"[yellow]excluded:[/] {escape(item.input)}: {escape(item.reason)}", markup=True)


def _saved_in(client: LLMClient | None) -> str:
    """What an interrupted run leaves behind: where its replies were saved, if anywhere."""
    from briefer.llm.recording import CachingClient, RecordingClient

    places = []
    while isinstance(client, (CachingClient, RecordingClient)):
        places.append(str(client.store.directory))
        client = client.inner
    if not places:
        return "no reply was saved (no cache, no recording)"
    return (
        f"the replies received so far are saved in {' and '.join(places)}; "
        "run the same command again to go on from there"
    )


def _summary(briefing: Briefing, seconds: float) -> str:
    s, u = briefing.stats, briefing.usage
    cached = f", {u.cached_calls} from recordings/cache" if u.cached_calls else ""
    return (
        f"{s.documents} documents, {s.records} records ({s.grounded_share:.0%} grounded), "
        f"{len(briefing.events)} events, {len(briefing.stances)} stances; "
        f"{u.calls} calls{cached}, {u.prompt_tokens + u.completion_tokens:,} tokens, "
        f"${u.cost_usd:.4f}, {seconds:.1f} s; composed by "
        + ("the model" if briefing.composer == "llm" else "the deterministic composer")
    )


def _format_for(output: Path | None, fmt: Format | None) -> Format:
    from briefer.render import format_from_path

    if fmt is not None:
        return fmt
    if output is not None:
        guessed = format_from_path(output)
        if guessed is None:
            raise ConfigError(
                f"cannot tell the format of {output.name}; use --format markdown|json|html"
            )
        return guessed
    return "markdown"


@app.command()
def brief(
    sources: SourcesArg,
    output: OutputOpt = None,
    format: Annotated[
        Format | None, typer.Option("--format", "-f", help="Default: from -o, else markdown.")
    ] = None,
    date: Annotated[
        dt.datetime | None, typer.Option("--date", formats=["%Y-%m-%d"], help="Briefing date.")
    ] = None,
    title: Annotated[str | None, typer.Option("--title", help="Briefing title.")] = None,
    no_compose: Annotated[
        bool, typer.Option("--no-compose", help="Write with the deterministic composer only.")
    ] = False,
    keep_ungrounded: Annotated[
        bool, typer.Option("--keep-ungrounded", help="Keep records whose quotes are not found.")
    ] = False,
    model: ModelOpt = None,
    base_url: BaseUrlOpt = None,
    replay: ReplayOpt = None,
    record: RecordOpt = None,
    no_cache: NoCacheOpt = False,
    concurrency: ConcurrencyOpt = None,
    max_cost: MaxCostOpt = None,
    allow_private: AllowPrivateOpt = False,
    max_bytes: MaxBytesOpt = 5 * 1024 * 1024,
    quiet: QuietOpt = False,
) -> None:
    """Write a sourced briefing of SOURCES."""
    started = time.perf_counter()
    client: LLMClient | None = None
    try:
        fmt = _format_for(output, format)
        settings = _settings(
            model,
            base_url=base_url,
            replay=replay,
            record=record,
            no_cache=no_cache,
            concurrency=concurrency,
            max_cost=max_cost,
        )
        client = build_client(settings)
        options = _options(
            settings,
            allow_private,
            max_bytes,
            date=date.date() if date else None,
            title=title,
            compose=not no_compose,
            keep_ungrounded=keep_ungrounded,
        )
        with StderrProgress(enabled=not quiet) as progress:
            result = briefer.brief(
                sources, client=client, options=options, progress=progress, stdin=sys.stdin
            )
        _report_excluded(result.excluded)
        if not result.sources:
            raise BrieferError("no usable input: every source was excluded")
        write_output(output, briefer.render(result, fmt))
    except BrieferError as exc:
        raise _fail(exc) from None
    except KeyboardInterrupt:
        err.print(f"interrupted: {_saved_in(client)}", markup=False)
        raise typer.Exit(130) from None
    if not quiet:
        err.print(_summary(result, time.perf_counter() - started))
        for note in result.notes:
            err.print(f"note: {note}", markup=False)
    raise typer.Exit(3 if result.excluded else 0)


@app.command()
def extract(
    sources: SourcesArg,
    output: OutputOpt = None,
    keep_ungrounded: Annotated[
        bool, typer.Option("--keep-ungrounded", help="Keep records whose quotes are not found.")
    ] = False,
    model: ModelOpt = None,
    base_url: BaseUrlOpt = None,
    replay: ReplayOpt = None,
    record: RecordOpt = None,
    no_cache: NoCacheOpt = False,
    concurrency: ConcurrencyOpt = None,
    max_cost: MaxCostOpt = None,
    allow_private: AllowPrivateOpt = False,
    max_bytes: MaxBytesOpt = 5 * 1024 * 1024,
    quiet: QuietOpt = False,
) -> None:
    """Extract grounded event and stance records as JSON Lines."""
    client: LLMClient | None = None
    try:
        settings = _settings(
            model,
            base_url=base_url,
            replay=replay,
            record=record,
            no_cache=no_cache,
            concurrency=concurrency,
            max_cost=max_cost,
        )
        client = build_client(settings)
        options = _options(
            settings,
            allow_private,
            max_bytes,
            keep_ungrounded=keep_ungrounded,
            compose=False,
        )
        with StderrProgress(enabled=not quiet) as progress:
            outcome = briefer.extract(
                sources, client=client, options=options, progress=progress, stdin=sys.stdin
            )
        _report_excluded(outcome.excluded)
        if not outcome.documents:
            raise BrieferError("no usable input: every source was excluded")
        records = [*outcome.extraction.events, *outcome.extraction.stances]
        write_output(output, "".join(r.model_dump_json() + "\n" for r in records))
    except BrieferError as exc:
        raise _fail(exc) from None
    except KeyboardInterrupt:
        err.print(f"interrupted: {_saved_in(client)}", markup=False)
        raise typer.Exit(130) from None
    if not quiet:
        s = outcome.stats
        err.print(
            f"{s.documents} documents, {s.records} records, {s.records_grounded} grounded, "
            f"{s.records_dropped} dropped as ungrounded"
        )
    raise typer.Exit(3 if outcome.excluded else 0)


@app.command()
def estimate(
    sources: SourcesArg,
    model: ModelOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    allow_private: AllowPrivateOpt = False,
    max_bytes: MaxBytesOpt = 5 * 1024 * 1024,
) -> None:
    """Count tokens, chunks, calls and an approximate cost, without calling a model."""
    from briefer.estimate import estimate as run_estimate

    try:
        options = _options(_settings(model), allow_private, max_bytes)
        result = run_estimate(sources, options=options, stdin=sys.stdin)
    except BrieferError as exc:
        raise _fail(exc) from None
    _report_excluded(result.excluded)
    if as_json:
        sys.stdout.write(result.model_dump_json(indent=2) + "\n")
    else:
        from rich.table import Table

        table = Table("id", "title", "outlet", "date", "tokens", "chunks", box=None)
        for d in result.documents:
            title = d.title or ""
            table.add_row(
                d.id,
                title if len(title) <= 48 else title[:47] + "…",
                d.outlet or "",
                str(d.published or ""),
                f"{d.tokens:,}",
                str(d.chunks),
            )
        out = Console(highlight=False, width=max(120, Console().width))
        out.print(table)
        out.print(
            f"{len(result.documents)} documents, {result.tokens:,} tokens, {result.chunks} chunks; "
            f"a briefing makes {result.calls} calls, about {result.prompt_tokens:,} prompt and "
            f"{result.completion_tokens:,} completion tokens, ~${result.cost_usd:.4f} "
            f"with {result.model} ({result.note})"
        )
    if not result.documents:
        raise typer.Exit(1)
    raise typer.Exit(3 if result.excluded else 0)


@app.command()
def schema(
    name: Annotated[
        Literal["event", "stance", "briefing", "extraction", "compose", "recording"],
        typer.Argument(help="Which schema to print."),
    ],
) -> None:
    """Print a JSON Schema (draft 2020-12) of briefer's records."""
    from briefer._resources import read_resource

    sys.stdout.write(read_resource("schemas", f"{name}.schema.json"))


@app.command()
def render(
    briefing_json: Annotated[Path, typer.Argument(help="A briefing written with --format json.")],
    output: OutputOpt = None,
    format: Annotated[Format | None, typer.Option("--format", "-f")] = None,
) -> None:
    """Re-render a JSON briefing as markdown, json or html, with no model call."""
    try:
        fmt = _format_for(output, format)
        try:
            raw = briefing_json.read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"{briefing_json}: {exc.strerror or exc}") from None
        try:
            result = Briefing.model_validate(json.loads(raw))
        except (ValueError, TypeError) as exc:
            first = str(exc).splitlines()[0]
            raise ConfigError(f"{briefing_json}: not a briefing JSON file ({first})") from None
        write_output(output, briefer.render(result, fmt))
    except BrieferError as exc:
        raise _fail(exc) from None


def main() -> None:
    app()
