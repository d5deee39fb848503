"""Validate a configured base URL: it must be unambiguous, or the run stops with a usage error."""

from __future__ import annotations

import re

import ada_url

from safety.hosts import _readings, canonical_host

_CONTROL = re.compile(r"[\t\n\r]")
EXAMPLE = "http://127.0.0.1:3000"


class InvalidTargetURL(ValueError):
    """The configured base URL cannot be used; the message names it and says what to write instead."""


def shown(value: str) -> str:
    """The value as it may appear in a message: any user:password@ is masked."""
    return re.sub(r"(?<=://)[^/@]*@", "***@", value)


def parse_base_url(value: str) -> str:
    """Return the canonical (WHATWG) form of an http(s) base URL, or raise InvalidTargetURL.

    Surrounding whitespace is dropped (CI variables often end in a newline);
    anything that browsers and httpx could read as two different hosts is refused.
    """
    text = value.strip()
    bad = f"{shown(value)!r} is not a usable base URL"
    if _CONTROL.search(text):
        raise InvalidTargetURL(f"{bad}: it contains a tab or newline. Write it on one line, e.g. {EXAMPLE}.")
    try:
        url = ada_url.URL(text)
    except ValueError:
        raise InvalidTargetURL(f"{bad}: it is not an absolute URL. Write it like {EXAMPLE}.") from None
    if url.protocol not in ("http:", "https:"):
        raise InvalidTargetURL(f"{bad}: the scheme must be http or https, e.g. {EXAMPLE}.")
    if not url.hostname:
        raise InvalidTargetURL(f"{bad}: it has no host. Write it like {EXAMPLE}.")
    if url.username or url.password or "@" in text.split("://", 1)[-1].split("/", 1)[0]:
        raise InvalidTargetURL(
            f"{bad}: it carries credentials (user:password@). Leave them out; the suite logs in "
            "with E2E_EMAIL / E2E_PASSWORD."
        )
    if "\\" in text:
        raise InvalidTargetURL(f"{bad}: it contains a backslash, which browsers and httpx read differently.")
    hosts = {canonical_host(host) for _, host in _readings(text)}
    if len(hosts) != 1:
        raise InvalidTargetURL(
            f"{bad}: URL parsers read different hosts in it ({', '.join(sorted(map(str, hosts)))}). "
            f"Write a plain URL like {EXAMPLE}."
        )
    return url.href
