"""One spelling per web address, so the same story linked from two feeds is fetched once.

``clean_url`` is the URL fetched; ``url_key`` is what two links are compared by:

- the scheme and host are lower-cased (``HTTPS://Example.ORG`` → ``https://example.org``); the
  host's ``www.`` is kept (it can be another site), and so is the scheme (``http`` and
  ``https`` are two URLs; a site that serves both redirects one to the other);
- a default port goes (``:80`` for http, ``:443`` for https), and so does an empty one;
- the fragment goes (``#comments``): it never reaches the server;
- tracking parameters go: any ``utm_*``, and ``fbclid``, ``gclid``, ``dclid``, ``gbraid``,
  ``wbraid``, ``msclkid``, ``yclid``, ``twclid``, ``igshid``, ``mc_cid``, ``mc_eid``,
  ``_hsenc``, ``_hsmi``, ``mkt_tok``, ``oly_anon_id``, ``oly_enc_id``, ``vero_id``, ``wt_mc``,
  ``cmpid``, ``ocid``, ``sr_share``, ``at_medium``, ``at_campaign`` (names compared without
  case); the other parameters keep their order and spelling, and a query left empty goes;
- an empty path is ``/`` and dot segments are resolved (``/a/./b/../c`` → ``/a/c``);
- in the key only, one trailing slash of a path other than ``/`` goes (``/story/`` and
  ``/story`` are one story: servers redirect one to the other), while the URL fetched keeps it.

A URL that cannot be parsed is returned as it is: the fetcher says what is wrong with it.
"""

from __future__ import annotations

import posixpath
import re
from urllib.parse import SplitResult, urlsplit, urlunsplit

__all__ = ["TRACKING_PARAMETERS", "clean_url", "url_key"]

TRACKING_PARAMETERS = frozenset(
    {
        "fbclid", "gclid", "dclid", "gbraid", "wbraid", "msclkid", "yclid", "twclid", "igshid",
        "mc_cid", "mc_eid", "_hsenc", "_hsmi", "mkt_tok", "oly_anon_id", "oly_enc_id",
        "vero_id", "wt_mc", "cmpid", "ocid", "sr_share", "at_medium", "at_campaign",
    }
)  # fmt: skip
_DEFAULT_PORTS = {"http": 80, "https": 443}
_PARAMETER_NAME = re.compile(r"^([^=]*)")


def _tracking(parameter: str) -> bool:
    name = _PARAMETER_NAME.match(parameter)
    lowered = name.group(1).lower() if name else ""
    return lowered.startswith("utm_") or lowered in TRACKING_PARAMETERS


def _normal_path(path: str) -> str:
    if not path:
        return "/"
    if "/." not in path:
        return path
    resolved = posixpath.normpath(path)
    # normpath drops a trailing slash and keeps a leading "//"; the URL's own shape wins.
    if path.endswith(("/", "/.", "/..")) and resolved != "/":
        resolved += "/"
    return "/" + resolved.lstrip("/")


def _cleaned(url: str) -> SplitResult | None:
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS or not parts.hostname:
        return None
    host = parts.hostname.lower()
    if ":" in host:  # an IPv6 literal
        host = f"[{host}]"
    if port is not None and port != _DEFAULT_PORTS[scheme]:
        host = f"{host}:{port}"
    userinfo = parts.netloc.rpartition("@")[0]
    netloc = f"{userinfo}@{host}" if userinfo else host
    query = "&".join(p for p in parts.query.split("&") if p and not _tracking(p))
    return SplitResult(scheme, netloc, _normal_path(parts.path), query, "")


def clean_url(url: str) -> str:
    """``url`` as it is fetched: case, default port, fragment and tracking parameters cleaned."""
    parts = _cleaned(url)
    return url if parts is None else urlunsplit(parts)


def url_key(url: str) -> str:
    """What two links are compared by: :func:`clean_url` less a trailing slash."""
    parts = _cleaned(url)
    if parts is None:
        return url
    if len(parts.path) > 1 and parts.path.endswith("/"):
        parts = parts._replace(path=parts.path.rstrip("/") or "/")
    return urlunsplit(parts)
