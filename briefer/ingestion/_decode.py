"""Bytes to text, for files, stdin and fetched pages alike, and text as briefer keeps it.

One decoder (``decode_text``) tries, in this order: the charset a server declared, a byte-order
mark (UTF-8 or UTF-16), UTF-8, then an HTML page's ``<meta charset>``; a fetched page may then
have its encoding detected (charset-normalizer), a file never: a file that is not UTF-8 is
reported as such, with the first byte that is not, rather than guessed at. Bytes that are no text
at all (a NUL byte outside UTF-16, or mostly control characters) are ``NotText``.

Text is kept exactly as decoded, except that ``normalize_newlines`` drops a byte-order mark and
turns CRLF and CR into LF: every later offset points into it.
"""

from __future__ import annotations

import codecs
import re

__all__ = ["NotText", "decode_text", "displayable", "normalize_newlines"]

_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.I)
# A declaration sits in a page's head: look no further for one.
_META_BYTES = 4096
# How much of a text is looked at to tell text from binary.
_SAMPLE_CHARS = 8192


class NotText(ValueError):
    """Bytes that are no text at all (a picture, an archive), as opposed to text in another
    encoding."""


def _mostly_control(text: str) -> bool:
    sample = text[:_SAMPLE_CHARS]
    return bool(sample) and len(_CONTROL_CHARS.findall(sample)) > len(sample) // 20


def _known_codec(name: str | None) -> str | None:
    if not name:
        return None
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def _meta_charset(data: bytes) -> str | None:
    match = _META_CHARSET.search(data[:_META_BYTES])
    return _known_codec(match.group(1).decode("ascii", "ignore")) if match else None


def decode_text(
    data: bytes,
    *,
    html: bool = False,
    declared_charset: str | None = None,
    detect: bool = False,
) -> tuple[str, str]:
    """``(text, codec)`` of ``data``, by the rules of the module docstring.

    Raises ``NotText`` when the bytes are no text, and ``ValueError`` with the reason when no
    encoding tried fits (with ``detect``, when detection finds none either).
    """
    utf16 = data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE))
    if b"\x00" in data and not utf16:
        raise NotText("binary file, not text")
    candidates = [
        _known_codec(declared_charset),
        "utf-16" if utf16 else None,
        "utf-8-sig",  # UTF-8, without its byte-order mark if it has one
        _meta_charset(data) if html else None,
    ]
    not_utf8: UnicodeDecodeError | None = None
    for codec in dict.fromkeys(c for c in candidates if c is not None):
        try:
            text = data.decode(codec)
        except UnicodeDecodeError as exc:
            if codec == "utf-8-sig":
                not_utf8 = exc
            continue
        if _mostly_control(text):
            raise NotText("binary file, not text")
        if codec == "utf-8-sig" and not data.startswith(codecs.BOM_UTF8):
            codec = "utf-8"
        return text, codec
    if detect:
        return _detected(data)
    if utf16 or not_utf8 is None:
        raise ValueError("not valid UTF-16 text")
    if _mostly_control(data[:_SAMPLE_CHARS].decode("latin-1")):
        raise NotText("binary file, not text")
    byte = data[not_utf8.start]
    raise ValueError(
        f"not valid UTF-8 text (byte 0x{byte:02X} at offset {not_utf8.start}); save it as UTF-8"
    )


def _detected(data: bytes) -> tuple[str, str]:
    try:
        from charset_normalizer import from_bytes
    except ImportError:  # pragma: no cover - installed with trafilatura
        raise ValueError("could not detect the text encoding") from None
    best = from_bytes(data).best()
    if best is None:
        raise ValueError("could not detect the text encoding")
    text = str(best)
    if _mostly_control(text):
        raise NotText("binary file, not text")
    return text, best.encoding


def normalize_newlines(raw: str) -> str:
    """Drop a byte-order mark and turn CRLF and CR into LF; nothing else changes."""
    if raw.startswith("\ufeff"):
        raw = raw[1:]
    return raw.replace("\r\n", "\n").replace("\r", "\n")


def displayable(text: str) -> str:
    """``text`` as valid Unicode: the bytes of a file name that are not UTF-8 (which Python
    keeps as lone surrogates, and no UTF-8 output can hold) become ``\\xNN`` escapes."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        try:
            return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
        except UnicodeEncodeError:
            return text.encode("utf-8", "replace").decode("utf-8")
    return text
