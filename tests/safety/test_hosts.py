"""Host classification: every class, every spelling of a host, and URLs that parsers read differently."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from safety.hosts import HostEntryError, HostPolicy, TargetClass, canonical_host, split_host_list

POLICY = HostPolicy(
    safe_hosts=[
        ("staging.example.com", "E2E_SAFE_HOSTS"),
        ("127.0.0.3", "E2E_SAFE_HOSTS"),
        ("qa.evenslouis.ca", "ini"),
    ],
    prod_hosts=[("evenslouis.ca", "pytest.ini prod_hosts"), ("127.0.0.2", "E2E_PROD_HOSTS"), ("::2", "E2E_PROD_HOSTS")],
)

LOCAL, SAFE, PROD = TargetClass.LOCAL, TargetClass.SAFE, TargetClass.PROD


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        # loopback in any spelling
        ("http://127.0.0.1:3000/", LOCAL),
        ("http://127.255.255.254/", LOCAL),
        ("http://127.1/", LOCAL),
        ("http://0x7f.1/", LOCAL),
        ("http://0x7f000001/", LOCAL),
        ("http://2130706433/", LOCAL),
        ("http://0177.0.0.1/", LOCAL),
        ("http://%31%32%37.0.0.1/", LOCAL),
        ("http://[::1]:8080/", LOCAL),
        ("http://[0:0:0:0:0:0:0:1]/", LOCAL),
        ("http://[::ffff:127.0.0.1]/", LOCAL),
        ("http://localhost/", LOCAL),
        ("http://LocalHost./", LOCAL),
        ("http://app.localhost:5173/", LOCAL),
        ("  http://localhost/  ", LOCAL),
        ("http://local\thost/", LOCAL),
        ("http://user:secret@127.0.0.1/", LOCAL),
        # listed safe, exactly
        ("https://staging.example.com/", SAFE),
        ("https://STAGING.example.com./x", SAFE),
        ("http://127.0.0.3:8000/", SAFE),
        ("http://qa.evenslouis.ca/", SAFE),  # a subdomain of prod listed safe itself
        # listed prod, and its subdomains by whole labels
        ("https://evenslouis.ca/", PROD),
        ("https://EVENSLOUIS.CA./", PROD),
        ("https://api.evenslouis.ca/", PROD),
        ("https://x.qa.evenslouis.ca/", PROD),  # safe covers only the host listed
        ("https://%65venslouis.ca/", PROD),
        ("https://evens\nlouis.ca/", PROD),
        ("http://127.0.0.2/", PROD),  # an explicit entry beats the loopback rule
        ("http://127.2/", PROD),
        ("http://2130706434/", PROD),
        ("http://[::ffff:127.0.0.2]/", PROD),
        ("http://[::2]/", PROD),
        # unknown hosts fail closed
        ("https://notevenslouis.ca/", PROD),
        ("https://evenslouis.ca.attacker.example/", PROD),
        ("https://staging.example.com.evil/", PROD),
        ("https://sub.staging.example.com/", PROD),
        ("http://0.0.0.0/", PROD),
        ("http://[::]/", PROD),
        ("http://10.0.0.1/", PROD),
        ("http://localhost.evil.example/", PROD),
        ("http://127.0.0.1.nip.io/", PROD),
        ("http://évenslouis.ca/", PROD),
        ("http://xn--venslouis-b4a.ca/", PROD),
        # parsers that disagree: the strictest reading counts
        ("http://127.0.0.1\\@evenslouis.ca/", PROD),
        ("http://evenslouis.ca\\@127.0.0.1/", PROD),
        ("http://127.0.0.1:80@evenslouis.ca/", PROD),
        ("http://127.0.0.1#@evenslouis.ca/", LOCAL),  # every parser ends the host at "#"
        ("not a url", PROD),
        ("http:///nohost", PROD),
    ],
)
def test_classify_url(url: str, expected: TargetClass) -> None:
    verdict = POLICY.classify_url(url)
    assert verdict.target_class is expected, verdict.reason


def test_unicode_host_matches_its_idna_entry() -> None:
    policy = HostPolicy(prod_hosts=[("bücher.example", "E2E_PROD_HOSTS")])
    assert policy.classify_url("https://xn--bcher-kva.example/").target_class is PROD
    assert policy.classify_url("https://BÜCHER.example/").reason.startswith("xn--bcher-kva.example is listed")


def test_unknown_host_says_how_to_list_it_as_safe() -> None:
    verdict = POLICY.classify_url("https://qa2.example.org/")
    assert "E2E_SAFE_HOSTS=qa2.example.org" in verdict.reason
    assert "fail closed" in verdict.reason


def test_disagreement_is_explained() -> None:
    verdict = POLICY.classify_url("http://127.0.0.1\\@evenslouis.ca/")
    assert "disagree" in verdict.reason
    assert "evenslouis.ca" in verdict.reason


def test_zone_id_does_not_hide_a_prod_ipv6_entry() -> None:
    policy = HostPolicy(prod_hosts=[("::1", "E2E_PROD_HOSTS")])
    assert policy.classify_url("http://[::1%25lo]/").is_prod
    assert policy.classify_host("::1%lo").is_prod


@pytest.mark.parametrize("host", ["straße.example", "STRASSE.example"])
def test_safe_unicode_entry_counts_only_where_every_client_reads_it(host: str) -> None:
    # Browsers and httpx (UTS 46) keep ß; Python's sockets (IDNA 2003) turn it into "ss".
    policy = HostPolicy(safe_hosts=[("straße.example", "E2E_SAFE_HOSTS")])
    verdict = policy.classify_host(host)
    assert verdict.is_prod, verdict.reason
    assert policy.classify_host("xn--strae-oqa.example").target_class is SAFE


def test_prod_entry_also_listed_safe_stays_prod() -> None:
    policy = HostPolicy(safe_hosts=[("evenslouis.ca", "a")], prod_hosts=[("evenslouis.ca", "b")])
    assert policy.classify_url("https://evenslouis.ca/").is_prod


@pytest.mark.parametrize(
    ("host", "canonical"),
    [
        ("0x7f.1", "127.0.0.1"),
        ("127.0.0.2.", "127.0.0.2"),
        ("[::FFFF:7f00:2]", "127.0.0.2"),
        ("::1", "::1"),
        ("EXAMPLE.com.", "example.com"),
        ("ex%41mple.com", "example.com"),
        ("faß.de", "xn--fa-hia.de"),
        ("a/b", None),
        ("a@b", None),
        ("", None),
        ("[zz::1]", None),
        ("fe80::1%eth0", "fe80::1"),  # a zone id names an interface, not another address
        ("[::ffff:127.0.0.2%25lo]", "127.0.0.2"),
    ],
)
def test_canonical_host(host: str, canonical: str | None) -> None:
    assert canonical_host(host) == canonical


@pytest.mark.parametrize(
    "entry",
    [
        "https://staging.example.com/",
        "staging.example.com:8443",
        "*.example.com",
        "a@b",
        "[zz::1]",
        "x/y",
        ".example.com",  # would never match anything: refused, not silently ignored
        "staging..example.com",
        "staging.example.com..",
    ],
)
def test_bad_entries_are_refused_naming_value_and_source(entry: str) -> None:
    with pytest.raises(HostEntryError) as raised:
        HostPolicy(safe_hosts=[(entry, "E2E_SAFE_HOSTS")])
    assert repr(entry) in str(raised.value)
    assert "E2E_SAFE_HOSTS" in str(raised.value)


def test_split_host_list_accepts_commas_and_spaces() -> None:
    assert split_host_list(" a.example, b.example  c.example,,\n") == ["a.example", "b.example", "c.example"]


# --- names classified by the addresses they resolve to -------------------------------------------


def _resolver(table: dict[str, list[str]], calls: list[str] | None = None) -> Callable[[str], list[str]]:
    def resolve(host: str) -> list[str]:
        if calls is not None:
            calls.append(host)
        return table.get(host, [])

    return resolve


@pytest.mark.parametrize(
    ("host", "addresses"),
    [
        ("app.localhost", ["10.20.30.40"]),  # an /etc/hosts alias of a *.localhost name
        ("staging.example.com", ["10.20.30.40"]),  # a "safe" name that really points at production
        ("localhost", ["127.0.0.1", "::ffff:10.20.30.40"]),  # any one address is enough, in any spelling
    ],
)
def test_name_resolving_to_a_prod_address_is_prod(host: str, addresses: list[str]) -> None:
    policy = HostPolicy(
        safe_hosts=[("staging.example.com", "E2E_SAFE_HOSTS")],
        prod_hosts=[("10.20.30.40", "E2E_PROD_HOSTS")],
        resolver=_resolver({host: addresses}),
    )
    verdict = policy.classify_host(host)
    assert verdict.is_prod, verdict.reason
    assert verdict.rule == "resolved address"
    assert "resolves to 10.20.30.40, listed as production in E2E_PROD_HOSTS" in verdict.reason


def test_name_resolving_elsewhere_keeps_its_class() -> None:
    resolver = _resolver({"app.localhost": ["127.0.0.1"]})
    policy = HostPolicy(prod_hosts=[("10.20.30.40", "E2E_PROD_HOSTS")], resolver=resolver)
    assert policy.classify_host("app.localhost").target_class is LOCAL
    assert policy.classify_host("unresolvable.localhost").target_class is LOCAL  # it cannot be connected to


def test_names_are_resolved_only_when_a_prod_entry_is_an_address() -> None:
    calls: list[str] = []
    policy = HostPolicy(prod_hosts=[("evenslouis.ca", "E2E_PROD_HOSTS")], resolver=_resolver({}, calls))
    assert policy.classify_host("app.localhost").target_class is LOCAL
    assert policy.classify_host("127.0.0.1").target_class is LOCAL
    assert calls == []


def test_the_system_resolver_sees_localhost_as_a_listed_prod_address() -> None:
    # /etc/hosts maps localhost to 127.0.0.1 on every machine this suite runs on.
    policy = HostPolicy(prod_hosts=[("127.0.0.1", "E2E_PROD_HOSTS")])
    verdict = policy.classify_url("http://localhost:8080/")
    assert verdict.is_prod, verdict.reason
    assert verdict.rule == "resolved address"
