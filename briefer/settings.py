"""Settings, merged from defaults < config file < ``BRIEFER_*`` variables < command-line flags,
and the client stack they describe (``build_client``).

The config file is TOML at ``BRIEFER_CONFIG`` (which must exist when set), else
``<user config dir>/briefer/config.toml`` (read when it exists); its keys are the ``Settings``
field names (``prices`` is a table of ``{input, output, cached_input}`` per model). The API key is
never written in a file: the settings name the variable that holds it (``api_key_env``), and only
a command-line flag (``--api-key``) can give it directly.

``resolve_settings`` also says where each value came from, for ``briefer settings``.

The file's ``[daily]`` table (and ``[daily.mail]``) configures ``briefer daily``:
``DailySettings``, resolved by ``resolve_daily_settings`` in the same order (file <
``BRIEFER_DAILY_*`` and ``BRIEFER_SMTP_*`` variables < flags). The mail password is never in a
file either: ``password_env`` names the variable that holds it.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import os
import tomllib
from email.utils import parseaddr
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import platformdirs
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)

from briefer._defaults import CONCURRENCY, MODEL, TIMEOUT
from briefer.errors import ConfigError

if TYPE_CHECKING:  # imported when used: reading settings must stay cheap (``briefer --help``)
    from briefer.llm.base import LLMClient
    from briefer.llm.pricing import Price

__all__ = [
    "DAILY_ENV_VARIABLES",
    "ENV_VARIABLES",
    "DailySettings",
    "MailSettings",
    "PriceOverride",
    "Settings",
    "build_client",
    "config_path",
    "load_settings",
    "resolve_daily_settings",
    "resolve_settings",
]


class PriceOverride(BaseModel):
    """USD per million tokens."""

    model_config = ConfigDict(extra="forbid")

    input: float = Field(ge=0)
    output: float = Field(ge=0)
    cached_input: float = Field(ge=0)
    # The Batch API's prices; not given: half of the direct ones.
    batch_input: float | None = Field(default=None, ge=0)
    batch_output: float | None = Field(default=None, ge=0)
    batch_cached_input: float | None = Field(default=None, ge=0)


class Settings(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    model: str = MODEL
    base_url: str | None = None
    api_key_env: str = Field(default="OPENAI_API_KEY", min_length=1)
    timeout: float = Field(default=TIMEOUT, gt=0)
    max_retries: int = Field(default=4, ge=0)
    backoff: float = Field(default=0.5, ge=0)  # seconds before the first retry; doubles after
    strict_schema: bool | None = None
    concurrency: int = Field(default=CONCURRENCY, ge=1)
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
    # Calls answered by the OpenAI Batch API (docs/batch.md): submitted, waited for (or not:
    # batch_wait off), repairs in another batch or sent directly.
    batch: bool = False
    batch_wait: bool = True
    batch_repair: Literal["batch", "direct"] = "batch"
    batch_poll: float = Field(default=10.0, gt=0)  # seconds before the first check; grows
    batch_max_lines: int = Field(default=50_000, ge=1, le=50_000)  # requests per input file
    # Only from a command-line flag, never from a file or BRIEFER_* variable; never printed.
    api_key: SecretStr | None = Field(default=None, exclude=True)

    def store_path(self) -> Path | None:
        """The story store's file, or None when the store is off."""
        if self.no_store:
            return None
        if self.store is not None:
            return self.store.expanduser()
        return Path(platformdirs.user_data_dir("briefer")) / "stories.db"

    def http_cache_dir(self) -> Path | None:
        """Where fetched pages are kept for conditional requests (ETag, Last-Modified), beside
        the replies' cache; None when caching is off."""
        if not self.cache:
            return None
        return Path(platformdirs.user_cache_dir("briefer")) / "http"

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
    "BRIEFER_BATCH": "batch",
    "BRIEFER_BATCH_WAIT": "batch_wait",
    "BRIEFER_BATCH_REPAIR": "batch_repair",
    "BRIEFER_BATCH_POLL": "batch_poll",
    "BRIEFER_BATCH_MAX_LINES": "batch_max_lines",
}


# Settings whose flag is not named after them.
_FLAGS = {
    "replay_dir": "--replay",
    "record_dir": "--record",
    "cache": "--no-cache",
    "no_store": "--no-store",
    "batch_wait": "--no-wait",
}

_FILE_SETTINGS = [name for name in Settings.model_fields if name != "api_key"]


def config_path() -> Path:
    configured = os.environ.get("BRIEFER_CONFIG")
    if configured:
        return Path(configured).expanduser()
    return Path(platformdirs.user_config_dir("briefer")) / "config.toml"


def _read_config(path: Path, *, named: bool) -> dict[str, Any]:
    """The config file's TOML; ``named``: the file was named (``--config``), so it must exist."""
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        if named:
            raise ConfigError(f"--config {path}: no such file") from None
        if os.environ.get("BRIEFER_CONFIG"):
            raise ConfigError(
                f"BRIEFER_CONFIG names {path}, which does not exist; create it or unset "
                "BRIEFER_CONFIG"
            ) from None
        return {}
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"cannot read the config file {path}: {exc}") from None


def _from_file(path: Path, *, named: bool = False) -> dict[str, Any]:
    data = _read_config(path, named=named)
    data.pop("daily", None)  # briefer daily's table: resolve_daily_settings reads it
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
        elif name in ("cache", "strict_schema", "no_store", "batch", "batch_wait"):
            lowered = raw.strip().lower()
            if lowered in ("1", "true", "yes", "on"):
                value = True
            elif lowered in ("0", "false", "no", "off"):
                value = False
            else:
                raise ConfigError(f"{variable}={raw!r} is not a yes/no value; use 1 or 0")
        found[name] = (variable, value)
    return found


def load_settings(*, config_file: Path | None = None, **cli_overrides: Any) -> Settings:
    """Defaults < config file < ``BRIEFER_*`` variables < ``cli_overrides`` (None = not given).
    ``config_file`` (``--config``) is read instead of ``config_path()`` and must exist."""
    return resolve_settings(config_file=config_file, **cli_overrides)[0]


def resolve_settings(
    *, config_file: Path | None = None, **cli_overrides: Any
) -> tuple[Settings, dict[str, str]]:
    """``load_settings``, and where each setting that is not a default came from (the config
    file's path, a variable's name or a flag)."""
    path = config_file.expanduser() if config_file is not None else config_path()
    merged: dict[str, Any] = {}
    origin: dict[str, str] = {}
    for name, value in _from_file(path, named=config_file is not None).items():
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


# --- briefer daily: the config file's [daily] and [daily.mail] tables ----------------------

DailyFormat = Literal["markdown", "html", "json"]
MailSecurity = Literal["starttls", "ssl", "none"]

_DAILY_FORMATS: tuple[DailyFormat, ...] = ("markdown", "html", "json")
_SMTP_PORTS: dict[str, int] = {"starttls": 587, "ssl": 465, "none": 25}


def _is_loopback_host(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _address(value: str) -> str:
    """A mail address as written ("Name <a@b>" or "a@b"), refused when it holds none."""
    _, address = parseaddr(value)
    if "@" not in address or address.startswith("@") or address.endswith("@"):
        raise ValueError(f"{value!r} is not a mail address")
    return value


class MailSettings(BaseModel):
    """Where ``briefer daily`` mails the briefing (``[daily.mail]``). The password is never a
    setting: ``password_env`` names the variable that holds it, read when the mail is sent."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True)

    host: str = Field(min_length=1)
    port: int | None = Field(default=None, ge=1, le=65535)  # None: the security's usual port
    # STARTTLS on the submission port; "ssl": TLS from the start; "none": no TLS, for a relay
    # on this machine (a password is never sent in clear to another).
    security: MailSecurity = "starttls"
    sender: str = Field(alias="from")
    to: list[str] = Field(min_length=1)
    username: str | None = None
    password_env: str = Field(default="BRIEFER_SMTP_PASSWORD", min_length=1)
    ca_file: Path | None = None  # certificates to trust besides the system's (a private CA)
    timeout: float = Field(default=30.0, gt=0)

    @field_validator("sender")
    @classmethod
    def _one_address(cls, value: str) -> str:
        return _address(value)

    @field_validator("to")
    @classmethod
    def _addresses(cls, value: list[str]) -> list[str]:
        return [_address(v) for v in value]

    @model_validator(mode="after")
    def _no_password_in_clear(self) -> MailSettings:
        if self.security == "none" and self.username and not _is_loopback_host(self.host):
            raise ValueError(
                f"security 'none' would send the password to {self.host} in clear: use "
                "starttls or ssl"
            )
        return self

    def port_in_use(self) -> int:
        return self.port if self.port is not None else _SMTP_PORTS[self.security]


_SPAN_UNITS = {"m": "minutes", "h": "hours", "d": "days"}


def parse_span(value: object) -> dt.timedelta | None:
    """A window as written: "24h", "36h", "2d", "90m", or "all" (None: every entry)."""
    if value is None or isinstance(value, dt.timedelta):
        return value
    text = str(value).strip().lower()
    if text in ("all", "none"):
        return None
    try:
        amount = float(text[:-1])
    except ValueError:
        amount = -1.0
    if text[-1:] not in _SPAN_UNITS or amount <= 0 or isinstance(value, bool | int | float):
        raise ValueError(f"{value!r} is no span: give one such as 24h, 36h or 2d, or 'all'")
    return dt.timedelta(**{_SPAN_UNITS[text[-1:]]: amount})


def _default_daily_out() -> Path:
    return Path(platformdirs.user_data_dir("briefer")) / "daily"


class DailySettings(BaseModel):
    """What ``briefer daily`` runs (``[daily]``): the day's sources, where the briefings go and
    in which formats, the series' title, how far back the Atom feed reaches, and the mail."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    # Anything `briefer brief` takes: files, folders, URLs, feeds, OPML lists.
    sources: list[str] = Field(default_factory=list)
    out: Path = Field(default_factory=_default_daily_out)
    # The JSON is written whatever these say: the index and the feed are made from it.
    formats: list[DailyFormat] = Field(default_factory=lambda: list(_DAILY_FORMATS))
    title: str = Field(default="Daily briefing", min_length=1)  # each day: "<title>, 5 March 2026"
    # Feed entries published within this span before the day's end (before now, for today) are
    # read; None ("all"): every entry. As `briefer brief --window`.
    window: dt.timedelta | None = dt.timedelta(hours=24)
    allow_summaries: bool = False  # brief a snippet-only or paywalled entry from its summary
    feed_days: int = Field(default=30, ge=1)  # days of briefings the Atom feed carries
    site_url: str | None = None  # the address OUT is served at, for absolute links in the feed
    compose: bool = True
    allow_private: bool = False  # sources on loopback or private addresses
    max_bytes: int = Field(default=5 * 1024 * 1024, ge=1)
    mail: MailSettings | None = None

    @field_validator("window", mode="before")
    @classmethod
    def _window(cls, value: object) -> dt.timedelta | None:
        return parse_span(value)

    @field_validator("sources")
    @classmethod
    def _no_stdin(cls, value: list[str]) -> list[str]:
        if "-" in value:
            raise ValueError("'-' (stdin) is not a source a scheduled run can read")
        return value

    @field_validator("formats")
    @classmethod
    def _some_formats(cls, value: list[str]) -> list[str]:
        if not value:
            raise ValueError("give at least one of markdown, html, json")
        return list(dict.fromkeys(value))

    @field_validator("site_url")
    @classmethod
    def _site(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if not value.startswith(("http://", "https://")):
            raise ValueError(f"{value!r} is not an http(s) address")
        return value if value.endswith("/") else value + "/"


# Environment variable -> daily setting ("mail.x" for [daily.mail]); lists are comma-separated.
DAILY_ENV_VARIABLES: dict[str, str] = {
    "BRIEFER_DAILY_OUT": "out",
    "BRIEFER_DAILY_FORMATS": "formats",
    "BRIEFER_DAILY_TITLE": "title",
    "BRIEFER_DAILY_WINDOW": "window",
    "BRIEFER_DAILY_FEED_DAYS": "feed_days",
    "BRIEFER_DAILY_SITE_URL": "site_url",
    "BRIEFER_SMTP_HOST": "mail.host",
    "BRIEFER_SMTP_PORT": "mail.port",
    "BRIEFER_SMTP_SECURITY": "mail.security",
    "BRIEFER_SMTP_FROM": "mail.from",
    "BRIEFER_SMTP_TO": "mail.to",
    "BRIEFER_SMTP_USERNAME": "mail.username",
    "BRIEFER_SMTP_PASSWORD_ENV": "mail.password_env",
}
_DAILY_LISTS = {"formats", "mail.to"}
_DAILY_PATHS = {"out", "mail.ca_file"}


def _is_url(source: str) -> bool:
    return "://" in source


def _beside(path: Path, value: str) -> str:
    """A path from the config file: ``~`` expanded, relative to the file's folder (a scheduled
    run starts in no particular folder)."""
    expanded = Path(value).expanduser()
    return str(expanded if expanded.is_absolute() else path.absolute().parent / expanded)


def _daily_from_file(path: Path, *, named: bool) -> dict[str, Any]:
    """The file's ``[daily]`` table, flattened to ``name`` / ``mail.name``, paths resolved."""
    table = _read_config(path, named=named).get("daily", {})
    if not isinstance(table, dict):
        raise ConfigError(f"daily in {path} must be a table ([daily])")
    mail = table.get("mail", {})
    if not isinstance(mail, dict):
        raise ConfigError(f"daily.mail in {path} must be a table ([daily.mail])")
    if "password" in mail:
        raise ConfigError(
            f"{path} holds a mail password: remove it, and set daily.mail.password_env to the "
            "name of the environment variable that holds it"
        )
    flat: dict[str, Any] = {k: v for k, v in table.items() if k != "mail"}
    flat |= {f"mail.{k}": v for k, v in mail.items()}
    for name in _DAILY_PATHS & set(flat):
        if isinstance(flat[name], str):
            flat[name] = _beside(path, flat[name])
    if isinstance(flat.get("sources"), list):
        flat["sources"] = [
            _beside(path, s) if isinstance(s, str) and s != "-" and not _is_url(s) else s
            for s in flat["sources"]
        ]
    return flat


def _daily_from_env() -> dict[str, tuple[str, Any]]:
    found: dict[str, tuple[str, Any]] = {}
    for variable, name in DAILY_ENV_VARIABLES.items():
        raw = os.environ.get(variable, "").strip()
        if not raw:
            continue
        value: Any = (
            [p.strip() for p in raw.split(",") if p.strip()] if name in _DAILY_LISTS else raw
        )
        found[name] = (variable, value)
    return found


def resolve_daily_settings(
    *, config_file: Path | None = None, **flags: Any
) -> tuple[DailySettings, dict[str, str]]:
    """``briefer daily``'s settings: defaults < the config file's ``[daily]`` table <
    ``BRIEFER_DAILY_*`` / ``BRIEFER_SMTP_*`` variables < ``flags`` (DailySettings fields, None =
    not given; ``mail=False`` turns the mail off), and where each came from."""
    path = config_file.expanduser() if config_file is not None else config_path()
    merged: dict[str, Any] = {}
    origin: dict[str, str] = {}
    for name, value in _daily_from_file(path, named=config_file is not None).items():
        merged[name], origin[name] = value, str(path)
    for name, (variable, value) in _daily_from_env().items():
        merged[name], origin[name] = value, variable
    no_mail = flags.pop("mail", None) is False
    for name, value in flags.items():
        if name not in DailySettings.model_fields or name == "mail":
            raise TypeError(f"unknown daily setting {name!r}")
        if value is not None:
            merged[name], origin[name] = value, f"--{name.replace('_', '-')}"
    data: dict[str, Any] = {k: v for k, v in merged.items() if not k.startswith("mail.")}
    mail = {k.removeprefix("mail."): v for k, v in merged.items() if k.startswith("mail.")}
    if mail and not no_mail:
        data["mail"] = mail
    try:
        return DailySettings.model_validate(data), origin
    except ValidationError as exc:
        # A value given and wrong says more than one not given.
        first = sorted(exc.errors(), key=lambda e: e["type"] == "missing")[0]
        loc = [str(part) for part in first["loc"] if not isinstance(part, int)]
        name = ".".join(loc) if loc else "mail"
        where = origin.get(name) or origin.get(loc[0] if loc else "", "") or _mail_origin(origin)
        message = str(first["msg"]).removeprefix("Value error, ")
        if first["type"] == "missing":
            table = "[daily.mail]" if name.startswith("mail.") else "[daily]"
            raise ConfigError(
                f"daily.{name} is not set: give it in {table} of {path}"
                + (f" (the mail is configured by {where})" if where else "")
            ) from None
        raise ConfigError(
            f"daily.{name} from {where or 'defaults'}: {message} (got {_got(merged, name)!r})"
        ) from None


def _mail_origin(origin: dict[str, str]) -> str:
    """Where the mail settings came from, for an error about the mail as a whole."""
    return ", ".join(sorted({v for k, v in origin.items() if k.startswith("mail.")}))


def _got(merged: dict[str, Any], name: str) -> Any:
    if name in merged:
        return merged[name]
    if name == "mail":
        return {k.removeprefix("mail."): v for k, v in merged.items() if k.startswith("mail.")}
    return merged.get(name.split(".")[0])


def build_client(settings: Settings) -> LLMClient:
    """The client stack ``settings`` describe.

    ``replay_dir``: a ReplayClient alone (no key, no network). Otherwise an OpenAIClient,
    wrapped in a CachingClient unless ``cache`` is off, with ``batch`` in a BatchClient (whose
    batches' replies the cache keeps), then in a RecordingClient when ``record_dir`` is set:
    recording is outermost so that it keeps every reply the run used, from the cache, a batch
    or not, and the recordings replay the whole run. The key is read only when a
    call reaches the OpenAIClient, so a run that is fully cached needs none.
    """
    from briefer.llm.openai import Endpoint, OpenAIClient
    from briefer.llm.recording import CachingClient, RecordingClient
    from briefer.llm.replay import ReplayClient

    if settings.replay_dir is not None:
        if settings.batch:
            raise ConfigError("a replay makes no call: drop --batch (or BRIEFER_BATCH)")
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
    if settings.batch:
        from briefer.llm import BatchClient, BatchLimits

        if not settings.cache:
            raise ConfigError("--batch keeps the batches' replies in the cache: drop --no-cache")
        client = BatchClient(
            client,
            repairs=settings.batch_repair,
            wait=settings.batch_wait,
            poll=settings.batch_poll,
            limits=BatchLimits(lines=settings.batch_max_lines),
        )
    if settings.record_dir is not None:
        client = RecordingClient(client, settings.record_dir)
    return client
