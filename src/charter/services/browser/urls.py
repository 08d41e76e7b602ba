"""
What counts as a URL-like value, pure. Mi Browser's server never receives the addresses of
visited pages: every API of the service scans the values of types that may not hold one with
:func:`find_url` and refuses the whole request (reason ``url_refused``) on the first hit.

A string is URL-like when it carries a scheme (``https://``, ``ftp://``, ``file:``,
``javascript:``, ``data:``, ``about:``, ``chrome://``...), starts with ``www.``, or names a
host — labels joined by dots ending in a top-level domain of letters, or an IPv4 address —
followed by a path, a port, a query or the end of the word. Upper case, percent-encoding of
the separators and surrounding text do not hide one.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import unquote

_SCHEME = re.compile(r"(?<![a-z0-9])[a-z][a-z0-9+.-]{1,30}://", re.IGNORECASE)
_BARE_SCHEME = re.compile(
    r"(?<![a-z0-9])(?:about|data|file|javascript|mailto|blob|view-source|intent):", re.IGNORECASE
)
_WWW = re.compile(r"(?<![a-z0-9])www\d{0,3}\.[a-z0-9-]", re.IGNORECASE)
_HOST = re.compile(
    r"(?<![a-z0-9@.-])(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,24}"
    r"(?=[/:?#]|$|\s|[),;\"'])",
    re.IGNORECASE,
)
_IPV4 = re.compile(r"(?<![0-9.])(?:\d{1,3}\.){3}\d{1,3}(?=[/:?#]|$|\s)")
_NOT_HOSTS = frozenset({"e.g", "i.e"})


def looks_like_url(text: str) -> bool:
    """True when ``text`` holds something that addresses a web page or resource."""
    for candidate in (text, unquote(text)):
        if (
            _SCHEME.search(candidate)
            or _BARE_SCHEME.search(candidate)
            or _WWW.search(candidate)
            or _IPV4.search(candidate)
        ):
            return True
        for match in _HOST.finditer(candidate):
            if match.group(0).lower() not in _NOT_HOSTS and not _is_number(match.group(0)):
                return True
    return False


def _is_number(text: str) -> bool:
    return text.replace(".", "").isdigit()


def _strings(value: Any, path: str) -> Iterator[tuple[str, str]]:
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield path + "." + str(key), str(key)
            yield from _strings(item, f"{path}.{key}")
    elif isinstance(value, list | tuple):
        for i, item in enumerate(value):
            yield from _strings(item, f"{path}[{i}]")


def find_url(value: Any, path: str = "body") -> str | None:
    """The path of the first URL-like string (or key) in ``value``, or None."""
    for where, text in _strings(value, path):
        if looks_like_url(text):
            return where
    return None
