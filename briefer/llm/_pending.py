"""The outcomes of a call that a batch answers later: pending now, or the run stopped waiting.

Apart from the batch engine so that the runner (``structured``) can tell a pending call from a
failed one without importing the engine, which imports the OpenAI adapter.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from briefer.errors import BrieferError, LLMError

__all__ = ["BatchPendingError", "BatchState", "ReplyPendingError", "replies_pending"]

# sysexits' EX_TEMPFAIL: nothing went wrong and nothing was written; the same command, run
# later, goes on. Apart from 3 (a partial result was written) so a scheduler can tell them apart.
EXIT_PENDING = 75


class ReplyPendingError(LLMError):
    """The reply to this request will come from a batch: the call is queued, not failed."""


@dataclass(frozen=True)
class BatchState:
    """A batch as its engine last reported it."""

    id: str
    status: str
    completed: int = 0
    failed: int = 0
    total: int = 0
    output_file_id: str | None = None
    error_file_id: str | None = None
    # (line of the input file or None, message) for a batch whose validation failed.
    errors: tuple[tuple[int | None, str], ...] = ()

    @property
    def done(self) -> bool:
        return self.status in TERMINAL

    def line(self) -> str:
        """``batch_abc: in_progress, 120 of 500 answered, 3 failed``."""
        text = f"{self.id}: {self.status}"
        if self.total:
            text += f", {self.completed} of {self.total} answered"
        if self.failed:
            text += f", {self.failed} failed"
        return text


TERMINAL = frozenset({"completed", "failed", "expired", "cancelled"})


class BatchPendingError(BrieferError):
    """The run's replies are in batches that have not finished (``--no-wait``), or its requests
    were exported for another engine: nothing was written. Run the same command again later."""

    exit_code = EXIT_PENDING
    pending = True  # the CLI says "pending", not "error"

    def __init__(
        self,
        message: str,
        *,
        batches: Sequence[BatchState] = (),
        requests: int = 0,
        exported: str | None = None,
    ) -> None:
        super().__init__(message)
        self.batches = list(batches)
        self.requests = requests
        self.exported = exported


def replies_pending(failures: Sequence[object]) -> int:
    """How many of a runner's ``failures`` (``CallFailure``s) are calls queued for a batch."""
    return sum(isinstance(getattr(f, "error", None), ReplyPendingError) for f in failures)
