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
  detection last; XML (``application/xml`` and ``application/*+xml``: feeds) is accepted too,
  its bytes kept for a reader that decodes by itself.

Manners (``_polite``): a fetch waits for its turn at the host and holds it through redirects
and retries; a 429 or 503 is asked again after ``Retry-After`` (seconds or a date) or a
backoff, within ``max_retries`` and ``max_retry_wait``; with an HTTP cache, a kept response's
validators are sent and a 304 is answered with the kept body; with ``robots``, the site's
robots.txt is consulted first.

Every failure is an :class:`~briefer.errors.InputError` naming the URL with a one-line reason.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import functools
import http
import ipaddress
import socket
import ssl
import time
from collections.abc import Iterable
from dataclasses import dataclass, field

import httpcore2
import httpx2

from briefer.errors import InputError, first_line
from briefer.ingestion._decode import NotText, decode_text
from briefer.ingestion._limits import FetchPolicy, format_size
from briefer.ingestion._polite import CachedResponse, Manners

__all__ = ["FetchedPage", "HTTPStatusError", "address_problem", "fetch_url"]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

_ALLOWED_SCHEMES = ("http", "https")
_ALLOWED_NON_TEXT_TYPES = frozenset({"application/xhtml+xml"})
_ALLOW_HINT = "(use --allow-private to allow)"
_ACCEPT = (
    "text/html, application/xhtml+xml, application/rss+xml, application/atom+xml, "
    "application/xml;q=0.9, text/*;q=0.8"
)
# Asked to come back later: tried again, after the wait the server names (bounded).
_RETRY_STATUSES = frozenset({429, 503})


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
    # The bytes as received, for readers that decode for themselves (feedparser), and the
    # Content-Type header they came with.
    body: bytes = field(default=b"", repr=False)
    type_header: str = ""
    # Answered from the HTTP cache after a 304 Not Modified.
    from_cache: bool = False

    @property
    def is_html(self) -> bool:
        return self.content_type in ("text/html", "application/xhtml+xml")


class _Refused(Exception):
    """Raised inside the transport; turned into an InputError at the fetch boundary."""

    def __init__(self, reason: str, *, status: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status


class HTTPStatusError(InputError):
    """The server answered with an error status (``status``), after any retries."""

    def __init__(self, input: str, reason: str, status: int) -> None:
        super().__init__(input, reason)
        self.status = status


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


def _media_allowed(media_type: str) -> bool:
    return (
        media_type.startswith("text/")
        or media_type in _ALLOWED_NON_TEXT_TYPES
        or media_type == "application/xml"
        or (media_type.startswith("application/") and media_type.endswith("+xml"))
    )


def _read_body(response: httpx2.Response, policy: FetchPolicy, deadline: float) -> bytes:
    if not 200 <= response.status_code < 300:
        raise _Refused(_status_reason(response), status=response.status_code)
    media_type = _media_type(response.headers.get("content-type"))
    if media_type and not _media_allowed(media_type):
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
    return b"".join(parts)


def _charset_of(type_header: str) -> str | None:
    for parameter in type_header.split(";")[1:]:
        name, _, value = parameter.partition("=")
        if name.strip().lower() == "charset":
            return value.strip().strip("\"'") or None
    return None


def _page(
    body: bytes, type_header: str, *, requested: str, url: str, status: int, from_cache: bool
) -> FetchedPage:
    media_type = _media_type(type_header)
    if not media_type:
        # No declared type: judge by the first bytes.
        media_type = "text/html" if body.lstrip()[:1] == b"<" else "text/plain"
    is_html = media_type in ("text/html", "application/xhtml+xml")
    try:
        text, codec = decode_text(
            body, html=is_html, declared_charset=_charset_of(type_header), detect=True
        )
    except NotText:
        raise _Refused("binary content, not text") from None
    except ValueError as exc:
        raise _Refused(str(exc)) from None
    return FetchedPage(
        requested_url=requested,
        url=url,
        status=status,
        content_type=media_type,
        charset=codec,
        text=text,
        size=len(body),
        body=body,
        type_header=type_header,
        from_cache=from_cache,
    )


def _retry_after(value: str | None) -> float | None:
    """Seconds a ``Retry-After`` header asks for (a number or an HTTP date), or None."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return max(0.0, float((when - dt.datetime.now(dt.UTC)).total_seconds()))


def _retry_wait(response: httpx2.Response, attempt: int, policy: FetchPolicy) -> float | None:
    """How long to wait before asking again after a 429 or 503, or None to give up."""
    if response.status_code not in _RETRY_STATUSES or attempt >= policy.max_retries:
        return None
    asked = _retry_after(response.headers.get("retry-after"))
    if asked is not None:
        return asked if asked <= policy.max_retry_wait else None
    return min(policy.retry_backoff * 2.0**attempt, policy.max_retry_wait)


def _give_up_reason(response: httpx2.Response, attempt: int, policy: FetchPolicy) -> str:
    reason = _status_reason(response)
    asked = _retry_after(response.headers.get("retry-after"))
    if asked is not None and asked > policy.max_retry_wait:
        return f"{reason} (the server asked to wait {_format_seconds(round(asked))})"
    if attempt:
        return f"{reason} after {attempt + 1} tries"
    return reason


def _cacheable(response: httpx2.Response) -> tuple[str | None, str | None] | None:
    """The validators of a response worth keeping, or None."""
    if "no-store" in response.headers.get("cache-control", "").lower():
        return None
    etag = response.headers.get("etag")
    modified = response.headers.get("last-modified")
    return (etag, modified) if etag or modified else None


def _fetch_hops(
    first: httpx2.URL, requested: str, policy: FetchPolicy, manners: Manners
) -> FetchedPage:
    timeout = httpx2.Timeout(
        connect=policy.connect_timeout,
        read=policy.read_timeout,
        write=policy.read_timeout,
        pool=policy.connect_timeout,
    )
    current = first
    with httpx2.Client(
        transport=_PinnedTransport(allow_private=policy.allow_private),
        timeout=timeout,
        follow_redirects=False,
        trust_env=False,
        headers={"User-Agent": policy.user_agent, "Accept": _ACCEPT},
    ) as client:
        for _hop in range(policy.max_redirects + 1):
            _check_url(current, policy)
            cached = manners.cache.lookup(str(current)) if manners.cache else None
            conditions = cached.conditions() if cached else {}
            attempt = 0
            while True:
                deadline = time.monotonic() + policy.total_timeout
                with client.stream("GET", current, headers=conditions) as response:
                    wait = _retry_wait(response, attempt, policy)
                    if wait is None and response.status_code in _RETRY_STATUSES:
                        raise _Refused(
                            _give_up_reason(response, attempt, policy),
                            status=response.status_code,
                        )
                    if wait is None:
                        location = response.headers.get("location")
                        if response.is_redirect and location:
                            try:
                                current = current.join(location)
                            except (httpx2.InvalidURL, ValueError) as exc:
                                raise _Refused(f"invalid redirect location {location!r}") from exc
                            break
                        if response.status_code == 304 and cached is not None:
                            return _page(
                                cached.body,
                                cached.content_type,
                                requested=requested,
                                url=str(current),
                                status=200,
                                from_cache=True,
                            )
                        body = _read_body(response, policy, deadline)
                        type_header = response.headers.get("content-type", "")
                        page = _page(
                            body,
                            type_header,
                            requested=requested,
                            url=str(response.url),
                            status=response.status_code,
                            from_cache=False,
                        )
                        validators = _cacheable(response)
                        if manners.cache is not None and validators is not None:
                            manners.cache.store(
                                CachedResponse(
                                    url=str(current),
                                    etag=validators[0],
                                    last_modified=validators[1],
                                    content_type=type_header,
                                    body=body,
                                )
                            )
                        return page
                # The connection is back in the pool before the wait.
                time.sleep(wait)
                attempt += 1
        raise _Refused(f"too many redirects (more than {policy.max_redirects})")


def _robots_text(url: str, policy: FetchPolicy, manners: Manners) -> tuple[int, str]:
    """Status and text of the robots.txt at ``url``; an HTTP error status is returned, any
    other failure raised."""
    try:
        page = fetch_url(url, policy=policy, manners=manners)
    except HTTPStatusError as exc:
        return exc.status, ""
    return page.status, page.text


def fetch_url(
    url: str,
    *,
    policy: FetchPolicy | None = None,
    manners: Manners | None = None,
    robots: bool = False,
) -> FetchedPage:
    """Fetch ``url`` under ``policy``, taking turns per host with the other fetches of
    ``manners`` (a run's; a fetch of its own without one). With ``robots``, the site's
    robots.txt must allow the page (when ``policy.robots``). Raises InputError(url, reason) on
    any failure; an HTTP error status raises HTTPStatusError, which says the status."""
    policy = policy or FetchPolicy()
    manners = manners or Manners(policy)
    try:
        first = _parse_url(url)
        if robots and policy.robots:
            _check_url(first, policy)  # a refused address is said so, not robots.txt's failure
            refusal = manners.robots_refusal(
                str(first), functools.partial(_robots_text, policy=policy, manners=manners)
            )
            if refusal is not None:
                raise _Refused(refusal)
        with manners.turn(str(first)):
            return _fetch_hops(first, url, policy, manners)
    except _Refused as exc:
        if exc.status is not None:
            raise HTTPStatusError(url, exc.reason, exc.status) from None
        raise InputError(url, exc.reason) from None
    except httpx2.HTTPError as exc:
        raise InputError(url, _transport_reason(exc, policy)) from None
    except (httpcore2.ConnectError, httpcore2.ConnectTimeout, OSError) as exc:
        # Should be mapped by httpx2 already; kept so no network error escapes as a traceback.
        reason = "connection refused" if isinstance(exc, ConnectionRefusedError) else str(exc)
        raise InputError(url, (reason.splitlines() or ["network error"])[0]) from None
