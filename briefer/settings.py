"""Settings, merged from defaults < config file < ``BRIEFER_*`` variables < command-line flags,
and the client stack they describe (``build_client``).

The config file is TOML at ``BRIEFER_CONFIG`` (which must exist when set), else
``<user config dir>/briefer/config.toml`` (read when it exists); its keys are the ``Settings``
field names (``prices`` is a table of ``{input, output, cached_input}`` per model). The API key is
never written in a file: the settings name the variable that holds it (``api_key_env``), and only
a command-line flag (``--api-key``) can give it directly.

``resolve_settings`` also says where each value came from, for ``briefer settings``.
"""

from __future__ import annotations

import json
import os
import tomllib
from pathlib import Path
from typing import TYPE_CHECKING, Any

import platformdirs
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError

from briefer.errors import ConfigError

if TYPE_CHECKING:  # imported when used: reading settings must stay cheap (``briefer --help``)
    from briefer.llm.base import LLMClient
    from briefer.llm.pricing import Price

__all__ = [
    "ENV_VARIABLES",
    "PriceOverride",
    "Settings",
    "build_client",
    "config_path",
    "load_settings",
    "resolve_settings",
]


class PriceOverride(BaseModel):
    """USD per million tokens."""

    model_config = ConfigDict(extra="forbid")

    input: float = Field(ge=0)
    output: float = Field(ge=0)
    cached_input: float = Field(ge=0)


class Settings(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    model: str = "gpt-4.1-mini"
    base_url: str | None = None
    api_key_env: str = Field(default="OPENAI_API_KEY", min_length=1)
    timeout: float = Field(default=60.0, gt=0)
    max_retries: int = Field(default=4, ge=0)
    backoff: float = Field(default=0.5, ge=0)  # seconds before the first retry; doubles after
    strict_schema: bool | None = None
    concurrency: int = Field(default=8, ge=1)
    fetch_timeout: float = Field(default=15.0, gt=0)  # seconds to wait for a URL's server
    max_cost: float | None = Field(default=None, ge=0)
    max_repairs: int = Field(default=2, ge=0)
    cache: bool = True
    cache_dir: Path | None = None
    record_dir: Path | None = None
    replay_dir: Path | None = None
    store: Path | None = None  # the story store; None: the user data directory's stories.db
    no_store: bool = False  # brief without memory across days
    prices: dict[str, PriceOverride] = Field(default_factory=dict)
    # Only from a command-line flag, never from a file or BRIEFER_* variable; never printed.
    api_key: SecretStr | None = Field(default=None, exclude=True)

    def store_path(self) -> Path | None:
        """The story store's file, or None when the store is off."""
        if self.no_store:
            return None
        if self.store is not None:
            return self.store.expanduser()
        return Path(platformdirs.user_data_dir("briefer")) / "stories.db"

    def price_table(self) -> dict[str, Price]:
        """The price overrides in the form ``briefer.llm.pricing`` takes."""
        from briefer.llm.pricing import Price

        return {name: Price(**p.model_dump()) for name, p in self.prices.items()}


# Environment variable -> setting, the later winning over the earlier (BRIEFER_BASE_URL over the
# OpenAI SDK's own OPENAI_BASE_URL). Booleans take 1/0, true/false, yes/no, on/off. These are the
# only variables briefer reads, besides the one that holds the key (api_key_env).
ENV_VARIABLES: dict[str, str] = {
    "OPENAI_BASE_URL": "base_url",
    "BRIEFER_MODEL": "model",
    "BRIEFER_BASE_URL": "base_url",
    "BRIEFER_API_KEY_ENV": "api_key_env",
    "BRIEFER_TIMEOUT": "timeout",
    "BRIEFER_MAX_RETRIES": "max_retries",
    "BRIEFER_BACKOFF": "backoff",
    "BRIEFER_STRICT_SCHEMA": "strict_schema",
    "BRIEFER_CONCURRENCY": "concurrency",
    "BRIEFER_FETCH_TIMEOUT": "fetch_timeout",
    "BRIEFER_MAX_COST": "max_cost",
    "BRIEFER_MAX_REPAIRS": "max_repairs",
    "BRIEFER_CACHE": "cache",
    "BRIEFER_CACHE_DIR": "cache_dir",
    "BRIEFER_RECORD_DIR": "record_dir",
    "BRIEFER_REPLAY_DIR": "replay_dir",
    "BRIEFER_STORE": "store",
    "BRIEFER_NO_STORE": "no_store",
    "BRIEFER_PRICES": "prices",
}


# Settings whose flag is not named after them.
_FLAGS = {
    "replay_dir": "--replay",
    "record_dir": "--record",
    "cache": "--no-cache",
    "no_store": "--no-store",
}

_FILE_SETTINGS = [name for name in Settings.model_fields if name != "api_key"]


def config_path() -> Path:
    configured = os.environ.get("BRIEFER_CONFIG")
    if configured:
        return Path(configured).expanduser()
    return Path(platformdirs.user_config_dir("briefer")) / "config.toml"


def _from_file(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            data = tomllib.load(handle)
    except FileNotFoundError:
        if os.environ.get("BRIEFER_CONFIG"):
            raise ConfigError(
                f"BRIEFER_CONFIG names {path}, which does not exist; create it or unset "
                "BRIEFER_CONFIG"
            ) from None
        return {}
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"cannot read the config file {path}: {exc}") from None
    if "api_key" in data:
        raise ConfigError(
            f"{path} holds an API key: remove it, and set api_key_env to the name of the "
            "environment variable that holds the key"
        )
    unknown = sorted(set(data) - set(_FILE_SETTINGS))
    if unknown:
        raise ConfigError(
            f"unknown setting(s) {', '.join(unknown)} in {path}; known: {', '.join(_FILE_SETTINGS)}"
        )
    return data


def _from_env() -> dict[str, tuple[str, Any]]:
    found: dict[str, tuple[str, Any]] = {}
    for variable, name in ENV_VARIABLES.items():
        raw = os.environ.get(variable)
        if raw is None or raw == "":
            continue
        value: Any = raw
        if name == "prices":
            try:
                value = json.loads(raw)
            except json.JSONDecodeError:
                raise ConfigError(f"{variable} is not a JSON object; fix or unset it") from None
        elif name in ("cache", "strict_schema", "no_store"):
            lowered = raw.strip().lower()
            if lowered in ("1", "true", "yes", "on"):
                value = True
            elif lowered in ("0", "false", "no", "off"):
                value = False
            else:
                raise ConfigError(f"{variable}={raw!r} is not a yes/no value; use 1 or 0")
        found[name] = (variable, value)
    return found


def load_settings(**cli_overrides: Any) -> Settings:
    """Defaults < config file < ``BRIEFER_*`` variables < ``cli_overrides`` (None = not given)."""
    return resolve_settings(**cli_overrides)[0]


def resolve_settings(**cli_overrides: Any) -> tuple[Settings, dict[str, str]]:
    """``load_settings``, and where each setting that is not a default came from (the config
    file's path, a variable's name or a flag)."""
    path = config_path()
    merged: dict[str, Any] = {}
    origin: dict[str, str] = {}
    for name, value in _from_file(path).items():
        merged[name], origin[name] = value, str(path)
    for name, (variable, value) in _from_env().items():
        merged[name], origin[name] = value, variable
    for name, value in cli_overrides.items():
        if name not in Settings.model_fields:
            raise TypeError(f"unknown setting {name!r}")
        if value is not None:
            merged[name], origin[name] = value, _FLAGS.get(name, f"--{name.replace('_', '-')}")
    try:
        return Settings.model_validate(merged), origin
    except ValidationError as exc:
        first = exc.errors()[0]
        name = str(first["loc"][0]) if first["loc"] else "?"
        where = origin.get(name, "defaults")
        raise ConfigError(
            f"{name} from {where}: {first['msg']} (got {merged.get(name)!r})"
        ) from None


def build_client(settings: Settings) -> LLMClient:
    """The client stack ``settings`` describe.

    ``replay_dir``: a ReplayClient alone (no key, no network). Otherwise an OpenAIClient,
    wrapped in a CachingClient unless ``cache`` is off, then in a RecordingClient when
    ``record_dir`` is set: recording is outermost so that it keeps every reply the run used,
    from the cache or not, and the recordings replay the whole run. The key is read only when a
    call reaches the OpenAIClient, so a run that is fully cached needs none.
    """
    from briefer.llm.openai import Endpoint, OpenAIClient
    from briefer.llm.recording import CachingClient, RecordingClient
    from briefer.llm.replay import ReplayClient

    if settings.replay_dir is not None:
        return ReplayClient(settings.replay_dir)
    endpoint = Endpoint(
        base_url=settings.base_url,
        api_key_env=settings.api_key_env,
        timeout=settings.timeout,
        strict_schema=settings.strict_schema,
        api_key=settings.api_key.get_secret_value() if settings.api_key else None,
    )
    client: LLMClient = OpenAIClient(
        endpoint=endpoint, max_retries=settings.max_retries, backoff_base=settings.backoff
    )
    if settings.cache:
        client = CachingClient(client, settings.cache_dir)
    if settings.record_dir is not None:
        client = RecordingClient(client, settings.record_dir)
    return client
