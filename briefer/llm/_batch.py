"""The batch client: a run's calls answered by batches (the OpenAI Batch API, or another engine
through exported files) instead of one request each.

How a run goes through batches (``BatchClient.run``), in passes of the same run:

1. The run is made, and every call the cache cannot answer is queued: its request line is
   written to disk at once (``_batch_files.PartWriter``) and the call raises
   ``ReplyPendingError``, which the pipeline treats as a call that did not answer (the run's
   result is thrown away, and it stops before composing when an extraction is pending).
2. The queued lines are cut into files of at most 50,000 requests and 200 MB, uploaded
   (``purpose="batch"``) and submitted (``completion_window="24h"``, metadata naming briefer
   and the run). What was submitted is kept under ``state_dir`` (``submissions/<id>/``: the
   keys of each file and the batch's id) before and after each step, so a run killed at any
   point is picked up by the next: a request already in a batch is never submitted again.
3. The batches are polled with growing waits until they end (or, without ``wait``, once:
   ``BatchPendingError`` says which batches are running). Their output and error files are
   downloaded and indexed by ``custom_id``, the request's key; never by line order.
4. The run is made again: each call is answered from the downloaded replies (``origin=
   "batch"``; stored in the cache as it is used, and in recordings by a ``RecordingClient``
   above), validated like any reply. Repairs and composition make new calls: the next round.
   A request whose line failed, or whose batch expired, failed or was cancelled, fails in this
   run (an excluded line with the reason) and is submitted again by the next run.

When a run ends with nothing pending, the submissions it used are deleted: their replies are
in the cache. ``repairs="direct"`` sends calls that carry an earlier reply (schema repairs,
composition's follow-up) straight to the endpoint instead of waiting for another batch.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import logging
import shutil
import uuid
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Literal, Protocol, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from briefer._files import write_atomic
from briefer.errors import (
    BrieferError,
    ConfigError,
    LLMError,
    LLMTimeoutError,
    RateLimitError,
    ServerError,
    first_line,
)
from briefer.llm._batch_files import (
    BatchLimits,
    PartFile,
    PartWriter,
    read_keys,
    read_line_at,
    read_result_line,
    request_line,
    scan_results,
)
from briefer.llm._pending import BatchPendingError, BatchState, ReplyPendingError
from briefer.llm.base import LLMClient, LLMRequest, LLMResponse, bind_request
from briefer.llm.openai import OpenAIClient, build_params
from briefer.llm.recording import CachingClient
from briefer.llm.store import Recording, RecordingStore

__all__ = [
    "BatchClient",
    "BatchEngine",
    "ImportReport",
    "OpenAIBatchEngine",
    "RepairRoute",
    "find_batch_client",
    "import_results",
    "run_in_batches",
]

log = logging.getLogger(__name__)

T = TypeVar("T")
RepairRoute = Literal["batch", "direct"]

# A run needs a round for extraction, one for repairs, one for composition and one for its
# follow-up; more means something keeps asking anew.
MAX_ROUNDS = 8
# Checks of a batch that may fail in a row (server away, rate limited) before the run stops.
MAX_FAILED_CHECKS = 20
POLL_GROWTH = 1.5
POLL_CAP = 60.0  # seconds between checks, at most (unless the first wait is longer)
_TRANSIENT = (ServerError, LLMTimeoutError, RateLimitError)


class BatchEngine(Protocol):
    """Where batches run: the OpenAI Batch API (``OpenAIBatchEngine``) or a server that speaks
    it. Methods raise ``briefer.errors`` errors."""

    name: str

    async def upload(self, path: Path) -> str: ...

    async def create(self, file_id: str, metadata: Mapping[str, str]) -> BatchState: ...

    async def retrieve(self, batch_id: str) -> BatchState: ...

    async def find(self, metadata: Mapping[str, str]) -> BatchState | None: ...

    async def download(self, file_id: str, path: Path) -> None: ...


def _state(batch: Any) -> BatchState:
    counts = getattr(batch, "request_counts", None)
    errors = getattr(getattr(batch, "errors", None), "data", None) or []
    return BatchState(
        id=batch.id,
        status=batch.status,
        completed=getattr(counts, "completed", 0) or 0,
        failed=getattr(counts, "failed", 0) or 0,
        total=getattr(counts, "total", 0) or 0,
        output_file_id=batch.output_file_id,
        error_file_id=batch.error_file_id,
        errors=tuple((e.line, e.message or e.code or "invalid") for e in errors),
    )


class OpenAIBatchEngine:
    """The Files and Batches APIs of the endpoint ``client`` calls, with its key."""

    def __init__(self, client: OpenAIClient) -> None:
        self.client = client
        self.name = client.endpoint.name

    def _error(self, exc: BaseException) -> BrieferError:
        from briefer.llm.openai import map_sdk_error

        return map_sdk_error(exc, self.client.endpoint)

    async def upload(self, path: Path) -> str:
        import openai

        sdk = self.client.sdk()
        try:
            with path.open("rb") as handle:
                # A file object is streamed, never read whole.
                uploaded = await sdk.files.create(
                    file=(path.name, handle, "application/jsonl"), purpose="batch"
                )
        except openai.OpenAIError as exc:
            raise self._error(exc) from exc
        return uploaded.id

    async def create(self, file_id: str, metadata: Mapping[str, str]) -> BatchState:
        import openai

        try:
            batch = await self.client.sdk().batches.create(
                input_file_id=file_id,
                endpoint="/v1/chat/completions",
                completion_window="24h",
                metadata=dict(metadata),
            )
        except openai.OpenAIError as exc:
            raise self._error(exc) from exc
        return _state(batch)

    async def retrieve(self, batch_id: str) -> BatchState:
        import openai

        try:
            return _state(await self.client.sdk().batches.retrieve(batch_id))
        except openai.NotFoundError:
            gone = ((None, "the server knows no such batch"),)
            return BatchState(batch_id, "failed", errors=gone)
        except openai.OpenAIError as exc:
            raise self._error(exc) from exc

    async def find(self, metadata: Mapping[str, str]) -> BatchState | None:
        """The newest batch whose metadata holds ``metadata`` (a submission interrupted
        between creating its batch and writing down the id); the last 500 batches are read."""
        import openai

        try:
            seen = 0
            async for batch in self.client.sdk().batches.list(limit=100):
                seen += 1
                found = batch.metadata or {}
                if all(found.get(k) == v for k, v in metadata.items()):
                    return _state(batch)
                if seen >= 500:
                    break
        except openai.OpenAIError as exc:
            raise self._error(exc) from exc
        return None

    async def download(self, file_id: str, path: Path) -> None:
        import openai

        partial = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
        try:
            files = self.client.sdk().files
            async with files.with_streaming_response.content(file_id) as response:
                await response.stream_to_file(partial)
            partial.replace(path)
        except openai.OpenAIError as exc:
            raise self._error(exc) from exc
        finally:
            partial.unlink(missing_ok=True)


# --- what is kept on disk ----------------------------------------------------------------------


class _Part(BaseModel):
    """One input file of a submission and its batch, as last seen."""

    model_config = ConfigDict(extra="forbid")

    name: str
    lines: int
    bytes: int
    input_file_id: str | None = None
    creating: bool = False  # a batch may have been created and its id not written down
    batch_id: str | None = None
    status: str | None = None
    completed: int = 0
    failed: int = 0
    settled: bool = False  # ended, and its replies indexed


class _Submission(BaseModel):
    model_config = ConfigDict(extra="forbid")

    format: Literal["briefer-batch/1"] = "briefer-batch/1"
    id: str
    keys_sha256: str  # of the sorted keys of its requests
    created_at: dt.datetime
    engine: str
    model: str
    run: str
    parts: list[_Part]


@dataclass
class _Spool:
    """The requests a pass queued for one model, on their way to a submission."""

    folder: Path
    writer: PartWriter
    keys: list[str] = field(default_factory=list)
    requests: IO[str] | None = None  # for an export: the requests themselves, for the import


@dataclass(frozen=True)
class _Answer:
    submission: str
    path: Path
    offset: int


@dataclass(frozen=True)
class _PartRef:
    submission: str
    part: str


def find_batch_client(client: object) -> BatchClient | None:
    """The ``BatchClient`` in a client stack (wrappers keep theirs in ``inner``), if any."""
    seen = 0
    while client is not None and seen < 32:
        if isinstance(client, BatchClient):
            return client
        client = getattr(client, "inner", None)
        seen += 1
    return None


def _find_in(client: object, kind: type[T]) -> T | None:
    seen = 0
    while client is not None and seen < 32:
        if isinstance(client, kind):
            return client
        client = getattr(client, "inner", None)
        seen += 1
    return None


def _carries_a_reply(request: LLMRequest) -> bool:
    """A repair or a follow-up: the request sends an earlier reply back to the model."""
    return any(m.role == "assistant" for m in request.messages)


class _PassProgress:
    """The run's progress, told a queued call as one that ended without error: it did not
    fail; its reply comes with the batch."""

    def __init__(self, progress: Any) -> None:
        self._progress = progress

    def __getattr__(self, name: str) -> Any:
        return getattr(self._progress, name)

    def call_finished(self, request: LLMRequest, error: BaseException | None) -> None:
        queued = isinstance(error, ReplyPendingError)
        self._progress.call_finished(request, None if queued else error)


class BatchClient:
    """``LLMClient`` whose calls are answered by batches; see the module's docstring.

    ``inner`` answers what the batches do not: a ``CachingClient`` (whose store keeps the
    batches' replies) around the ``OpenAIClient`` whose endpoint runs the batches. ``state_dir``
    keeps the submissions (by default ``batches/`` in the cache directory). ``engine`` defaults
    to the Batch API of that endpoint. ``wait``: poll until the batches end (from ``poll``
    seconds, growing to a minute), or stop at the first check that finds one running.
    ``limits`` cut the input files; ``run_label`` names the run in the batches' metadata;
    ``export_to``: write the queued requests to this file (for vLLM's ``run-batch``) instead
    of submitting them. ``report`` is told what the batches are doing, in one line.
    """

    def __init__(
        self,
        inner: LLMClient,
        state_dir: Path | str | None = None,
        *,
        engine: BatchEngine | None = None,
        repairs: RepairRoute = "batch",
        wait: bool = True,
        poll: float = 10.0,
        limits: BatchLimits | None = None,
        run_label: str = "",
        export_to: Path | None = None,
        report: Callable[[str], None] | None = None,
    ) -> None:
        self.inner = inner
        self._cache = _find_in(inner, CachingClient)
        if state_dir is None:
            if self._cache is None:
                raise ConfigError(
                    "batch replies are kept in the cache: give the batch client a cache "
                    "(drop --no-cache) or a state directory"
                )
            state_dir = self._cache.store.directory / "batches"
        self.state_dir = Path(state_dir).expanduser()
        self._engine = engine
        self.repairs: RepairRoute = repairs
        self.wait = wait
        self.poll = max(0.0, poll)
        self.limits = limits or BatchLimits()
        self.run_label = run_label
        self.export_to = export_to
        self.report = report
        self._openai = _find_in(inner, OpenAIClient)
        self._loaded = False
        self._submissions: dict[str, _Submission] = {}
        self._answers: dict[str, _Answer] = {}  # key -> its reply in a downloaded output file
        self._covered: dict[str, _PartRef] = {}  # key -> the unfinished batch that holds it
        self._failed: dict[str, str] = {}  # key -> why its batch did not answer it (this run)
        self._used: set[str] = set()  # submissions whose replies this run used
        self._spools: dict[str, _Spool] = {}
        self._spooled: set[str] = set()
        self._awaited: set[_PartRef] = set()
        self._pending = 0  # calls queued in this pass

    # --- the client ------------------------------------------------------------------------

    def bind(self, request: LLMRequest) -> LLMRequest:
        return bind_request(self.inner, request)

    def is_free(self, request: LLMRequest) -> bool:
        """A reply a batch gave, or one the cache holds: no new spend."""
        request = self.bind(request)
        self._load()
        if request.key() in self._answers or request.key() in self._failed:
            return True
        is_free = getattr(self.inner, "is_free", None)
        return bool(is_free(request)) if callable(is_free) else False

    def price_tier(self, request: LLMRequest) -> Literal["batch", "direct"]:
        """What a call of ``request`` is priced at: direct when it is sent directly."""
        return "direct" if self._direct(request) else "batch"

    def forget(self, request: LLMRequest) -> None:
        forget = getattr(self.inner, "forget", None)
        if callable(forget):
            forget(request)

    def _direct(self, request: LLMRequest) -> bool:
        return self.repairs == "direct" and _carries_a_reply(request)

    def _cached(self, request: LLMRequest) -> bool:
        is_free = getattr(self.inner, "is_free", None)
        return bool(is_free(request)) if callable(is_free) else False

    async def complete(self, request: LLMRequest) -> LLMResponse:
        request = self.bind(request)
        key = request.key()
        self._load()
        answer = self._answers.get(key)
        if answer is not None:
            found = read_result_line(read_line_at(answer.path, answer.offset))
            if found.response is not None:
                self._used.add(answer.submission)
                self._keep(request, found.response)
                return found.response
        ctx = request.context
        where = {"stage": ctx.stage, "source_id": ctx.source_id, "chunk_id": ctx.chunk_id}
        failure = self._failed.get(key)
        if failure is not None:
            raise LLMError(failure, **where)
        if self._direct(request) or self._cached(request):
            return await self.inner.complete(request)
        self._pending += 1
        ref = self._covered.get(key) if self.export_to is None else None
        if ref is not None:
            self._awaited.add(ref)
        elif key not in self._spooled:
            self._spool(request, key)
        raise ReplyPendingError("the request is queued for a batch", **where)

    def _keep(self, request: LLMRequest, response: LLMResponse) -> None:
        """A batch's reply into the cache, so that any later run finds it there."""
        if self._cache is None:
            return
        store = self._cache.store
        try:
            if store.get(request.key()) is not None:
                return
        except ConfigError:
            pass  # a damaged entry: written over
        store.put(Recording.of(request, response))

    # --- queueing --------------------------------------------------------------------------

    def _body(self, request: LLMRequest) -> dict[str, Any]:
        if self._openai is not None:
            return self._openai.params(request)
        token = "max_completion_tokens" if request.endpoint is None else "max_tokens"
        return build_params(request, json_mode="json_schema", token_limit_param=token)

    def _spool(self, request: LLMRequest, key: str) -> None:
        spool = self._spools.get(request.model)
        if spool is None:
            folder = self.state_dir / "spool" / uuid.uuid4().hex
            limits = (
                self.limits
                if self.export_to is None
                else BatchLimits(lines=50_000, bytes=200 * 1024 * 1024)
            )
            spool = _Spool(folder, PartWriter(folder, limits))
            if self.export_to is not None:
                folder.mkdir(parents=True, exist_ok=True)
                spool.requests = (folder / "requests.jsonl").open("w", encoding="utf-8")
            self._spools[request.model] = spool
        spool.writer.add(key, request_line(key, self._body(request)))
        if spool.requests is not None:
            spool.requests.write(request.model_dump_json() + "\n")
        spool.keys.append(key)
        self._spooled.add(key)

    def _discard_spools(self) -> None:
        for spool in self._spools.values():
            spool.writer.close()
            if spool.requests is not None:
                spool.requests.close()
            shutil.rmtree(spool.folder, ignore_errors=True)
        self._spools.clear()
        self._spooled.clear()

    # --- what was submitted ----------------------------------------------------------------

    def _folder(self, submission: str) -> Path:
        return self.state_dir / "submissions" / submission

    def _save(self, submission: _Submission) -> None:
        path = self._folder(submission.id) / "submission.json"
        write_atomic(path, submission.model_dump_json(indent=2) + "\n")

    def _load(self) -> None:
        """What earlier runs submitted: the replies downloaded and the batches unfinished."""
        if self._loaded:
            return
        self._loaded = True
        root = self.state_dir / "submissions"
        if not root.is_dir():
            return
        for path in sorted(root.glob("*/submission.json")):
            try:
                submission = _Submission.model_validate_json(path.read_text("utf-8"))
            except (OSError, ValidationError) as exc:
                log.warning("ignoring %s, which cannot be read: %s", path, first_line(exc))
                continue
            self._submissions[submission.id] = submission
            for part in submission.parts:
                if part.settled:
                    self._index(submission.id, part.name)
                else:
                    keys = self._folder(submission.id) / f"{part.name}.keys"
                    for key in read_keys(keys):
                        self._covered[key] = _PartRef(submission.id, part.name)

    def _index(self, submission: str, part: str) -> None:
        output = self._folder(submission) / f"{part}.output.jsonl"
        if not output.exists():
            return
        for offset, result in scan_results(output):
            if result.response is not None:
                self._answers[result.key] = _Answer(submission, output, offset)

    def _part(self, ref: _PartRef) -> tuple[_Submission, _Part]:
        submission = self._submissions[ref.submission]
        return submission, next(p for p in submission.parts if p.name == ref.part)

    def _commit(self, spool: _Spool, model: str) -> list[_PartRef]:
        """A spool becomes a submission: written down before anything is uploaded."""
        parts: list[PartFile] = spool.writer.close()
        digest = hashlib.sha256("\n".join(sorted(spool.keys)).encode()).hexdigest()
        stamp = dt.datetime.now(dt.UTC)
        submission = _Submission(
            id=f"{stamp:%Y%m%dT%H%M%S}-{digest[:12]}",
            keys_sha256=digest,
            created_at=stamp.replace(microsecond=0),
            engine=self._engine_name(),
            model=model,
            run=self.run_label,
            parts=[_Part(name=p.path.stem, lines=p.lines, bytes=p.bytes) for p in parts if p.lines],
        )
        write_atomic(spool.folder / "submission.json", submission.model_dump_json(indent=2))
        target = self._folder(submission.id)
        target.parent.mkdir(parents=True, exist_ok=True)
        spool.folder.replace(target)
        self._submissions[submission.id] = submission
        refs = [_PartRef(submission.id, p.name) for p in submission.parts]
        for ref in refs:
            for key in read_keys(target / f"{ref.part}.keys"):
                self._covered[key] = ref
        return refs

    def _engine_name(self) -> str:
        if self._engine is not None:
            return self._engine.name
        return self._openai.endpoint.name if self._openai is not None else "unknown"

    def engine(self) -> BatchEngine:
        if self._engine is None:
            if self._openai is None:
                raise ConfigError(
                    "batches run on an OpenAI-compatible endpoint: the client stack has none"
                )
            self._engine = OpenAIBatchEngine(self._openai)
        return self._engine

    def _say(self, text: str) -> None:
        log.info("%s", text)
        if self.report is not None:
            self.report(text)

    async def _create(self, ref: _PartRef) -> None:
        """Upload and submit one part, unless that was done; each step written down first."""
        submission, part = self._part(ref)
        if part.batch_id is not None:
            return
        engine = self.engine()
        folder = self._folder(submission.id)
        if part.input_file_id is None:
            part.input_file_id = await engine.upload(folder / f"{part.name}.jsonl")
            self._save(submission)
        metadata = {
            "created_by": "briefer",
            "briefer_run": (self.run_label or submission.run)[:500],
            "briefer_submission": submission.id,
            "briefer_part": part.name,
        }
        found = None
        if part.creating:
            lookup = {k: metadata[k] for k in ("briefer_submission", "briefer_part")}
            found = await engine.find(lookup)
        if found is None:
            part.creating = True
            self._save(submission)
            found = await engine.create(part.input_file_id, metadata)
        part.batch_id, part.status, part.creating = found.id, found.status, False
        self._save(submission)
        (folder / f"{part.name}.jsonl").unlink(missing_ok=True)  # the server has it
        self._say(f"submitted batch {found.id} ({part.lines} requests)")

    async def _submit(self) -> list[_PartRef]:
        refs = set(self._awaited)
        for model, spool in list(self._spools.items()):
            refs.update(self._commit(spool, model))
            del self._spools[model]
        self._spooled.clear()
        ordered = sorted(refs, key=lambda r: (r.submission, r.part))
        for ref in ordered:
            await self._create(ref)
        return ordered

    # --- waiting ---------------------------------------------------------------------------

    async def _collect(self, refs: list[_PartRef]) -> bool:
        """Check the batches until every one has ended (True) or, without ``wait``, once."""
        delay = self.poll
        failed_checks = 0
        last = ""
        while True:
            for ref in refs:
                submission, part = self._part(ref)
                if part.settled:
                    continue
                assert part.batch_id is not None
                try:
                    state = await self.engine().retrieve(part.batch_id)
                except _TRANSIENT as exc:
                    failed_checks += 1
                    if failed_checks > MAX_FAILED_CHECKS:
                        raise
                    self._say(f"could not check batch {part.batch_id}: {first_line(exc)}")
                    continue
                failed_checks = 0
                part.status, part.completed, part.failed = (
                    state.status,
                    state.completed,
                    state.failed,
                )
                self._save(submission)
                if state.done:
                    await self._settle(ref, state)
            states = [self._part(r)[1] for r in refs]
            line = self._progress_line(states)
            if line != last:
                self._say(line)
                last = line
            if all(p.settled for p in states):
                return True
            if not self.wait:
                return False
            await asyncio.sleep(delay)
            delay = min(delay * POLL_GROWTH, max(POLL_CAP, self.poll))

    def _progress_line(self, parts: Iterable[_Part]) -> str:
        parts = list(parts)
        total = sum(p.lines for p in parts)
        done = sum(p.completed for p in parts)
        failed = sum(p.failed for p in parts)
        statuses: dict[str, int] = {}
        for p in parts:
            statuses[p.status or "submitted"] = statuses.get(p.status or "submitted", 0) + 1
        said = ", ".join(f"{n} {s}" for s, n in sorted(statuses.items()))
        text = f"batches: {said}; {done} of {total} requests answered"
        return text + (f", {failed} failed" if failed else "")

    async def _settle(self, ref: _PartRef, state: BatchState) -> None:
        """An ended batch: its replies downloaded and indexed, and every request it did not
        answer failed for this run, with the reason."""
        submission, part = self._part(ref)
        folder = self._folder(submission.id)
        engine = self.engine()
        output = folder / f"{part.name}.output.jsonl"
        errors = folder / f"{part.name}.errors.jsonl"
        if state.output_file_id:
            await engine.download(state.output_file_id, output)
        if state.error_file_id:
            await engine.download(state.error_file_id, errors)
        keys = read_keys(folder / f"{part.name}.keys")
        mine = set(keys)
        answered: set[str] = set()
        why: dict[str, str] = {}
        if output.exists():
            for offset, result in scan_results(output):
                if result.key not in mine:
                    continue
                if result.response is not None:
                    self._answers[result.key] = _Answer(submission.id, output, offset)
                    answered.add(result.key)
                else:
                    why[result.key] = result.error or "no reply"
        if errors.exists():
            for _, result in scan_results(errors):
                if result.key in mine and result.key not in answered:
                    why[result.key] = result.error or "no reply"
        for line, message in state.errors:
            if line is not None and 1 <= line <= len(keys):
                why.setdefault(keys[line - 1], message)
        first_problem = state.errors[0][1] if state.errors else None
        for key in keys:
            self._covered.pop(key, None)
            if key in answered:
                continue
            # The error file lists what an expired or cancelled batch did not run, as such.
            stopped = key in why and why[key].endswith(("(batch_expired)", "(batch_cancelled)"))
            if key in why and not stopped:
                reason = f"batch {state.id} failed it ({why[key]})"
            elif state.status == "failed":
                reason = f"batch {state.id} failed validation ({first_problem or 'no reason'})"
            else:
                reason = f"batch {state.id} {state.status} before answering it"
            self._failed[key] = f"{reason}; the next run submits it again"
        part.settled = True
        self._save(submission)

    def _close_used(self) -> None:
        """The run is done: the submissions it used are in the cache, and go."""
        for submission in sorted(self._used):
            shutil.rmtree(self._folder(submission), ignore_errors=True)
            self._submissions.pop(submission, None)
        self._answers = {k: a for k, a in self._answers.items() if a.submission not in self._used}
        self._used.clear()

    # --- a run in passes -------------------------------------------------------------------

    async def run(self, once: Callable[[Any], Awaitable[T]], progress: Any = None) -> T:
        """``once(progress)``, made again until no call of it is queued (see the module)."""
        self._load()
        report = getattr(progress, "batch_status", None)
        if self.report is None and callable(report):
            self.report = report
        try:
            for number in range(1, MAX_ROUNDS + 1):
                self._pending = 0
                self._awaited = set()
                begin = getattr(progress, "batch_round", None)
                if callable(begin):
                    begin(number)  # each pass asks its calls again: counts start over
                watched = _PassProgress(progress) if progress is not None else None
                try:
                    result = await once(watched)
                except BrieferError:
                    if not self._pending:
                        raise
                else:
                    if not self._pending:
                        self._close_used()
                        return result
                if self.export_to is not None:
                    raise self._export()
                refs = await self._submit()
                if not await self._collect(refs):
                    raise self._still_running(refs)
        finally:
            self._discard_spools()
        raise LLMError(
            f"the run still queued calls after {MAX_ROUNDS} rounds of batches; run it again"
        )

    def _still_running(self, refs: list[_PartRef]) -> BatchPendingError:
        parts = [self._part(r)[1] for r in refs]
        running = [p for p in parts if not p.settled]
        ids = [p.batch_id or "?" for p in running]
        shown = ", ".join(ids[:3]) + (f" and {len(ids) - 3} more" if len(ids) > 3 else "")
        states = [
            BatchState(p.batch_id or "?", p.status or "submitted", p.completed, p.failed, p.lines)
            for p in running
        ]
        count = sum(p.lines for p in running)
        return BatchPendingError(
            f"{count} requests are in {len(running)} running batch(es) ({shown}); nothing "
            "was written: run the same command again later to collect the replies",
            batches=states,
            requests=count,
        )

    def _export(self) -> BatchPendingError:
        """The queued requests written to ``export_to``, and kept for the import."""
        assert self.export_to is not None
        count = 0
        target = self.export_to
        partial = target.with_name(f".{target.name}.{uuid.uuid4().hex}.tmp")
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            with partial.open("wb") as out:
                for spool in self._spools.values():
                    for part in spool.writer.close():
                        with part.path.open("rb") as lines:
                            shutil.copyfileobj(lines, out)
                        count += part.lines
                    if spool.requests is not None:
                        spool.requests.close()
                        kept = self.state_dir / "exports" / spool.folder.name
                        kept.mkdir(parents=True, exist_ok=True)
                        (spool.folder / "requests.jsonl").replace(kept / "requests.jsonl")
            partial.replace(target)
        finally:
            partial.unlink(missing_ok=True)
        return BatchPendingError(
            f"wrote {count} requests to {target}; run them (vllm run-batch -i {target} "
            "-o OUT.jsonl ...), then briefer batch import OUT.jsonl",
            requests=count,
            exported=str(target),
        )


async def run_in_batches(
    client: LLMClient, once: Callable[[Any], Awaitable[T]], progress: Any = None
) -> T:
    """``once(progress)`` through the batch client in ``client``'s stack, in as many passes as
    its batches take; with no batch client, made once."""
    batch = find_batch_client(client)
    if batch is None:
        return await once(progress)
    return await batch.run(once, progress)


# --- the replies of another engine -------------------------------------------------------------


@dataclass
class ImportReport:
    """What ``import_results`` did: replies stored, lines that carried an error (key, reason),
    and lines naming a request no export holds."""

    stored: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)


def _exported(state_dir: Path) -> dict[str, tuple[Path, int]]:
    index: dict[str, tuple[Path, int]] = {}
    for path in sorted((state_dir / "exports").glob("*/requests.jsonl")):
        with path.open("rb") as handle:
            offset = 0
            for raw in handle:
                try:
                    key = LLMRequest.model_validate_json(raw).key()
                except ValidationError:
                    key = None
                if key is not None:
                    index[key] = (path, offset)
                offset += len(raw)
    return index


def import_results(results: Path, cache: RecordingStore, state_dir: Path) -> ImportReport:
    """Store the replies of ``results`` (the output of vLLM's ``run-batch``, or a Batch API
    output or error file) in ``cache``, each under the request its ``custom_id`` names among
    the exports in ``state_dir``. Lines are matched by ``custom_id``, never by order; a line
    with an error, or whose body is not a chat completion, is reported and not stored."""
    index = _exported(state_dir)
    report = ImportReport()
    try:
        handle = results.open("rb")
    except OSError as exc:
        raise ConfigError(f"{results}: {exc.strerror or exc}") from None
    with handle:
        for number, raw in enumerate(handle, start=1):
            if not raw.strip():
                continue
            try:
                result = read_result_line(raw)
            except ValueError as exc:
                report.failed.append((f"line {number}", str(exc)))
                continue
            where = index.get(result.key)
            if where is None:
                report.unknown.append(result.key)
                continue
            if result.response is None:
                report.failed.append((result.key, result.error or "no reply"))
                continue
            request = LLMRequest.model_validate_json(read_line_at(*where))
            cache.put(Recording.of(request, result.response))
            report.stored += 1
    _drop_imported_exports(state_dir, cache)
    return report


def _drop_imported_exports(state_dir: Path, cache: RecordingStore) -> None:
    """An export every request of which has its reply in the cache is no longer needed."""
    for path in sorted((state_dir / "exports").glob("*/requests.jsonl")):
        with path.open("rb") as handle:
            keys = [LLMRequest.model_validate_json(raw).key() for raw in handle if raw.strip()]
        if all(cache.path_for(key).exists() for key in keys):
            shutil.rmtree(path.parent, ignore_errors=True)
