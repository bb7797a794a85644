"""The ``briefer`` command: parse options, call the library, print. Decisions live in the library.

stdout carries only the result (briefing, records, schema, estimate, settings); progress,
warnings and the summary go to stderr. Exit codes: 0 ok, 1 error (nothing usable), 2 usage or
configuration, 3 partial result (inputs excluded, a call failed), 75 pending (``--batch
--no-wait``: the batches are still running and nothing was written; run the same command
again later), 130 interrupted.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import logging
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal, TypeVar

import typer
from rich.console import Console
from rich.markup import escape

import briefer
from briefer._defaults import CONCURRENCY, MODEL, TIMEOUT
from briefer._files import write_output
from briefer.errors import (
    BrieferError,
    BudgetExceededError,
    ConfigError,
    NoRepliesError,
    first_line,
)

# The stages, and the settings (pydantic), are imported by the commands that run them:
# --help stays quick.
if TYPE_CHECKING:
    from briefer.llm.base import LLMClient, LLMRequest
    from briefer.models import Briefing, Excluded, Stats, Usage
    from briefer.pipeline import BriefOptions
    from briefer.settings import Settings
    from briefer.stories import Store

_CONFIG_NOTE = (
    "Settings come from defaults < the config file ($BRIEFER_CONFIG, else "
    "<user config dir>/briefer/config.toml) < BRIEFER_* variables < these flags; "
    "`briefer settings` shows each one and where it came from. The API key is read from "
    "$OPENAI_API_KEY (setting api_key_env) unless --api-key gives it."
)

app = typer.Typer(
    name="briefer",
    help="Turn a day's news articles into a sourced daily briefing.\n\n" + _CONFIG_NOTE,
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,  # a traceback must never print a key
    add_completion=False,
    rich_markup_mode=None,  # plain help: names and metavars, no type annotations
)

Format = Literal["markdown", "json", "html"]
R = TypeVar("R")


def _at_least(minimum: float) -> Any:
    """A typer callback refusing values below ``minimum``, with the option's name."""

    def check(ctx: typer.Context, param: typer.CallbackParam, value: float | None) -> Any:
        if value is not None and value < minimum:
            raise typer.BadParameter(f"must be at least {minimum:g}, not {value:g}")
        return value

    return check


SourcesArg = Annotated[list[str], typer.Argument(metavar="SOURCE", hidden=True, show_default=False)]
ModelOpt = Annotated[
    str | None,
    typer.Option("--model", "-m", metavar="MODEL", help=f"Model to call. [default: {MODEL}]"),
]
BaseUrlOpt = Annotated[
    str | None,
    typer.Option(
        "--base-url",
        metavar="URL",
        help="An OpenAI-compatible server, e.g. http://localhost:11434/v1 for Ollama, vLLM or "
        "llama.cpp. [default: OpenAI's API]",
    ),
]
ApiKeyOpt = Annotated[
    str | None,
    typer.Option(
        "--api-key",
        metavar="KEY",
        help="The API key itself. [default: read from $OPENAI_API_KEY; a server on this "
        "machine or a private network needs none]",
    ),
]
TimeoutOpt = Annotated[
    float | None,
    typer.Option(
        "--timeout",
        metavar="SECONDS",
        callback=_at_least(0.001),
        help=f"How long to wait for each model reply. [default: {TIMEOUT:g}]",
    ),
]
ReplayOpt = Annotated[
    Path | None,
    typer.Option(
        "--replay",
        metavar="DIR",
        help="Answer only from the recordings in DIR: no network, no key.",
    ),
]
RecordOpt = Annotated[
    Path | None,
    typer.Option(
        "--record",
        metavar="DIR",
        help="Save every reply the run uses in DIR (from the model or the cache), to replay later.",
    ),
]
NoCacheOpt = Annotated[
    bool,
    typer.Option("--no-cache", metavar="", help="Do not read or write the cache of replies."),
]
ConcurrencyOpt = Annotated[
    int | None,
    typer.Option(
        "--concurrency",
        "-j",
        metavar="N",
        callback=_at_least(1),
        help=f"Model calls in flight at once. [default: {CONCURRENCY}]",
    ),
]
MaxCostOpt = Annotated[
    float | None,
    typer.Option(
        "--max-cost",
        metavar="USD",
        callback=_at_least(0),
        help="Do not start a call that could take the spend past USD; cached and replayed "
        "replies are free.",
    ),
]
AllowPrivateOpt = Annotated[
    bool,
    typer.Option(
        "--allow-private", metavar="", help="Allow URLs on loopback or private addresses."
    ),
]
WindowOpt = Annotated[
    str,
    typer.Option(
        "--window",
        metavar="SPAN",
        help="Feed entries published within this span before now (before the end of --date's day "
        "for an earlier day): "
        "24h, 36h, 2d; 'all' reads every entry.",
    ),
]
AllowSummariesOpt = Annotated[
    bool,
    typer.Option(
        "--allow-summaries",
        metavar="",
        help="Brief a feed entry whose page is a snippet or a paywall or consent wall from the "
        "feed's summary, marked so, instead of leaving it out.",
    ),
]
MaxBytesOpt = Annotated[
    int,
    typer.Option(
        "--max-bytes",
        metavar="BYTES",
        callback=_at_least(1),
        help="Largest URL body to download. [default: 5 MiB]",
        show_default=False,
    ),
]
QuietOpt = Annotated[
    bool,
    typer.Option("--quiet", "-q", metavar="", help="No progress or summary (warnings still show)."),
]
VerboseOpt = Annotated[
    bool,
    typer.Option(
        "--verbose", "-v", metavar="", help="Say what is called, each retry and each wait."
    ),
]
OutputOpt = Annotated[
    Path | None,
    typer.Option(
        "--output", "-o", metavar="FILE", help="Write here (atomically) instead of stdout."
    ),
]
FormatOpt = Annotated[
    Format | None,
    typer.Option(
        "--format",
        "-f",
        metavar="FORMAT",
        help="markdown, json or html. [default: from the extension of -o, else markdown]",
    ),
]
StoreOpt = Annotated[
    Path | None,
    typer.Option(
        "--store",
        metavar="FILE",
        help="The story store (SQLite) that remembers earlier days. "
        "[default: $BRIEFER_STORE, else <user data dir>/briefer/stories.db]",
    ),
]
NoStoreOpt = Annotated[
    bool,
    typer.Option(
        "--no-store",
        metavar="",
        help="Use no story store: the run neither reads earlier days nor is kept.",
    ),
]
BatchOpt = Annotated[
    bool,
    typer.Option(
        "--batch",
        metavar="",
        help="Send the calls as OpenAI Batch API batches (half the price, replies within 24 h); "
        "run the same command again to go on from where it stopped. See docs/batch.md.",
    ),
]
NoWaitOpt = Annotated[
    bool,
    typer.Option(
        "--no-wait",
        metavar="",
        help="With --batch: submit, print the batches and exit 75 instead of waiting.",
    ),
]
BatchRepairOpt = Annotated[
    Literal["batch", "direct"] | None,
    typer.Option(
        "--batch-repair",
        metavar="batch|direct",
        help="With --batch: send repairs in another batch, or directly. [default: batch]",
    ),
]


def _day_option(flag: str, help: str) -> Any:
    """An option that takes a day, written YYYY-MM-DD."""
    return typer.Option(flag, formats=["%Y-%m-%d"], metavar="YYYY-MM-DD", help=help)


KeepUngroundedOpt = Annotated[
    bool,
    typer.Option(
        "--keep-ungrounded",
        metavar="",
        help="Also keep records none of whose quotes is in the article, marked unverified "
        "wherever they appear; records resting on text addressed to a model are never kept.",
    ),
]

err = Console(stderr=True, highlight=False, soft_wrap=True)

# Seconds between progress lines when stderr is not a terminal (a log, CI).
PROGRESS_INTERVAL = 5.0


def _version(value: bool) -> None:
    if value:
        sys.stdout.write(f"briefer {briefer.__version__}\n")
        raise typer.Exit(0)


@app.callback()
def _main(
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            metavar="",
            is_eager=True,
            callback=_version,
            help="Print briefer's version and exit.",
        ),
    ] = False,
) -> None:
    """Turn a day's news articles into a sourced daily briefing."""


def _fail(exc: BrieferError) -> typer.Exit:
    if getattr(exc, "pending", False):  # batches still running: not an error
        for batch in getattr(exc, "batches", []):
            err.print(f"batch {batch.line()}", markup=False)
        err.print(f"[yellow]pending:[/] {escape(str(exc))}", markup=True, highlight=False)
        return typer.Exit(exc.exit_code)
    err.print(f"[bold red]error:[/] {escape(str(exc))}", markup=True, highlight=False)
    return typer.Exit(exc.exit_code)


def _what(request: LLMRequest) -> str:
    ctx = request.context
    return ctx.stage + (f" of {ctx.chunk_id or ctx.source_id}" if ctx.source_id else "")


class StderrProgress:
    """Progress of the model calls on stderr, counted as they finish.

    On a terminal, a bar with the calls done, failed and an estimate of the time left; otherwise
    (a log, CI) a line every ``PROGRESS_INTERVAL`` seconds, so a run waiting on a server that
    never answers is never silent. Retries and their waits are said as they happen; with
    ``verbose``, so is every call.
    """

    def __init__(self, *, enabled: bool, verbose: bool = False) -> None:
        self.enabled = enabled
        self.verbose = verbose
        self.expected = 0
        self.done = 0
        self.failed = 0
        self.in_flight = 0
        self._started = time.monotonic()
        self._bar: Any = None
        self._task: Any = None
        self._stop = threading.Event()
        self._ticker: threading.Thread | None = None

    def __enter__(self) -> StderrProgress:
        self._started = time.monotonic()
        if not self.enabled:
            return self
        if err.is_terminal:
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
                TimeRemainingColumn,
            )

            self._bar = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("calls"),
                TimeElapsedColumn(),
                TextColumn("left"),
                TimeRemainingColumn(),
                console=err,
                transient=True,
            )
            self._bar.start()
            self._task = self._bar.add_task("model calls", total=None)
        else:
            self._ticker = threading.Thread(target=self._tick, name="briefer-progress", daemon=True)
            self._ticker.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._ticker is not None:
            self._ticker.join()
        if self._bar is not None:
            self._bar.stop()

    def line(self) -> str:
        """What the run is doing, in one line: calls done of expected, failed, time, ETA."""
        elapsed = time.monotonic() - self._started
        total = max(self.expected, self.done + self.in_flight)
        parts = [f"{self.done} of {total} model calls done"]
        if self.in_flight:
            parts.append(f"{self.in_flight} in flight")
        if self.failed:
            parts.append(f"{self.failed} failed")
        text = ", ".join(parts) + f"; {elapsed:.0f} s"
        if self.done and total > self.done:
            text += f", about {elapsed / self.done * (total - self.done):.0f} s left"
        return text

    def _tick(self) -> None:
        while not self._stop.wait(PROGRESS_INTERVAL):
            err.print(f"briefer: {self.line()}", markup=False)

    def say(self, text: str) -> None:
        if self.enabled or self.verbose:
            err.print(f"briefer: {text}", markup=False)

    def _redraw(self, description: str | None = None) -> None:
        if self._bar is not None:
            total = max(self.expected, self.done + self.in_flight)
            update: dict[str, Any] = {"total": total or None, "completed": self.done}
            if description is not None:
                update["description"] = description
            self._bar.update(self._task, **update)

    def expect(self, calls: int) -> None:
        self.expected = calls
        self._redraw()

    def call_started(self, request: LLMRequest) -> None:
        self.in_flight += 1
        if self.verbose:
            self.say(f"calling {request.model} for {_what(request)}")
        self._redraw(request.context.stage)

    def call_retrying(self, request: LLMRequest, reason: str, delay: float) -> None:
        self.say(f"{_what(request)}: {reason or 'the call failed'}; retrying in {delay:.1f} s")

    def call_finished(self, request: LLMRequest, error: BaseException | None) -> None:
        self.in_flight -= 1
        self.done += 1
        self.failed += error is not None
        if self.verbose:
            outcome = "ok" if error is None else f"failed: {first_line(error)}"
            self.say(f"{_what(request)}: {outcome}")
        self._redraw()

    def batch_status(self, text: str) -> None:
        """What the run's batches are doing (``--batch``), said as it changes."""
        self.say(text)
        self._redraw(text)

    def batch_round(self, number: int) -> None:
        """A run in batches asks its calls again in each round: the counts start over."""
        self.expected = self.done = self.failed = self.in_flight = 0
        self._redraw("model calls" if number == 1 else f"model calls, round {number}")


@contextlib.contextmanager
def _logging_to_stderr(verbose: bool) -> Iterator[None]:
    """With ``--verbose``, briefer's log (which server, fallbacks, retries) on stderr."""
    if not verbose:
        yield
        return
    logger = logging.getLogger("briefer")
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("briefer: %(message)s"))
    previous = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(previous)


def _settings(
    model: str | None,
    *,
    base_url: str | None = None,
    api_key: str | None = None,
    timeout: float | None = None,
    replay: Path | None = None,
    record: Path | None = None,
    no_cache: bool = False,
    concurrency: int | None = None,
    max_cost: float | None = None,
    store: Path | None = None,
    no_store: bool = False,
    batch: bool = False,
    no_wait: bool = False,
    batch_repair: str | None = None,
) -> Settings:
    """Settings from defaults, config file and environment, with the flags given on top."""
    if replay is not None and record is not None:
        raise ConfigError("--replay and --record cannot be used together")
    if (no_wait or batch_repair is not None) and not batch:
        raise ConfigError("--no-wait and --batch-repair go with --batch")
    if replay is not None and not replay.is_dir():
        raise ConfigError(f"--replay {replay}: no such directory of recordings")
    from briefer.settings import resolve_settings

    return resolve_settings(
        model=model,
        base_url=base_url,
        api_key=api_key,
        timeout=timeout,
        replay_dir=replay,
        record_dir=record,
        cache=False if no_cache else None,
        concurrency=concurrency,
        max_cost=max_cost,
        store=store,
        no_store=True if no_store else None,
        batch=True if batch else None,
        batch_wait=False if no_wait else None,
        batch_repair=batch_repair,
    )[0]


def window_span(text: str) -> dt.timedelta | None:
    """``--window``: "24h", "2d", "90m" or "all" (None: every entry), read as the settings
    read a window."""
    from briefer.settings import parse_span

    try:
        return parse_span(text)
    except ValueError as exc:
        raise ConfigError(f"--window: {exc}") from None


def _options(
    settings: Settings,
    allow_private: bool,
    max_bytes: int,
    *,
    window: str = "24h",
    allow_summaries: bool = False,
    **extra: object,
) -> BriefOptions:
    from briefer.pipeline import options_from

    return options_from(
        settings,
        allow_private=allow_private,
        max_bytes=max_bytes,
        window=window_span(window),
        allow_summaries=allow_summaries,
        **extra,
    )


def _skipped(item: Excluded) -> bool:
    """A file in a folder that is not an article: noted, not a partial result."""
    return item.skipped


def _report_excluded(excluded: list[Excluded]) -> None:
    for item in excluded:
        label = "skipped" if _skipped(item) else "excluded"
        err.print(f"[yellow]{label}:[/] {escape(item.input)}: {escape(item.reason)}", markup=True)


def _partial(excluded: list[Excluded]) -> bool:
    return any(not _skipped(item) for item in excluded)


def _saved_in(client: LLMClient | None) -> str:
    """What an interrupted run leaves behind: where its replies were saved, if anywhere."""
    from briefer.llm.recording import CachingClient, RecordingClient

    places = []
    while isinstance(client, (CachingClient, RecordingClient)):
        places.append(str(client.store.directory))
        client = client.inner
    places.reverse()  # the cache first: it is what the same command goes on from
    if not places:
        return "no reply was saved (no cache, no recording)"
    return (
        f"the replies received so far are saved in {' and '.join(places)}; "
        "run the same command again to go on from there"
    )


def _describe(client: LLMClient) -> str:
    """The client stack in words, for ``--verbose``: where calls go and what keeps replies."""
    parts = []
    while True:
        store = getattr(client, "store", None)
        endpoint = getattr(client, "endpoint", None)
        name = type(client).__name__
        if name == "RecordingClient" and store is not None:
            parts.append(f"recording every reply in {store.directory}")
        elif name == "CachingClient" and store is not None:
            parts.append(f"cache in {store.directory}")
        elif name == "ReplayClient" and store is not None:
            parts.append(f"replaying from {store.directory} (no network)")
        elif endpoint is not None:
            parts.append(f"calling {getattr(endpoint, 'name', endpoint)}")
        else:
            parts.append(f"calling {name}")
        inner = getattr(client, "inner", None)
        if inner is None:
            return "; ".join(parts)
        client = inner


def _calls(usage: Usage) -> str:
    """The calls of a run, honestly: answered (from where), failed, retried."""
    text = f"{usage.calls} calls"
    extra = []
    if usage.cached_calls:
        extra.append(f"{usage.cached_calls} from recordings/cache")
    if usage.failed:
        extra.append(f"{usage.failed} failed")
    if usage.retries:
        extra.append(f"{usage.retries} retries")
    if extra:
        text += f" ({', '.join(extra)})"
    return text


def _count(n: int, word: str, plural: str | None = None) -> str:
    return f"{n} {word if n == 1 else plural or word + 's'}"


def _records(stats: Stats) -> str:
    if not stats.records:
        return "no records"
    return f"{stats.records} records ({stats.grounded_share:.0%} grounded)"


def _summary(briefing: Briefing, seconds: float) -> str:
    s, u = briefing.stats, briefing.usage
    if briefing.period_start is not None:
        told = [
            _count(len(briefing.events), "story", "stories"),
            _count(len(briefing.stances), "stance"),
            _count(len(briefing.sources), "source"),
        ]
        return (
            f"a review of {briefing.period_start} to {briefing.date} from the story store: "
            f"{', '.join(told)}; {_calls(u)}, {seconds:.1f} s; composed by "
            + ("the model" if briefing.composer == "llm" else "the deterministic composer")
        )
    return (
        f"{_count(s.documents, 'document')}, {_records(s)}, "
        f"{_count(len(briefing.events), 'event')}, {_count(len(briefing.stances), 'stance')}; "
        f"{_calls(u)}, {u.prompt_tokens + u.completion_tokens:,} tokens, "
        f"${u.cost_usd:.4f}, {seconds:.1f} s; composed by "
        + ("the model" if briefing.composer == "llm" else "the deterministic composer")
    )


def _format_for(output: Path | None, fmt: Format | None) -> Format:
    from briefer.rendering import format_from_path

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


class _ModelRun:
    """What ``brief`` and ``extract`` share: the settings their flags give, the client those
    describe, progress while the work runs, and how a failure or an interrupt ends it."""

    def __init__(
        self,
        model: str | None,
        base_url: str | None,
        api_key: str | None,
        timeout: float | None,
        replay: Path | None,
        record: Path | None,
        no_cache: bool,
        concurrency: int | None,
        max_cost: float | None,
        store: Path | None = None,
        no_store: bool = False,
        *,
        batch: bool = False,
        no_wait: bool = False,
        batch_repair: str | None = None,
        run_label: str = "",
    ) -> None:
        self._run_label = run_label
        self._settings: Callable[[], Settings] = lambda: _settings(
            model,
            base_url=base_url,
            api_key=api_key,
            timeout=timeout,
            replay=replay,
            record=record,
            no_cache=no_cache,
            concurrency=concurrency,
            max_cost=max_cost,
            store=store,
            no_store=no_store,
            batch=batch,
            no_wait=no_wait,
            batch_repair=batch_repair,
        )
        self._client: LLMClient | None = None
        self._model = model or ""
        self.store: Store | None = None

    @property
    def client(self) -> LLMClient:
        assert self._client is not None, "start() first"
        return self._client

    def start(
        self,
        allow_private: bool,
        max_bytes: int,
        *,
        with_store: bool = False,
        window: str = "24h",
        allow_summaries: bool = False,
        **extra: object,
    ) -> BriefOptions:
        """Settings, the client they describe and the run's options; with ``with_store``, the
        story store opened (before any call: a store that cannot be used fails the run first)."""
        settings = self._settings()
        from briefer.settings import build_client

        self._client = build_client(settings)
        self._model = settings.model
        if settings.batch:
            from briefer.llm import find_batch_client

            batch = find_batch_client(self._client)
            if batch is not None:
                batch.run_label = self._run_label
        if with_store:
            self.store = _open_store(settings)
            extra["store"] = self.store
        return _options(
            settings,
            allow_private,
            max_bytes,
            window=window,
            allow_summaries=allow_summaries,
            **extra,
        )

    def call(self, work: Callable[[StderrProgress], R], *, quiet: bool, verbose: bool) -> R:
        """``work`` with progress on stderr (and briefer's log, with ``--verbose``). A run in
        which no call was answered ends here: what was left out, then the one-line cause."""
        with (
            _logging_to_stderr(verbose),
            StderrProgress(enabled=not quiet, verbose=verbose) as progress,
        ):
            if verbose:
                progress.say(f"model {self._model}; {_describe(self.client)}")
            try:
                return work(progress)
            except (NoRepliesError, BudgetExceededError) as exc:
                _report_excluded(exc.excluded)
                raise _fail(exc) from None

    @contextlib.contextmanager
    def failing_cleanly(self) -> Iterator[None]:
        """An expected failure is one line and its exit code; Ctrl-C says what was saved."""
        try:
            yield
        except BrieferError as exc:
            raise _fail(exc) from None
        except KeyboardInterrupt:
            err.print(f"interrupted: {_saved_in(self._client)}", markup=False)
            raise typer.Exit(130) from None
        finally:
            if self.store is not None:
                self.store.close()


def _run_label(command: str, sources: list[str]) -> str:
    """The run as a batch's metadata names it."""
    return " ".join(["briefer", command, *sources])[:500]


def _open_store(settings: Settings) -> Store | None:
    """The story store the settings name, opened (and migrated); None when it is off."""
    path = settings.store_path()
    if path is None:
        return None
    from briefer.stories import Store

    return Store(path)


def _refuse_nothing_usable(
    excluded: list[Excluded],
    *,
    documents: int,
    notes: list[str],
    stats: Stats,
    records: int,
    model: str,
) -> None:
    """Say what was left out and noted; raise when the run has nothing to write, so that an
    empty result never replaces a previous output."""
    _report_excluded(excluded)
    if not documents:
        raise BrieferError("no usable input: every source was excluded")
    for note in notes:
        err.print(f"note: {note}", markup=False)
    from briefer.pipeline import nothing_usable

    problem = nothing_usable(stats, records, model)
    if problem is not None:
        raise BrieferError(f"{problem}; nothing was written")


@app.command(epilog=_CONFIG_NOTE)
def brief(
    sources: Annotated[
        list[str] | None,
        typer.Argument(metavar="SOURCE", hidden=True, show_default=False),
    ] = None,
    output: OutputOpt = None,
    format: FormatOpt = None,
    date: Annotated[
        dt.datetime | None,
        _day_option("--date", "The briefing's date. [default: the newest article's]"),
    ] = None,
    title: Annotated[
        str | None,
        typer.Option("--title", metavar="TEXT", help="The briefing's title."),
    ] = None,
    no_compose: Annotated[
        bool,
        typer.Option(
            "--no-compose",
            metavar="",
            help="Write with the deterministic composer only: no composition call.",
        ),
    ] = False,
    only_new: Annotated[
        bool,
        typer.Option(
            "--only-new",
            metavar="",
            help="Leave out the stories reported again with nothing new since the last briefing.",
        ),
    ] = False,
    since: Annotated[
        dt.datetime | None,
        _day_option(
            "--since",
            "Review the stored days from this one to --date (else the last stored day), "
            "from the store alone: no SOURCE, and no model call unless --compose.",
        ),
    ] = None,
    days: Annotated[
        int | None,
        typer.Option("--days", metavar="N", help="Review the last N stored days (as --since)."),
    ] = None,
    compose: Annotated[
        bool,
        typer.Option(
            "--compose", metavar="", help="A review (--since, --days) composed by the model."
        ),
    ] = False,
    keep_ungrounded: KeepUngroundedOpt = False,
    model: ModelOpt = None,
    base_url: BaseUrlOpt = None,
    api_key: ApiKeyOpt = None,
    timeout: TimeoutOpt = None,
    replay: ReplayOpt = None,
    record: RecordOpt = None,
    no_cache: NoCacheOpt = False,
    concurrency: ConcurrencyOpt = None,
    max_cost: MaxCostOpt = None,
    batch: BatchOpt = False,
    no_wait: NoWaitOpt = False,
    batch_repair: BatchRepairOpt = None,
    store: StoreOpt = None,
    no_store: NoStoreOpt = False,
    allow_private: AllowPrivateOpt = False,
    window: WindowOpt = "24h",
    allow_summaries: AllowSummariesOpt = False,
    max_bytes: MaxBytesOpt = 5 * 1024 * 1024,
    quiet: QuietOpt = False,
    verbose: VerboseOpt = False,
) -> None:
    """Write a sourced briefing of SOURCE... (files, folders, http(s) URLs, or - for stdin);
    with --since or --days, a review of the stored days. With --batch, the calls go in
    batches; exit 75 when they are still running (--no-wait)."""
    started = time.perf_counter()
    if batch and (since is not None or days is not None):
        raise _fail(ConfigError("a review makes at most two calls: drop --batch"))
    run = _ModelRun(
        model,
        base_url,
        api_key,
        timeout,
        replay,
        record,
        no_cache,
        concurrency,
        max_cost,
        store=store,
        no_store=no_store,
        batch=batch,
        no_wait=no_wait,
        batch_repair=batch_repair,
        run_label=_run_label("brief", sources or []),
    )
    reviewing = since is not None or days is not None
    with run.failing_cleanly():
        fmt = _format_for(output, format)
        if reviewing and sources:
            raise ConfigError("--since and --days review the store: give no SOURCE with them")
        if since is not None and days is not None:
            raise ConfigError("give --since or --days, not both")
        if days is not None and days < 1:
            raise ConfigError(f"--days must be at least 1, not {days}")
        if not reviewing and not sources:
            raise ConfigError("give one or more SOURCE (files, folders, URLs, or - for stdin)")
        if compose and not reviewing:
            raise ConfigError("--compose is for a review (--since, --days); a briefing composes")
        options = run.start(
            allow_private,
            max_bytes,
            with_store=True,
            window=window,
            allow_summaries=allow_summaries,
            date=date.date() if date else None,
            title=title,
            compose=compose if reviewing else not no_compose,
            keep_ungrounded=keep_ungrounded,
            only_new=only_new,
        )
        if reviewing:
            result = _review(run, options, since, days, quiet=quiet, verbose=verbose)
        else:
            result = _brief(run, options, sources or [], output, fmt, quiet=quiet, verbose=verbose)
        write_output(output, briefer.render(result, fmt))
    if not quiet:
        err.print(_summary(result, time.perf_counter() - started))
    raise typer.Exit(3 if _partial(result.excluded) else 0)


def _brief(
    run: _ModelRun,
    options: BriefOptions,
    sources: list[str],
    output: Path | None,
    fmt: Format,
    *,
    quiet: bool,
    verbose: bool,
) -> Briefing:
    """The day's briefing. A briefing made but not kept in the store is still written, and the
    store's error said after it."""
    from briefer.errors import StoreError

    try:
        result = run.call(
            lambda progress: briefer.brief(
                sources, client=run.client, options=options, progress=progress, stdin=sys.stdin
            ),
            quiet=quiet,
            verbose=verbose,
        )
    except StoreError as exc:
        made = exc.briefing
        if made is not None:
            write_output(output, briefer.render(made, fmt))  # type: ignore[arg-type]
            err.print("the briefing was written, but not kept in the story store", markup=False)
        raise
    _refuse_nothing_usable(
        result.excluded,
        documents=len(result.sources),
        notes=result.notes,
        stats=result.stats,
        records=len(result.events) + len(result.stances),
        model=result.model,
    )
    return result


def _review(
    run: _ModelRun,
    options: BriefOptions,
    since: dt.datetime | None,
    days: int | None,
    *,
    quiet: bool,
    verbose: bool,
) -> Briefing:
    """A review of stored days, from the store alone."""
    from briefer.pipeline import review

    store = run.store
    if store is None:
        raise ConfigError("a review (--since, --days) reads the story store: drop --no-store")
    stored_days = [b.day for b in store.briefings()]
    until = options.date or (max(stored_days) if stored_days else None)
    if until is None:
        raise ConfigError(f"the story store {store.path} holds no briefing yet: nothing to review")
    first = since.date() if since is not None else until - dt.timedelta(days=(days or 1) - 1)
    if first > until:
        raise ConfigError(f"--since {first} is after the last day reviewed, {until}")
    result = run.call(
        lambda progress: review(
            store,
            first,
            until,
            client=run.client if options.compose else None,
            options=options,
            progress=progress,
        ),
        quiet=quiet,
        verbose=verbose,
    )
    if not result.events and not result.stances:
        raise BrieferError(f"the story store holds nothing from {first} to {until}")
    return result


@app.command(epilog=_CONFIG_NOTE)
def extract(
    sources: SourcesArg,
    output: OutputOpt = None,
    keep_ungrounded: KeepUngroundedOpt = False,
    model: ModelOpt = None,
    base_url: BaseUrlOpt = None,
    api_key: ApiKeyOpt = None,
    timeout: TimeoutOpt = None,
    replay: ReplayOpt = None,
    record: RecordOpt = None,
    no_cache: NoCacheOpt = False,
    concurrency: ConcurrencyOpt = None,
    max_cost: MaxCostOpt = None,
    batch: BatchOpt = False,
    no_wait: NoWaitOpt = False,
    batch_repair: BatchRepairOpt = None,
    allow_private: AllowPrivateOpt = False,
    window: WindowOpt = "24h",
    allow_summaries: AllowSummariesOpt = False,
    max_bytes: MaxBytesOpt = 5 * 1024 * 1024,
    quiet: QuietOpt = False,
    verbose: VerboseOpt = False,
) -> None:
    """Extract the grounded event and stance records of SOURCE... as JSON Lines. With
    --batch, the calls go in batches; exit 75 when they are still running (--no-wait)."""
    run = _ModelRun(
        model,
        base_url,
        api_key,
        timeout,
        replay,
        record,
        no_cache,
        concurrency,
        max_cost,
        batch=batch,
        no_wait=no_wait,
        batch_repair=batch_repair,
        run_label=_run_label("extract", sources),
    )
    with run.failing_cleanly():
        options = run.start(
            allow_private,
            max_bytes,
            keep_ungrounded=keep_ungrounded,
            window=window,
            allow_summaries=allow_summaries,
            compose=False,
        )
        outcome = run.call(
            lambda progress: briefer.extract(
                sources, client=run.client, options=options, progress=progress, stdin=sys.stdin
            ),
            quiet=quiet,
            verbose=verbose,
        )
        records = [*outcome.extraction.events, *outcome.extraction.stances]
        _refuse_nothing_usable(
            outcome.excluded,
            documents=len(outcome.documents),
            notes=outcome.notes,
            stats=outcome.stats,
            records=len(records),
            model=options.model,
        )
        write_output(output, "".join(r.model_dump_json() + "\n" for r in records))
    if not quiet:
        s = outcome.stats
        err.print(
            f"{s.documents} documents, {_records(s)}, {s.records_grounded} grounded, "
            f"{s.records_dropped} dropped as ungrounded; "
            f"{_calls(outcome.runner.usage.snapshot())}"
        )
    raise typer.Exit(3 if _partial(outcome.excluded) else 0)


def _stored(store: Path | None) -> Store:
    """The story store the settings name, for a command that only reads it."""
    settings = _settings(None, store=store)
    path = settings.store_path()
    if path is None:
        raise ConfigError("the story store is off (BRIEFER_NO_STORE): there are no stories to show")
    if not path.exists():
        raise ConfigError(
            f"no story store at {path}: `briefer brief` keeps one there, or pass --store FILE"
        )
    from briefer.stories import Store

    return Store(path)


# Beyond this many stories, ``briefer stories`` prints tab-separated lines, not a table.
_TABLE_ROWS = 200


@app.command()
def stories(
    text: Annotated[
        str | None,
        typer.Argument(
            metavar="[TEXT]",
            help="Only stories whose title, actors or quotes contain TEXT.",
            show_default=False,
        ),
    ] = None,
    since: Annotated[
        dt.datetime | None,
        _day_option("--since", "Active on this day or later."),
    ] = None,
    until: Annotated[
        dt.datetime | None,
        _day_option("--until", "Active on this day or earlier."),
    ] = None,
    limit: Annotated[
        int,
        typer.Option(
            "--limit",
            "-n",
            metavar="N",
            help="The N most recently active stories; 0 for all (over 200: tab-separated lines).",
        ),
    ] = 50,
    as_json: Annotated[
        bool, typer.Option("--json", metavar="", help="One JSON object per line.")
    ] = False,
    store: StoreOpt = None,
) -> None:
    """List the stories of the story store, the most recently active first."""
    try:
        if limit < 0:
            raise ConfigError(f"--limit must be 0 (all) or more, not {limit}")
        with _stored(store) as opened:
            found = opened.stories(
                since=since.date() if since else None,
                until=until.date() if until else None,
                text=text,
                limit=limit or None,
            )
    except BrieferError as exc:
        raise _fail(exc) from None
    if as_json:
        sys.stdout.write("".join(f.model_dump_json() + "\n" for f in found))
        return
    if not found:
        err.print("no story matches", markup=False)
        return
    if len(found) > _TABLE_ROWS:
        # A table lays out every row before it prints one: a long list goes out line by line.
        sys.stdout.writelines(
            "\t".join(
                [
                    s.id[:8],
                    str(s.first_day),
                    str(s.last_day),
                    str(s.days),
                    s.title,
                    ", ".join(s.outlets),
                    str(s.open_conflicts),
                    s.last_change or "",
                ]
            )
            + "\n"
            for s in found
        )
        return
    from rich.table import Table

    table = Table(box=None, pad_edge=False)
    table.add_column("id", no_wrap=True)
    table.add_column("story", min_width=24, max_width=44)
    table.add_column("first", no_wrap=True)
    table.add_column("last", no_wrap=True)
    table.add_column("days", justify="right")
    table.add_column("outlets", min_width=14, max_width=28)
    table.add_column("conflicts", justify="right")
    table.add_column("last change", min_width=20, max_width=36)
    for story in found:
        table.add_row(
            story.id[:8],
            story.title,
            str(story.first_day),
            str(story.last_day),
            str(story.days),
            ", ".join(story.outlets),
            str(story.open_conflicts or ""),
            story.last_change or "",
        )
    Console(highlight=False, width=max(120, Console().width)).print(table)


@app.command()
def story(
    story_id: Annotated[
        str,
        typer.Argument(metavar="ID", help="A story's id, or the start of it (briefer stories)."),
    ],
    output: OutputOpt = None,
    format: FormatOpt = None,
    store: StoreOpt = None,
) -> None:
    """Show one story's timeline, day by day, with its citations."""
    from briefer.rendering import render_story

    try:
        fmt = _format_for(output, format)
        with _stored(store) as opened:
            try:
                timeline = opened.story(story_id)
            except LookupError as exc:
                raise ConfigError(str(exc.args[0]) if exc.args else str(exc)) from None
        write_output(output, render_story(timeline, fmt))
    except BrieferError as exc:
        raise _fail(exc) from None


@app.command(epilog=_CONFIG_NOTE)
def estimate(
    sources: SourcesArg,
    model: ModelOpt = None,
    as_json: Annotated[
        bool, typer.Option("--json", metavar="", help="Print one JSON object.")
    ] = False,
    allow_private: AllowPrivateOpt = False,
    window: WindowOpt = "24h",
    allow_summaries: AllowSummariesOpt = False,
    max_bytes: MaxBytesOpt = 5 * 1024 * 1024,
    batch: Annotated[
        bool,
        typer.Option("--batch", metavar="", help="Also say what the run costs in batches."),
    ] = False,
) -> None:
    """Count the tokens, chunks and calls a briefing of SOURCE... takes and what it would cost,
    without calling a model (the same estimate --max-cost reserves with); with --batch, its
    price in batches beside the direct one."""
    from briefer.estimate import estimate as run_estimate

    try:
        options = _options(
            _settings(model),
            allow_private,
            max_bytes,
            window=window,
            allow_summaries=allow_summaries,
        )
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
            + (f"direct, ~${result.batch_cost_usd:.4f} in batches, " if batch else "")
            + f"with {result.model} ({result.note})"
        )
    if not result.documents:
        raise typer.Exit(1)
    raise typer.Exit(3 if _partial(result.excluded) else 0)


@app.command()
def schema(
    name: Annotated[
        Literal["event", "stance", "briefing", "extraction", "compose", "recording", "story"],
        typer.Argument(
            metavar="NAME",
            help="event, stance, briefing, extraction, compose, recording or story.",
            show_default=False,
        ),
    ],
) -> None:
    """Print the JSON Schema (draft 2020-12) of one of briefer's records: NAME is event,
    stance, briefing, extraction, compose, recording or story."""
    from briefer._resources import read_resource

    sys.stdout.write(read_resource("schemas", f"{name}.schema.json"))


@app.command()
def render(
    briefing_json: Annotated[
        Path, typer.Argument(metavar="BRIEFING.json", hidden=True, show_default=False)
    ],
    output: OutputOpt = None,
    format: FormatOpt = None,
) -> None:
    """Re-render BRIEFING.json (written with --format json) as markdown, json or html, with no
    model call."""
    try:
        fmt = _format_for(output, format)
        try:
            raw = briefing_json.read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"{briefing_json}: {exc.strerror or exc}") from None
        try:
            from briefer.models import Briefing

            result = Briefing.model_validate(json.loads(raw))
        except (ValueError, TypeError) as exc:
            raise ConfigError(
                f"{briefing_json}: not a briefing JSON file ({first_line(exc)})"
            ) from None
        write_output(output, briefer.render(result, fmt))
    except BrieferError as exc:
        raise _fail(exc) from None


def _shown(name: str, value: object) -> str:
    if name == "cache_dir" and value is None:
        from briefer.llm.store import default_cache_dir

        return str(default_cache_dir())
    if value is None:
        return "(not set)"
    if name == "prices":
        return json.dumps(value, sort_keys=True) if value else "(built-in table)"
    return str(value)


@app.command("settings")
def show_settings(
    as_json: Annotated[
        bool, typer.Option("--json", metavar="", help="Print one JSON object.")
    ] = False,
) -> None:
    """Show the settings in force and where each came from (default, config file, variable);
    the API key is never shown, only whether it is set."""
    import os

    from briefer.settings import config_path, resolve_settings

    try:
        settings, origins = resolve_settings()
    except BrieferError as exc:
        raise _fail(exc) from None
    values = settings.model_dump(mode="json", exclude={"api_key"})
    rows = {name: {"value": values[name], "from": origins.get(name, "default")} for name in values}
    from briefer.llm.openai import is_local_server

    key_state = "set" if os.environ.get(settings.api_key_env, "").strip() else "not set"
    needless = key_state == "not set" and is_local_server(settings.base_url)
    path = config_path()
    extra = {
        "config_file": {"value": str(path), "exists": path.is_file()},
        "api_key": {"value": key_state, "from": settings.api_key_env},
    }
    if as_json:
        sys.stdout.write(json.dumps({"settings": rows, **extra}, indent=2) + "\n")
        return
    width = max(len(n) for n in rows)
    lines = [
        f"{'config file':<{width}}  {path}" + ("" if path.is_file() else " (none)"),
        f"{'api key':<{width}}  {key_state} (read from ${settings.api_key_env})"
        + ("; a server on this machine or a private network needs none" if needless else ""),
    ]
    lines += [
        f"{name:<{width}}  {_shown(name, row['value'])}  [{row['from']}]"
        for name, row in rows.items()
    ]
    sys.stdout.write("\n".join(lines) + "\n")


@app.command()
def daily(
    config: Annotated[
        Path | None,
        typer.Option(
            "--config",
            "-c",
            metavar="FILE",
            help="The config file whose [daily] table names the day's sources, the output "
            "folder and the mail. [default: $BRIEFER_CONFIG, else <user config dir>/briefer/"
            "config.toml]",
        ),
    ] = None,
    date: Annotated[
        dt.datetime | None,
        _day_option("--date", "The day to brief. [default: today]"),
    ] = None,
    force: Annotated[
        bool,
        typer.Option(
            "--force", metavar="", help="Run a day done already again: rewrite it, mail it again."
        ),
    ] = False,
    no_mail: Annotated[
        bool,
        typer.Option("--no-mail", metavar="", help="Send no mail, whatever [daily.mail] says."),
    ] = False,
    quiet: QuietOpt = False,
    verbose: VerboseOpt = False,
) -> None:
    """Run the day for a schedule (cron, a systemd timer): brief the [daily] sources into
    OUT/<day>.{md,html,json}, update OUT/index.html and OUT/briefings.atom, mail it. A day done
    already changes nothing unless --force. Exit 0 done, 1 nothing usable (nothing written),
    2 configuration or another run of the day under way, 3 partial (an input left out, the mail
    not sent)."""
    from briefer.daily import run_day
    from briefer.settings import load_settings, resolve_daily_settings

    started = time.perf_counter()
    try:
        daily_settings = resolve_daily_settings(
            config_file=config, mail=False if no_mail else None
        )[0]
        settings = load_settings(config_file=config)
        with (
            _logging_to_stderr(verbose),
            StderrProgress(enabled=not quiet, verbose=verbose) as progress,
        ):
            report = run_day(
                daily_settings,
                settings,
                day=date.date() if date else None,
                force=force,
                progress=progress,
            )
    except BrieferError as exc:
        _report_excluded(getattr(exc, "excluded", []))
        raise _fail(exc) from None
    except KeyboardInterrupt:
        err.print("interrupted: run `briefer daily` again to finish the day", markup=False)
        raise typer.Exit(130) from None
    _report_excluded(report.excluded)
    for note in report.briefing.notes if report.briefed else []:
        err.print(f"note: {note}", markup=False)
    for problem in report.problems:
        err.print(f"[yellow]warning:[/] {escape(problem)}", markup=True)
    if not quiet:
        if report.briefed:
            err.print(_summary(report.briefing, time.perf_counter() - started))
        else:
            err.print(
                f"{report.day} is done already in {report.out}: no model call; --force runs "
                "it again",
                markup=False,
            )
        if report.written:
            names = ", ".join(path.name for path in report.written)
            err.print(f"wrote {names} in {report.out}", markup=False)
        if report.mailed_to:
            err.print(f"mailed to {', '.join(report.mailed_to)}", markup=False)
    raise typer.Exit(report.exit_code)


batch_app = typer.Typer(
    name="batch",
    help="Run a day's calls on another engine: export the requests as Batch API lines (for "
    "vLLM's run-batch), import its replies into the cache. See docs/batch.md.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
)
app.add_typer(batch_app, name="batch")


@batch_app.command("export", epilog=_CONFIG_NOTE)
def batch_export(
    sources: SourcesArg,
    output: Annotated[
        Path,
        typer.Option(
            "--output", "-o", metavar="FILE", help="The requests, as JSON Lines (atomically)."
        ),
    ],
    no_compose: Annotated[
        bool,
        typer.Option("--no-compose", metavar="", help="As brief --no-compose: no composition."),
    ] = False,
    model: ModelOpt = None,
    base_url: BaseUrlOpt = None,
    store: StoreOpt = None,
    no_store: NoStoreOpt = False,
    allow_private: AllowPrivateOpt = False,
    max_bytes: MaxBytesOpt = 5 * 1024 * 1024,
    quiet: QuietOpt = False,
    verbose: VerboseOpt = False,
) -> None:
    """Write the requests a briefing of SOURCE... still needs (not in the cache) to FILE, as
    the JSON Lines vllm run-batch takes. Give the model (and base URL) brief will use. Run
    them, import the output, and export again until nothing is left: then brief makes no
    call. Exit 0 whether FILE was written or nothing was left (then FILE is not written)."""
    from briefer.llm import BatchPendingError, find_batch_client

    run = _ModelRun(
        model, base_url, None, None, None, None, False, None, None, store, no_store, batch=True
    )
    with run.failing_cleanly():
        options = run.start(allow_private, max_bytes, with_store=True, compose=not no_compose)
        found = find_batch_client(run.client)
        assert found is not None
        found.export_to = output
        try:
            run.call(
                lambda progress: briefer.brief(
                    sources, client=run.client, options=options, progress=progress
                ),
                quiet=True,
                verbose=verbose,
            )
        except BatchPendingError as exc:
            if not quiet:
                err.print(str(exc), markup=False)
            raise typer.Exit(0) from None
    if not quiet:
        err.print(
            "nothing to export: every request of this briefing is answered in the cache; "
            f"briefer brief makes no call (and {output} was not written)",
            markup=False,
        )


@batch_app.command("import")
def batch_import(
    results: Annotated[Path, typer.Argument(metavar="OUTPUT.jsonl", help="What run-batch wrote.")],
    quiet: QuietOpt = False,
) -> None:
    """Load the replies in OUTPUT.jsonl (vllm run-batch's output, or a Batch API output or
    error file) into the cache, each under the exported request its custom_id names. A line
    with an error is listed and not loaded. Exit 0 all loaded, 3 some lines failed, 1 none."""
    from briefer.llm import RecordingStore, default_cache_dir, import_results

    try:
        settings = _settings(None)
        if not settings.cache:
            raise ConfigError("the replies are imported into the cache: BRIEFER_CACHE is off")
        cache = (settings.cache_dir or default_cache_dir()).expanduser()
        report = import_results(results, RecordingStore(cache), cache / "batches")
    except BrieferError as exc:
        raise _fail(exc) from None
    for key, reason in report.failed:
        err.print(f"[yellow]excluded:[/] {escape(key)}: {escape(reason)}", markup=True)
    for key in report.unknown:
        err.print(
            f"[yellow]excluded:[/] {escape(key)}: no exported request has this custom_id "
            "(exported with another cache, or imported already)",
            markup=True,
        )
    problems = len(report.failed) + len(report.unknown)
    if not quiet:
        err.print(
            f"imported {report.stored} replies into {cache}"
            + (f"; {problems} lines not imported" if problems else ""),
            markup=False,
        )
    if problems:
        raise typer.Exit(3 if report.stored else 1)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
