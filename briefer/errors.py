"""briefer's errors, typed by who must act on them.

    BrieferError                    base; every message is one line a person can act on
    ├── ConfigError                 misuse or missing configuration: the message says what to set
    │   ├── AuthError               the API key is missing or was rejected (names the variable)
    │   └── StoreError              the story store cannot be used (damaged, locked, too new)
    ├── InputError                  one source cannot be used; becomes an ``excluded`` entry
    ├── BudgetExceededError         ``max_cost`` would be passed; carries what was done
    ├── OutputError                 the result cannot be written where it was asked to go
    └── LLMError                    a model call failed after retries
        ├── RateLimitError          429 after retries (``retry_after`` seconds, if the server said)
        ├── LLMTimeoutError         no reply within the timeout
        ├── ServerError             5xx or a dropped connection after retries
        ├── RefusalError            the model refused; ``refusal`` holds its words
        ├── TruncatedError          ``finish_reason == "length"``: split the input, do not re-ask
        ├── InvalidReplyError       the reply is still invalid after repairs; keeps reply and errors
        ├── ReplayMissError         ``--replay`` has no recording for this request
        └── NoRepliesError          every extraction call of a run failed: nothing was extracted

Messages never contain an API key. Exit codes for the CLI: 1 for errors, 2 for usage errors
(``ConfigError``), 3 for a partial result.

A run raises ``NoRepliesError`` (or ``BudgetExceededError`` when the budget stopped every call)
rather than return a briefing in which no call was answered: ``excluded`` on the error lists
what was left out and why, as a briefing would.
"""

from __future__ import annotations

from typing import Any

# ``excluded`` holds ``briefer.models.Excluded`` entries; this module imports nothing from
# briefer, so any module can raise its errors.
_Excluded = Any

__all__ = [
    "AuthError",
    "BrieferError",
    "BudgetExceededError",
    "ConfigError",
    "InputError",
    "InvalidReplyError",
    "LLMError",
    "LLMTimeoutError",
    "NoRepliesError",
    "OutputError",
    "RateLimitError",
    "RefusalError",
    "ReplayMissError",
    "ServerError",
    "StoreError",
    "TruncatedError",
    "first_line",
]


def first_line(error: BaseException) -> str:
    """The first line of ``error``'s message (its type's name when it has none): what a summary,
    an excluded entry or a progress line shows of it."""
    lines = str(error).strip().splitlines()
    return lines[0].strip() if lines else type(error).__name__


class BrieferError(Exception):
    """Base of every error briefer raises on purpose."""

    exit_code: int = 1


class ConfigError(BrieferError):
    """Misuse or missing configuration; the message names what to set."""

    exit_code = 2


class AuthError(ConfigError):
    """The API key is missing or was rejected."""


class StoreError(ConfigError):
    """The story store cannot be used: the message names the file and what to do (move it
    aside, wait for the other run, upgrade briefer, or run with ``--no-store``)."""

    def __init__(self, message: str, *, path: str = "") -> None:
        super().__init__(message)
        self.path = path
        # A run whose briefing was made but could not be kept carries it here, so that the
        # caller can still write it (briefer.Briefing; errors import nothing of briefer's).
        self.briefing: object | None = None


class InputError(BrieferError):
    """One source cannot be used. ``input`` names it as the user gave it."""

    def __init__(self, input: str, reason: str) -> None:
        super().__init__(f"{input}: {reason}")
        self.input = input
        self.reason = reason


class OutputError(BrieferError):
    """The output cannot be written."""


class BudgetExceededError(BrieferError):
    """Starting the next call would pass ``max_cost``."""

    def __init__(
        self,
        message: str,
        *,
        spent: float = 0.0,
        limit: float = 0.0,
        excluded: list[_Excluded] | None = None,
    ) -> None:
        super().__init__(message)
        self.spent = spent
        self.limit = limit
        self.excluded = excluded or []


class LLMError(BrieferError):
    """A model call failed. ``stage``/``source_id``/``chunk_id`` say which call, when known."""

    def __init__(
        self,
        message: str,
        *,
        stage: str | None = None,
        source_id: str | None = None,
        chunk_id: str | None = None,
    ) -> None:
        super().__init__(message)
        self.stage = stage
        self.source_id = source_id
        self.chunk_id = chunk_id


class RateLimitError(LLMError):
    def __init__(self, message: str, *, retry_after: float | None = None, **kw: str | None) -> None:
        super().__init__(message, **kw)
        self.retry_after = retry_after


class LLMTimeoutError(LLMError):
    pass


class ServerError(LLMError):
    def __init__(self, message: str, *, status: int | None = None, **kw: str | None) -> None:
        super().__init__(message, **kw)
        self.status = status


class RefusalError(LLMError):
    def __init__(self, message: str, *, refusal: str = "", **kw: str | None) -> None:
        super().__init__(message, **kw)
        self.refusal = refusal


class TruncatedError(LLMError):
    pass


class InvalidReplyError(LLMError):
    def __init__(
        self,
        message: str,
        *,
        reply: str | None = None,
        errors: list[str] | None = None,
        **kw: str | None,
    ) -> None:
        super().__init__(message, **kw)
        self.reply = reply
        self.errors = errors or []


class ReplayMissError(LLMError):
    def __init__(self, message: str, *, key: str = "", **kw: str | None) -> None:
        super().__init__(message, **kw)
        self.key = key


class NoRepliesError(LLMError):
    """No extraction call of the run got a usable reply; ``errors`` are the failures, first
    first, and ``excluded`` what the briefing would have listed."""

    def __init__(
        self,
        message: str,
        *,
        errors: list[BrieferError] | None = None,
        excluded: list[_Excluded] | None = None,
    ) -> None:
        super().__init__(message)
        self.errors = errors or []
        self.excluded = excluded or []
