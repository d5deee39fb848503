"""Classify a host, or every host a URL may reach, as local, safe or production.

Fail closed: a host that is neither loopback nor listed is production. A host is
first brought to the one spelling that a socket would connect to (WHATWG host
parsing, which matches what browsers do and what `inet_aton` accepts), so
`0x7f.1`, `2130706433`, `127.1`, `LOCALHOST.`, `%31%32%37.0.0.1` and Unicode
names all compare equal to their plain forms.
"""

from __future__ import annotations

import ipaddress
import re
import socket
import urllib.parse
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache

import ada_url
import httpx

SAFE_HINT = "If it is a test environment, list it as safe with E2E_SAFE_HOSTS={host} (or safe_hosts in pytest.ini)."

# Characters that cannot be part of a host a client has already parsed: their
# presence means the string is really a URL fragment trying to smuggle a host.
_NOT_IN_A_HOST = re.compile(r"[/\\@?#\s]")
_CACHE_LIMIT = 4096
_UNCACHEABLE = re.compile(r"[\\\t\n\r]")


class TargetClass(StrEnum):
    LOCAL = "local"
    SAFE = "safe"
    PROD = "prod"


@dataclass(frozen=True, slots=True)
class Verdict:
    """A host's class and the sentence that explains it."""

    host: str
    target_class: TargetClass
    reason: str
    # Which rule decided: "listed", "loopback", "resolved address" or "unknown host".
    rule: str = "listed"

    @property
    def is_prod(self) -> bool:
        return self.target_class is TargetClass.PROD


class HostEntryError(ValueError):
    """A safe_hosts / prod_hosts entry that is not a bare host name or address."""


def split_host_list(text: str) -> list[str]:
    """Split a host list written with commas and/or whitespace."""
    return [part for part in re.split(r"[,\s]+", text) if part]


@lru_cache(maxsize=_CACHE_LIMIT)
def canonical_host(raw: str) -> str | None:
    """The host a socket would connect to, in one canonical spelling; None if it is not a host.

    IPv4 in any form becomes dotted quad, IPv6 loses its brackets and is
    compressed (IPv4-mapped addresses become IPv4), names are lower-cased,
    percent-decoded, IDNA-encoded and lose one trailing dot.
    """
    host = raw.strip()
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    if ":" in host:
        return _canonical_ipv6(host)
    if not host or _NOT_IN_A_HOST.search(host):
        return None
    try:
        # The WHATWG host parser: percent-decoding, IDNA, IPv4 shorthand (0x7f.1, 127.1, 2130706433).
        parsed = ada_url.URL(f"http://{host}/").hostname
    except ValueError:
        return None
    if not parsed:
        return None
    if parsed.startswith("["):
        return _canonical_ipv6(parsed[1:-1])
    if parsed.endswith(".") and not parsed.endswith(".."):
        parsed = parsed[:-1]
    return parsed or None


def _canonical_ipv6(text: str) -> str | None:
    # A zone id (`fe80::1%eth0`, `%25eth0` in a URL) picks an interface, not another address.
    try:
        address = ipaddress.IPv6Address(text.partition("%")[0])
    except ValueError:
        return None
    if address.ipv4_mapped is not None:
        return str(address.ipv4_mapped)
    return address.compressed


DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443}


def origin_port(url: str) -> int:
    """The port a URL connects to (its scheme's default when it names none); 0 when unreadable."""
    try:
        parts = urllib.parse.urlsplit(url.strip())
        return parts.port or DEFAULT_PORTS.get(parts.scheme.lower(), 0)
    except ValueError:
        return 0


Resolver = Callable[[str], Sequence[str]]


def resolve_addresses(host: str) -> list[str]:
    """The addresses the system resolver gives `host` (/etc/hosts, DNS); none when it cannot resolve it."""
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError):
        return []
    return [str(info[4][0]) for info in infos]


def _is_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _loopback_reason(host: str) -> str | None:
    if host == "localhost" or host.endswith(".localhost"):
        return f"{host} is the local machine."
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return None
    return f"{host} is a loopback address." if address.is_loopback else None


def _readings(url: str) -> list[tuple[str, str]]:
    """The host each URL parser the suite may use would connect to: (parser, raw host)."""
    readers: tuple[tuple[str, Callable[[str], str | None]], ...] = (
        ("WHATWG (browsers)", lambda u: ada_url.URL(u).hostname),
        ("httpx", lambda u: httpx.URL(u).host),
        ("urllib", lambda u: urllib.parse.urlsplit(u).hostname),
    )
    readings: list[tuple[str, str]] = []
    for name, read in readers:
        try:
            host = read(url)
        except (ValueError, TypeError, httpx.InvalidURL):
            continue
        if host:
            readings.append((name, host))
    return readings


class HostPolicy:
    """The explicit safe and prod entries (each with where it came from) and the built-in rules."""

    def __init__(
        self,
        safe_hosts: Sequence[tuple[str, str]] = (),
        prod_hosts: Sequence[tuple[str, str]] = (),
        resolver: Resolver = resolve_addresses,
    ) -> None:
        self.safe: dict[str, str] = dict(_entries(safe_hosts))
        self.prod: dict[str, str] = dict(_entries(prod_hosts))
        # Prod entries that are addresses: a name resolving to one of them is production too.
        self.prod_addresses = {host: source for host, source in self.prod.items() if _is_address(host)}
        self._resolver = resolver
        self.addresses_of = lru_cache(maxsize=_CACHE_LIMIT)(self._addresses_of)
        # Bounded LRU caches: a long suite sees few hosts but endlessly many paths.
        self._classify_origin = lru_cache(maxsize=_CACHE_LIMIT)(self._classify_url)
        self._host_cache = lru_cache(maxsize=_CACHE_LIMIT)(self._classify_host)

    def classify_host(self, raw: str) -> Verdict:
        """Classify a host as a client has parsed it (cached: the guard calls this per request)."""
        return self._host_cache(raw)

    def classify_url(self, url: str) -> Verdict:
        """Classify a URL under every parser's reading: production if any reading is production.

        Every parser ends the authority at the first `/`, `?` or `#`, so when the part
        before it holds nothing that some parser treats specially (a backslash, a tab
        or newline), the verdict depends on that part alone and is cached by it.
        """
        scheme, sep, rest = url.partition("://")
        if sep:
            cut = next((i for i, ch in enumerate(rest) if ch in "/?#"), len(rest))
            origin = f"{scheme}://{rest[:cut]}"
            if not _UNCACHEABLE.search(origin):
                return self._classify_origin(origin + "/")
        # Otherwise the whole URL is the key: rarer, but a pure function of it all the same.
        return self._classify_origin(url)

    def _classify_url(self, url: str) -> Verdict:
        readings = _readings(url)
        if not readings:
            return Verdict(
                url,
                TargetClass.PROD,
                f"no host could be read from {url!r}, so it counts as production.",
            )
        verdicts = [(name, self.classify_host(host)) for name, host in readings]
        worst = max(verdicts, key=lambda item: _RANK[item[1].target_class])[1]
        hosts = {v.host for _, v in verdicts}
        if len(hosts) > 1:
            spelled = ", ".join(f"{name}: {v.host}" for name, v in verdicts)
            return Verdict(
                worst.host,
                worst.target_class,
                f"URL parsers disagree on its host ({spelled}); the strictest reading counts. " + worst.reason,
            )
        return worst

    def _classify_host(self, raw: str) -> Verdict:
        verdict = self._classify_canonical(raw, canonical_host(raw))
        if raw.isascii() or verdict.is_prod:
            return verdict
        # The standard library's sockets (http.client, urllib) encode a Unicode name with
        # IDNA 2003, which maps ß, ς and joiners unlike WHATWG's UTS 46: both readings count.
        try:
            legacy = raw.strip().encode("idna").decode("ascii")
        except UnicodeError:
            return verdict  # such a socket cannot resolve the name at all
        other = self._classify_canonical(legacy, canonical_host(legacy))
        if _RANK[other.target_class] <= _RANK[verdict.target_class]:
            return verdict
        return Verdict(
            other.host,
            other.target_class,
            f"{raw!r} is {verdict.host} to browsers but {other.host} to Python's sockets (IDNA 2003); "
            "the strictest reading counts. " + other.reason,
        )

    def _classify_canonical(self, raw: str, host: str | None) -> Verdict:
        if host is None:
            return Verdict(
                raw,
                TargetClass.PROD,
                f"{raw!r} is not a host name the guard can read, so it counts as production.",
            )
        # An explicit entry beats the built-in rules; an exact prod entry beats an exact safe one.
        if host in self.prod:
            return Verdict(host, TargetClass.PROD, f"{host} is listed as production in {self.prod[host]}.")
        for entry, source in self.prod.items():
            if host.endswith("." + entry) and host not in self.safe:
                return Verdict(
                    host,
                    TargetClass.PROD,
                    f"{host} is production: it is a subdomain of {entry}, listed in {source}. "
                    + SAFE_HINT.format(host=host),
                )
        if host in self.safe:
            verdict = Verdict(host, TargetClass.SAFE, f"{host} is listed as safe in {self.safe[host]}.")
        else:
            loopback = _loopback_reason(host)
            if loopback is None:
                return Verdict(
                    host,
                    TargetClass.PROD,
                    f"{host} is neither loopback nor listed as safe, so it counts as production "
                    f"(unknown hosts fail closed). " + SAFE_HINT.format(host=host),
                    "unknown host",
                )
            verdict = Verdict(host, TargetClass.LOCAL, loopback, "loopback")
        return self._by_address(verdict)

    def _addresses_of(self, host: str) -> tuple[str, ...]:
        """`host` itself and, for a name, the canonical addresses it resolves to (cached)."""
        if _is_address(host):
            return (host,)
        resolved = (canonical_host(address) for address in self._resolver(host))
        return (host, *sorted({a for a in resolved if a is not None}))

    def _by_address(self, verdict: Verdict) -> Verdict:
        """A local or safe name that resolves to a listed production address is production.

        Only names are resolved, and only when some prod entry is an address: an alias in
        /etc/hosts (`app.localhost`, `staging` → the production address) is then caught.
        A name whose resolution later changes (DNS rebinding) is out of this rule's reach.
        """
        if not self.prod_addresses or _is_address(verdict.host):
            return verdict
        for canonical in self.addresses_of(verdict.host)[1:]:
            if canonical in self.prod_addresses:
                return Verdict(
                    verdict.host,
                    TargetClass.PROD,
                    f"{verdict.host} resolves to {canonical}, listed as production in "
                    f"{self.prod_addresses[canonical]}.",
                    "resolved address",
                )
        return verdict


_RANK = {TargetClass.LOCAL: 0, TargetClass.SAFE: 1, TargetClass.PROD: 2}


def _entries(pairs: Iterable[tuple[str, str]]) -> Iterable[tuple[str, str]]:
    for entry, source in pairs:
        host = canonical_host(entry) if not _NOT_IN_A_HOST.search(entry) else None
        bare = entry.strip().strip("[]")
        empty_label = host is not None and "" in host.split(".")
        if host is None or empty_label or (":" in bare and _canonical_ipv6(bare) is None) or "*" in entry:
            raise HostEntryError(
                f"{entry!r} in {source} is not a host: list bare host names or addresses such as "
                "staging.example.com or 127.0.0.2, separated by commas "
                "(no scheme, port, path, wildcard or empty label)."
            )
        yield host, source
