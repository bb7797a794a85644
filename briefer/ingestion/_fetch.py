"""Fetch one pasted URL safely: http/https only, public addresses only, bounded in time and size.

Rules, each checked on every redirect hop (redirects are followed here, not by httpx2):

- only ``http`` and ``https`` URLs;
- the host's addresses must all be public: loopback, private, link-local, multicast,
  unspecified, reserved and other non-global addresses are refused, in IPv4, IPv6 and
  IPv4-mapped IPv6 (``::ffff:127.0.0.1``), unless ``FetchPolicy.allow_private``;
- the connection goes to an address that was checked at connect time (a network backend
  resolves, checks every address, then connects to that address), so a DNS answer that
  changes between the check and the connection (DNS rebinding) cannot reach a private
  address. Residual risk: name resolution itself (``getaddrinfo``) has no timeout of its own,
  and environment proxies are ignored (``trust_env=False``) since a proxy would connect for us;
- the body is streamed and dropped once it passes ``max_bytes`` (``Content-Length`` is
  checked first; the count is of decoded bytes, so a compressed body cannot inflate past the
  limit by more than one chunk); only ``text/*`` and ``application/xhtml+xml`` are accepted;
- time is bounded per connect (``connect_timeout``), per read (``read_timeout``) and for the
  whole body (``total_timeout``, against servers that send a byte at a time);
- text is decoded by ``_decode`` with the charset the server declared first, and charset
  detection last.

Every failure is an :class:`~briefer.errors.InputError` naming the URL with a one-line reason.
"""

from __future__ import annotations

import functools
import http
import ipaddress
import socket
import ssl
import time
from collections.abc import Iterable
from dataclasses import dataclass

import httpcore2
import httpx2

from briefer.errors import InputError, first_line
from briefer.ingestion._decode import NotText, decode_text
from briefer.ingestion._limits import FetchPolicy, format_size

__all__ = ["FetchedPage", "address_problem", "fetch_url"]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

_ALLOWED_SCHEMES = ("http", "https")
_ALLOWED_NON_TEXT_TYPES = frozenset({"application/xhtml+xml"})
_ALLOW_HINT = "(use --allow-private to allow)"


@dataclass(frozen=True)
class FetchedPage:
    """A fetched and decoded page. ``url`` is where it was found, after redirects."""

    requested_url: str
    url: str
    status: int
    content_type: str
    charset: str
    text: str
    size: int

    @property
    def is_html(self) -> bool:
        return self.content_type in ("text/html", "application/xhtml+xml")


class _Refused(Exception):
    """Raised inside the transport; turned into an InputError at the fetch boundary."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


# --- pure helpers -----------------------------------------------------------------------------


def _format_seconds(seconds: float) -> str:
    return f"{seconds:g} s"


def address_problem(address: IPAddress) -> str | None:
    """What makes ``address`` non-public (``'loopback'``, ``'private'``…), or None if public."""
    if isinstance(address, ipaddress.IPv6Address):
        # An IPv4 address wrapped in IPv6 is judged as the IPv4 address it carries.
        mapped = address.ipv4_mapped
        if mapped is not None:
            return address_problem(mapped)
        if address.is_site_local:
            return "site-local"
    checks = (
        ("loopback", address.is_loopback),
        ("unspecified", address.is_unspecified),
        ("link-local", address.is_link_local),
        ("multicast", address.is_multicast),
        ("reserved", address.is_reserved),
        ("private", address.is_private),
    )
    for kind, matches in checks:
        if matches:
            return kind
    return None if address.is_global else "non-public"


def _article(kind: str) -> str:
    return "an" if kind[0] in "aeiou" else "a"


def _checked_addresses(host: str, port: int, *, allow_private: bool) -> list[str]:
    """Resolve ``host`` and return its addresses, refusing if ANY of them is not public."""
    host = host.strip("[]")
    try:
        literal: IPAddress | None = ipaddress.ip_address(host)
    except ValueError:
        literal = None
    if literal is not None:
        addresses = [literal]
    else:
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (socket.gaierror, UnicodeError) as exc:
            raise _Refused(f"could not resolve host {host}") from exc
        addresses = []
        for info in infos:
            # Drop an IPv6 scope id ("fe80::1%eth0") before parsing; the address is what counts.
            found = ipaddress.ip_address(str(info[4][0]).split("%", 1)[0])
            if found not in addresses:
                addresses.append(found)
        if not addresses:
            raise _Refused(f"could not resolve host {host}")
    if not allow_private:
        for address in addresses:
            kind = address_problem(address)
            if kind is None:
                continue
            what = f"{_article(kind)} {kind} address"
            if literal is not None:
                raise _Refused(f"refused: {address} is {what} {_ALLOW_HINT}")
            raise _Refused(f"refused: {host} resolves to {address}, {what} {_ALLOW_HINT}")
    return [str(address) for address in addresses]


def _media_type(content_type: str | None) -> str:
    return (content_type or "").split(";", 1)[0].strip().lower()


# --- transport --------------------------------------------------------------------------------


class _PinnedBackend(httpcore2.NetworkBackend):
    """Resolves, checks every address, and connects to a checked address (no second lookup)."""

    def __init__(self, *, allow_private: bool) -> None:
        self._allow_private = allow_private
        self._inner = httpcore2.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore2.SOCKET_OPTION] | None = None,
    ) -> httpcore2.NetworkStream:
        addresses = _checked_addresses(host, port, allow_private=self._allow_private)
        last_error: Exception | None = None
        for address in addresses:
            try:
                return self._inner.connect_tcp(
                    address, port, timeout, local_address, socket_options
                )
            except (httpcore2.ConnectError, httpcore2.ConnectTimeout) as exc:
                last_error = exc
        assert last_error is not None  # addresses is never empty
        raise last_error

    def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[httpcore2.SOCKET_OPTION] | None = None,
    ) -> httpcore2.NetworkStream:
        raise _Refused("refused: unix sockets are not fetched")

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


@functools.cache
def _ssl_context() -> ssl.SSLContext:
    # Loading the CA bundle takes a while; one context serves every fetch (it is thread-safe).
    return httpx2.create_ssl_context()


class _PinnedTransport(httpx2.HTTPTransport):
    """httpx2's transport with its connection pool rebuilt on the pinned backend."""

    def __init__(self, *, allow_private: bool) -> None:
        super().__init__(verify=_ssl_context(), trust_env=False, retries=0)
        # HTTPTransport offers no network_backend argument; swap its pool for one that has it.
        # Fail loudly if httpx2 ever renames the attribute, rather than silently lose the guard.
        if not isinstance(getattr(self, "_pool", None), httpcore2.ConnectionPool):
            raise RuntimeError("httpx2.HTTPTransport changed: cannot pin connections")
        self._pool = httpcore2.ConnectionPool(
            ssl_context=_ssl_context(),
            max_connections=4,
            network_backend=_PinnedBackend(allow_private=allow_private),
        )


# --- fetching ---------------------------------------------------------------------------------


def _check_url(url: httpx2.URL, policy: FetchPolicy) -> None:
    if url.scheme not in _ALLOWED_SCHEMES:
        scheme = url.scheme or "(none)"
        raise _Refused(f"unsupported URL scheme {scheme}: only http and https are fetched")
    if not url.host:
        raise _Refused("URL has no host")
    port = url.port or (443 if url.scheme == "https" else 80)
    _checked_addresses(url.host, port, allow_private=policy.allow_private)


def _parse_url(raw: str) -> httpx2.URL:
    # httpx2 rejects some schemes while parsing; check the scheme from the raw text first so the
    # reason is the same for every unsupported scheme.
    scheme = raw.split(":", 1)[0].lower() if ":" in raw else ""
    if scheme not in _ALLOWED_SCHEMES:
        raise _Refused(
            f"unsupported URL scheme {scheme or '(none)'}: only http and https are fetched"
        )
    try:
        return httpx2.URL(raw)
    except (httpx2.InvalidURL, ValueError, TypeError) as exc:
        raise _Refused(f"not a valid URL ({exc})") from exc


def _status_reason(response: httpx2.Response) -> str:
    phrase = response.reason_phrase
    if not phrase:
        try:
            phrase = http.HTTPStatus(response.status_code).phrase
        except ValueError:
            phrase = ""
    return f"HTTP {response.status_code} {phrase}".rstrip()


def _chain(exc: BaseException) -> Iterable[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def _transport_reason(exc: httpx2.HTTPError, policy: FetchPolicy) -> str:
    if isinstance(exc, httpx2.ConnectTimeout):
        return f"timed out connecting after {_format_seconds(policy.connect_timeout)}"
    if isinstance(exc, httpx2.TimeoutException):
        return f"timed out after {_format_seconds(policy.read_timeout)}"
    causes = list(_chain(exc))
    if any(isinstance(cause, ConnectionRefusedError) for cause in causes):
        return "connection refused"
    if any(isinstance(cause, ConnectionResetError) for cause in causes):
        return "connection reset by the server"
    if isinstance(exc, httpx2.RemoteProtocolError):
        return "the server closed the connection or sent an invalid response"
    if isinstance(exc, httpx2.ConnectError):
        return f"could not connect: {first_line(exc)}"
    return f"request failed: {first_line(exc)}"


def _read_page(
    response: httpx2.Response, requested: str, policy: FetchPolicy, deadline: float
) -> FetchedPage:
    if not 200 <= response.status_code < 300:
        raise _Refused(_status_reason(response))
    media_type = _media_type(response.headers.get("content-type"))
    if media_type and not (media_type.startswith("text/") or media_type in _ALLOWED_NON_TEXT_TYPES):
        raise _Refused(f"unsupported content type {media_type}")
    too_large = f"body larger than {format_size(policy.max_bytes)}"
    declared_length = response.headers.get("content-length", "")
    if declared_length.isdigit() and int(declared_length) > policy.max_bytes:
        raise _Refused(too_large)
    parts: list[bytes] = []
    size = 0
    for part in response.iter_bytes():
        size += len(part)
        if size > policy.max_bytes:
            raise _Refused(too_large)
        if time.monotonic() > deadline:
            raise _Refused(f"timed out after {_format_seconds(policy.total_timeout)} in total")
        parts.append(part)
    body = b"".join(parts)
    if not media_type:
        # No declared type: judge by the first bytes.
        media_type = "text/html" if body.lstrip()[:1] == b"<" else "text/plain"
    is_html = media_type in ("text/html", "application/xhtml+xml")
    try:
        text, codec = decode_text(
            body, html=is_html, declared_charset=response.charset_encoding, detect=True
        )
    except NotText:
        raise _Refused("binary content, not text") from None
    except ValueError as exc:
        raise _Refused(str(exc)) from None
    return FetchedPage(
        requested_url=requested,
        url=str(response.url),
        status=response.status_code,
        content_type=media_type,
        charset=codec,
        text=text,
        size=size,
    )


def fetch_url(url: str, *, policy: FetchPolicy | None = None) -> FetchedPage:
    """Fetch ``url`` under ``policy``; raises InputError(url, reason) on any failure."""
    policy = policy or FetchPolicy()
    deadline = time.monotonic() + policy.total_timeout
    timeout = httpx2.Timeout(
        connect=policy.connect_timeout,
        read=policy.read_timeout,
        write=policy.read_timeout,
        pool=policy.connect_timeout,
    )
    try:
        current = _parse_url(url)
        with httpx2.Client(
            transport=_PinnedTransport(allow_private=policy.allow_private),
            timeout=timeout,
            follow_redirects=False,
            trust_env=False,
            headers={"User-Agent": policy.user_agent, "Accept": "text/html, text/*;q=0.9"},
        ) as client:
            for _hop in range(policy.max_redirects + 1):
                _check_url(current, policy)
                with client.stream("GET", current) as response:
                    location = response.headers.get("location")
                    if response.is_redirect and location:
                        try:
                            current = current.join(location)
                        except (httpx2.InvalidURL, ValueError) as exc:
                            raise _Refused(f"invalid redirect location {location!r}") from exc
                        continue
                    return _read_page(response, url, policy, deadline)
            raise _Refused(f"too many redirects (more than {policy.max_redirects})")
    except _Refused as exc:
        raise InputError(url, exc.reason) from None
    except httpx2.HTTPError as exc:
        raise InputError(url, _transport_reason(exc, policy)) from None
    except (httpcore2.ConnectError, httpcore2.ConnectTimeout, OSError) as exc:
        # Should be mapped by httpx2 already; kept so no network error escapes as a traceback.
        reason = "connection refused" if isinstance(exc, ConnectionRefusedError) else str(exc)
        raise InputError(url, (reason.splitlines() or ["network error"])[0]) from None
