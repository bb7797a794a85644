"""The OpenAI adapter: any OpenAI-compatible chat completions server, through the ``openai`` SDK.

This is the only module that imports ``openai``, and only at the first call that reaches a
server: a run answered from the cache or from recordings never loads the SDK, which
takes longer to import than the rest of briefer. Request building (``build_params``) and reply
parsing (``parse_completion``) are pure functions; SDK exceptions become briefer errors in one
place (``_map_error``). Retries are ours, not the SDK's (it runs with ``max_retries=0``), so that
``Retry-After``, backoff with jitter and the retry count are under our control:

- 429, 5xx, timeouts, dropped connections and unparseable replies are retried up to
  ``max_retries`` times, waiting ``Retry-After``/``retry-after-ms`` when the server says, else
  ``backoff_base * 2**n`` (capped at ``backoff_max``) scaled by a random factor in [0.5, 1].
- Each retry adds one to ``OpenAIClient.retries`` and is reported through
  ``briefer.llm.structured.note_retry`` so ``LLMRunner`` counts it in ``StageUsage.retries``.

Response formats, from the strictest down (``JsonMode``):

- ``json_schema``: Structured Outputs, ``{"type": "json_schema", "json_schema": {name, schema,
  strict: true}}``. OpenAI, vLLM, Ollama and recent llama.cpp ``llama-server`` take it.
- ``json_object``: ``{"type": "json_object", "schema": ...}``, the schema also written into the
  system prompt. llama-cpp-python's server and ``llama-server`` constrain decoding with that
  ``schema``; servers that do not know the key ignore it (Ollama, vLLM) and the prompt carries
  the schema to the model.
- ``json_object_plain``: ``{"type": "json_object"}``, the schema in the prompt only, for a server
  that refuses the ``schema`` key.

A server that answers a format with an error (any 4xx or 5xx other than 401, 403 and 429) whose
message names ``response_format``, ``json_schema`` or a JSON schema has rejected the format: the
call is sent again, at once and without counting as a retry, one step down, and the endpoint
keeps that step for the rest of the process. llama-cpp-python answers ``json_schema`` with a 500
(its request validation error), so the status alone cannot tell. ``Endpoint.strict_schema``
(``BRIEFER_STRICT_SCHEMA``) pins the format: True sends ``json_schema`` and never steps down;
False starts at ``json_object``. Whatever the format, the reply is validated again by the caller.
"""

from __future__ import annotations

import asyncio
import email.utils
import ipaddress
import json
import logging
import math
import os
import random
import re
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, get_args
from urllib.parse import urlsplit

import httpx2

from briefer.errors import (
    AuthError,
    BrieferError,
    LLMError,
    LLMTimeoutError,
    RateLimitError,
    ServerError,
)
from briefer.llm.base import (
    LLMRequest,
    LLMResponse,
    TokenUsage,
    canonical_json,
    normalize_base_url,
)
from briefer.llm.structured import note_retry

if TYPE_CHECKING:
    import openai
    from openai.types.chat import ChatCompletion

__all__ = [
    "JSON_MODES",
    "SCHEMA_IN_PROMPT",
    "Endpoint",
    "JsonMode",
    "OpenAIClient",
    "build_params",
    "forget_json_modes",
    "map_sdk_error",
    "parse_completion",
]

log = logging.getLogger(__name__)

JsonMode = Literal["json_schema", "json_object", "json_object_plain"]

# The formats in the order they are tried: each rejection moves an endpoint one step down.
JSON_MODES: tuple[JsonMode, ...] = get_args(JsonMode)

# In the json_object modes the schema travels in the system prompt, after this line.
SCHEMA_IN_PROMPT = "Reply with one JSON object valid against this JSON Schema:"

# A server-directed wait longer than this is not waited out: the error says how long to wait.
MAX_RETRY_AFTER = 60.0

# Endpoints (by Endpoint.name) that rejected a format in this process, and the one they take.
_ENDPOINT_JSON_MODES: dict[str, JsonMode] = {}

# What a server says when it does not take the response format it was sent.
_NAMES_THE_FORMAT = re.compile(r"response_format|json[_ ]?schema", re.IGNORECASE)


OPENAI_API = "https://api.openai.com/v1"

# Sent to a local server when no key is set: such servers accept any key, the SDK wants one.
LOCAL_PLACEHOLDER_KEY = "no-key-needed"


def is_local_server(base_url: str | None) -> bool:
    """Whether ``base_url`` names this machine or a private network: ``localhost`` (and
    ``*.localhost``), or a loopback, private or link-local address. Names are not resolved."""
    if not base_url:
        return False
    host = (urlsplit(base_url).hostname or "").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return address.is_loopback or address.is_private or address.is_link_local


def forget_json_modes() -> None:
    """Forget which endpoints stepped down from json_schema (for tests and long-lived
    processes)."""
    _ENDPOINT_JSON_MODES.clear()


@dataclass(frozen=True)
class Endpoint:
    """Where to send requests, and the key: ``api_key`` when given (``--api-key``; never shown
    in a repr), else the environment variable ``api_key_env``. A server on this machine or a
    private network (``localhost``, a loopback or private address) needs none: Ollama, vLLM and
    llama.cpp take any key, so a placeholder is sent when none is set."""

    base_url: str | None = None
    api_key_env: str = "OPENAI_API_KEY"
    timeout: float = 60.0
    strict_schema: bool | None = None  # None: try json_schema, fall back once if rejected
    api_key: str | None = field(default=None, repr=False, compare=False)

    def key(self) -> str | None:
        """The key to send, or None when one is needed and none is set."""
        key = (self.api_key or os.environ.get(self.api_key_env, "")).strip()
        if key:
            return key
        return LOCAL_PLACEHOLDER_KEY if is_local_server(self.base_url) else None

    @property
    def name(self) -> str:
        """The base URL, or OpenAI's API when none is given."""
        return (self.base_url or OPENAI_API).rstrip("/")

    @property
    def key_name(self) -> str | None:
        """The endpoint as request keys name it (normalised; None for OpenAI's API)."""
        return normalize_base_url(self.base_url)


def build_params(
    request: LLMRequest,
    *,
    json_mode: JsonMode,
    model: str | None = None,
    token_limit_param: str = "max_completion_tokens",
) -> dict[str, Any]:
    """The keyword arguments of ``chat.completions.create`` for ``request``.

    ``json_schema`` asks for Structured Outputs (strict). The json_object modes ask for a JSON
    object and put the schema into the system prompt; ``json_object`` also sends it as
    ``response_format.schema``, which llama.cpp's servers constrain decoding with.
    """
    messages = [{"role": m.role, "content": m.content} for m in request.messages]
    if json_mode == "json_schema":
        response_format: dict[str, Any] = {
            "type": "json_schema",
            "json_schema": {
                "name": request.schema_name,
                "schema": request.response_schema,
                "strict": True,
            },
        }
    else:
        response_format = {"type": "json_object"}
        if json_mode == "json_object":
            response_format["schema"] = request.response_schema
        schema_text = f"{SCHEMA_IN_PROMPT}\n{canonical_json(request.response_schema)}"
        if messages and messages[0]["role"] == "system":
            messages[0] = {
                "role": "system",
                "content": f"{messages[0]['content']}\n\n{schema_text}",
            }
        else:
            messages.insert(0, {"role": "system", "content": schema_text})
    params: dict[str, Any] = {
        "model": model or request.model,
        "messages": messages,
        "temperature": request.temperature,
        "response_format": response_format,
    }
    if request.seed is not None:
        params["seed"] = request.seed
    if request.max_tokens is not None:
        params[token_limit_param] = request.max_tokens
    return params


def parse_completion(completion: ChatCompletion) -> LLMResponse:
    """The first choice of a chat completion as an ``LLMResponse``; ServerError if it has none."""
    choices = getattr(completion, "choices", None) or []
    if not choices or getattr(choices[0], "message", None) is None:
        raise ServerError("the server's reply has no choices; check that it is a chat API")
    choice = choices[0]
    usage = getattr(completion, "usage", None)
    details = getattr(usage, "prompt_tokens_details", None) if usage else None
    return LLMResponse(
        content=choice.message.content,
        refusal=getattr(choice.message, "refusal", None),
        finish_reason=getattr(choice, "finish_reason", None) or "stop",
        usage=TokenUsage(
            prompt_tokens=(getattr(usage, "prompt_tokens", 0) or 0) if usage else 0,
            completion_tokens=(getattr(usage, "completion_tokens", 0) or 0) if usage else 0,
            cached_tokens=(getattr(details, "cached_tokens", 0) or 0) if details else 0,
        ),
        model=getattr(completion, "model", None),
        origin="live",
    )


def _retry_after(headers: httpx2.Headers | None) -> float | None:
    """Seconds from ``retry-after-ms`` or ``retry-after`` (seconds or an HTTP date), if any."""
    if headers is None:
        return None
    for name, divisor in (("retry-after-ms", 1000.0), ("retry-after", 1.0)):
        value = headers.get(name)
        if value is None:
            continue
        try:
            seconds = float(value) / divisor
        except ValueError:
            parsed = email.utils.parsedate_tz(value)
            if parsed is None:
                continue
            seconds = float(email.utils.mktime_tz(parsed) - time.time())
        if math.isfinite(seconds):
            return max(seconds, 0.0)
    return None


# Anything shaped like an OpenAI-style secret key, whoever's it is.
_KEY_PATTERN = re.compile(r"\b(sk|rk|pk)-[A-Za-z0-9_\-*]{6,}")


def _scrub(text: str, endpoint: Endpoint) -> str:
    """``text`` with the endpoint's key and anything that looks like a key masked."""
    for key in (endpoint.api_key or "", os.environ.get(endpoint.api_key_env, "")):
        if len(key.strip()) >= 4:
            text = text.replace(key.strip(), "***")
    return _KEY_PATTERN.sub(lambda m: f"{m.group(1)}-***", text)


def _server_message(exc: openai.APIStatusError) -> str:
    body = exc.body
    if isinstance(body, dict) and isinstance(body.get("message"), str):
        return str(body["message"])
    return exc.message


def _rejects_format(exc: BaseException) -> bool:
    """An error reply that says the server does not take the response format it was sent.

    Any status will do but those that speak of the key or the rate: llama-cpp-python answers
    an unknown format with a 500, vLLM a schema it cannot compile with a 400 that names the
    "JSON schema", llama.cpp's ``llama-server`` and OpenAI with a 400 naming
    ``response_format``.
    """
    import openai

    if not isinstance(exc, openai.APIStatusError) or exc.status_code in (401, 403, 429):
        return False
    return bool(_NAMES_THE_FORMAT.search(f"{exc.param or ''} {_server_message(exc)}"))


def _format_refused(exc: openai.APIStatusError, endpoint: Endpoint, mode: JsonMode) -> LLMError:
    """The error for a format rejection that is not stepped down from: never retried, since
    the same request would be refused the same way."""
    message = _scrub(" ".join(_server_message(exc).split()), endpoint)[:300]
    if mode == "json_schema" and endpoint.strict_schema:
        hint = (
            "strict_schema is on (BRIEFER_STRICT_SCHEMA or the config file); turn it off to "
            "let briefer use json_object"
        )
    else:
        hint = "check the server's structured-output support (see docs/servers.md)"
    return LLMError(
        f"{endpoint.name} does not take the {mode} response format ({exc.status_code}: "
        f"{message}); {hint}"
    )


def _map_error(exc: BaseException, endpoint: Endpoint) -> BrieferError:
    """The one translation from SDK and transport exceptions to briefer errors."""
    import openai

    where = endpoint.name
    if isinstance(exc, openai.APITimeoutError):
        return LLMTimeoutError(
            f"no reply from {where} within {endpoint.timeout:g} s; retry later or raise --timeout"
        )
    if isinstance(exc, openai.APIConnectionError):
        return ServerError(
            f"the connection to {where} failed or was dropped; check the URL and your network"
        )
    if isinstance(exc, (openai.AuthenticationError, openai.PermissionDeniedError)):
        if endpoint.api_key:
            return AuthError(
                f"the key given with --api-key was rejected by {where} ({exc.status_code}); "
                "give a valid key"
            )
        if not os.environ.get(endpoint.api_key_env, "").strip():
            return AuthError(
                f"{where} wants a key ({exc.status_code}) and none is set; "
                f"export {endpoint.api_key_env}=<your key> or pass --api-key"
            )
        return AuthError(
            f"the key in {endpoint.api_key_env} was rejected by {where} ({exc.status_code}); "
            f"set {endpoint.api_key_env} to a valid key"
        )
    if isinstance(exc, openai.RateLimitError):
        wait = _retry_after(exc.response.headers)
        hint = f"the server asks to wait {wait:g} s" if wait is not None else "wait a minute"
        return RateLimitError(
            f"{where} is rate limiting requests (429); {hint}, or lower --concurrency",
            retry_after=wait,
        )
    if isinstance(exc, openai.APIStatusError):
        if exc.status_code >= 500:
            return ServerError(
                f"{where} failed with {exc.status_code}; retry later", status=exc.status_code
            )
        message = _scrub(" ".join(_server_message(exc).split()), endpoint)
        return LLMError(f"{where} rejected the request ({exc.status_code}): {message}")
    if isinstance(exc, (json.JSONDecodeError, openai.APIResponseValidationError)):
        return ServerError(f"{where} sent a reply that is not a chat completion; retry later")
    if isinstance(exc, openai.OpenAIError):
        return LLMError(f"the request to {where} failed: {_scrub(str(exc), endpoint)}")
    raise TypeError(f"not an SDK error: {type(exc).__name__}") from exc


def map_sdk_error(exc: BaseException, endpoint: Endpoint) -> BrieferError:
    """An SDK error as the briefer error it means (for other calls to the endpoint than chat
    completions: files, batches)."""
    return _map_error(exc, endpoint)


_RETRYABLE = (RateLimitError, LLMTimeoutError, ServerError)


def _retry_reason(error: BrieferError) -> str:
    """Why a call is sent again, in a few words (shown as progress)."""
    if isinstance(error, RateLimitError):
        return "rate limited (429)"
    if isinstance(error, LLMTimeoutError):
        return "no reply in time"
    if isinstance(error, ServerError) and error.status is not None:
        return f"server error ({error.status})"
    return "connection failed or the reply was not a chat completion"


class OpenAIClient:
    """``LLMClient`` for OpenAI and OpenAI-compatible servers (Ollama, vLLM, llama.cpp).

    The key is read from ``endpoint.api_key_env`` at the first call, not at construction, so a
    client can be built for runs that turn out to need no call (all cached). ``model``, when
    given, is sent instead of ``request.model`` (for a server that names its model otherwise);
    ``bind`` gives the request as it goes out, with that model and this endpoint, which is what
    recordings, the cache and prices key on. An endpoint without a base URL is OpenAI's API;
    the client reads no setting itself (``briefer.settings`` does, ``OPENAI_BASE_URL``
    among them), so the URL keyed is the URL asked. ``retries``
    counts every retry this client made; ``format_rejections`` holds, for each response format
    a server refused, what it said.
    """

    def __init__(
        self,
        model: str | None = None,
        endpoint: Endpoint | None = None,
        *,
        max_retries: int = 4,
        backoff_base: float = 0.5,
        backoff_max: float = 20.0,
        http_client: httpx2.AsyncClient | None = None,
    ) -> None:
        self.model = model
        self.endpoint = endpoint or Endpoint()
        self.format_rejections: list[str] = []
        self.max_retries = max(0, max_retries)
        self.backoff_base = backoff_base
        self.backoff_max = backoff_max
        self.retries = 0
        self._http_client = http_client
        self._sdk: openai.AsyncOpenAI | None = None
        self._sdk_loop: asyncio.AbstractEventLoop | None = None

    def sdk(self) -> openai.AsyncOpenAI:
        """The SDK client this client calls through (for the endpoint's other APIs: files,
        batches); AuthError before any connection if no key."""
        return self._client()

    def params(self, request: LLMRequest) -> dict[str, Any]:
        """The body this client sends for ``request`` now: its model, the response format the
        endpoint takes, the token limit under the name the endpoint reads."""
        request = self.bind(request)
        # OpenAI's API names the limit max_completion_tokens; the servers briefer is used with
        # (Ollama among them, which ignores the newer name) read max_tokens.
        default_api = self.endpoint.key_name is None
        token_param = "max_completion_tokens" if default_api else "max_tokens"
        return build_params(request, json_mode=self.json_mode, token_limit_param=token_param)

    def _client(self) -> openai.AsyncOpenAI:
        """The SDK client for the running loop; AuthError before any connection if no key."""
        key = self.endpoint.key()
        if key is None:
            name = self.endpoint.api_key_env
            raise AuthError(
                f"{name} is not set; export {name}=<your key>, pass --api-key, "
                "or run from recordings with --replay DIR"
            )
        loop = asyncio.get_running_loop()
        if self._sdk is None or self._sdk_loop is not loop:
            # Connection pools belong to one event loop; a new loop (asyncio.run) gets a new client.
            import openai

            self._sdk = openai.AsyncOpenAI(
                api_key=key,
                # Always given: with None the SDK would read OPENAI_BASE_URL itself, and the
                # server asked would not be the one keyed (settings read that variable).
                base_url=self.endpoint.name,
                timeout=self.endpoint.timeout,
                max_retries=0,
                http_client=self._http_client,
            )
            self._sdk_loop = loop
        return self._sdk

    @property
    def json_mode(self) -> JsonMode:
        """The response format the next request to this endpoint will use."""
        if self.endpoint.strict_schema:
            return "json_schema"
        start: JsonMode = "json_schema" if self.endpoint.strict_schema is None else "json_object"
        learned = _ENDPOINT_JSON_MODES.get(self.endpoint.name, start)
        return max(start, learned, key=JSON_MODES.index)

    def _step_down(self, mode: JsonMode) -> JsonMode | None:
        """The format after ``mode``, remembered for the endpoint; None when there is none."""
        if self.endpoint.strict_schema or mode == JSON_MODES[-1]:
            return None
        lower = JSON_MODES[JSON_MODES.index(mode) + 1]
        _ENDPOINT_JSON_MODES[self.endpoint.name] = max(
            lower, _ENDPOINT_JSON_MODES.get(self.endpoint.name, lower), key=JSON_MODES.index
        )
        return lower

    def bind(self, request: LLMRequest) -> LLMRequest:
        """``request`` with the model this client sends and the endpoint it asks."""
        model = self.model or request.model
        endpoint = self.endpoint.key_name
        if request.model == model and request.endpoint == endpoint:
            return request
        return request.model_copy(update={"model": model, "endpoint": endpoint})

    def _backoff(self, attempt: int, error: BrieferError) -> float:
        if isinstance(error, RateLimitError) and error.retry_after is not None:
            # Never sooner than asked; a little later so many clients do not return at once.
            return error.retry_after * (1.0 + 0.1 * random.random())
        return min(self.backoff_max, self.backoff_base * 2.0**attempt) * (
            0.5 + 0.5 * random.random()
        )

    async def complete(self, request: LLMRequest) -> LLMResponse:
        ctx = request.context
        try:
            return await self._complete(request)
        except BrieferError as exc:
            if isinstance(exc, LLMError) and exc.stage is None:
                exc.stage, exc.source_id, exc.chunk_id = ctx.stage, ctx.source_id, ctx.chunk_id
            raise

    async def _complete(self, request: LLMRequest) -> LLMResponse:
        import openai
        from openai.types.chat import ChatCompletion

        client = self._client()
        request = self.bind(request)
        attempt = 0
        while True:
            mode = self.json_mode
            params = self.params(request)
            try:
                completion = await client.chat.completions.create(**params)
                if not isinstance(completion, ChatCompletion):
                    raise ServerError(
                        f"{self.endpoint.name} sent a reply that is not a chat completion"
                    )
                return parse_completion(completion)
            except (openai.OpenAIError, json.JSONDecodeError, ServerError) as exc:
                if isinstance(exc, openai.APIStatusError) and _rejects_format(exc):
                    said = " ".join(_server_message(exc).split())[:200]
                    self.format_rejections.append(
                        f"{mode}: {exc.status_code} {_scrub(said, self.endpoint)}"
                    )
                    lower = self._step_down(mode)
                    if lower is None:
                        raise _format_refused(exc, self.endpoint, mode) from exc
                    # Later calls to this endpoint start from the lower format.
                    log.info("%s rejects %s; using %s", self.endpoint.name, mode, lower)
                    continue
                error = exc if isinstance(exc, ServerError) else _map_error(exc, self.endpoint)
                if not isinstance(error, _RETRYABLE) or attempt >= self.max_retries:
                    raise error from exc
                if isinstance(error, RateLimitError) and (error.retry_after or 0) > MAX_RETRY_AFTER:
                    raise error from exc
                delay = self._backoff(attempt, error)
                attempt += 1
                self.retries += 1
                note_retry(_retry_reason(error), delay)
                log.info(
                    "retrying in %.2f s (%d of %d): %s", delay, attempt, self.max_retries, error
                )
                await asyncio.sleep(delay)

    async def aclose(self) -> None:
        if self._sdk is not None:
            await self._sdk.close()
            self._sdk = None

    async def __aenter__(self) -> OpenAIClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()
