"""Unauthenticated probes (safety/probes.py): the one write a read-only test may send to production."""

from __future__ import annotations

import textwrap

import pytest

from safety.probes import Probe, ProbeMarkerError, probe_from_marker
from tests.safety.stand_in import StandIn

INI = "[pytest]\naddopts = -p no:cacheprovider\nprod_hosts = 127.0.0.2\n"
EXECUTE = Probe("POST", "/api/next-actions/*/execute")


@pytest.mark.parametrize(
    ("method", "url", "headers"),
    [
        ("POST", "http://p/api/next-actions/abc/execute", ["Content-Type", "Content-Length"]),
        ("POST", "http://p/api/next-actions/abc/execute?x=1", []),
    ],
)
def test_a_credential_less_request_on_the_declared_path_is_allowed(method: str, url: str, headers: list[str]) -> None:
    assert EXECUTE.allows(method, url, headers)


@pytest.mark.parametrize(
    ("method", "url", "headers"),
    [
        ("POST", "http://p/api/next-actions/abc/execute", ["Authorization"]),
        ("POST", "http://p/api/next-actions/abc/execute", ["cookie"]),
        ("POST", "http://p/api/next-actions/abc/execute", ["PROXY-AUTHORIZATION"]),
        ("PUT", "http://p/api/next-actions/abc/execute", []),
        ("post", "http://p/api/next-actions/abc/execute", []),
        ("POST", "http://p/api/next-actions/a/b/execute", []),  # * is one segment
        ("POST", "http://p/api/next-actions//execute", []),
        ("POST", "http://p/api/e2e/fixtures", []),
        ("POST", "http://p/api/next-actions/abc/execute/more", []),
        ("POST", "http://p/x/api/next-actions/abc/execute", []),
    ],
)
def test_anything_else_is_not_a_probe(method: str, url: str, headers: list[str]) -> None:
    assert not EXECUTE.allows(method, url, headers)


@pytest.mark.parametrize(
    "args",
    [(), ("POST",), ("post", "/x"), ("POST", "x"), ("POST", "/x?y"), ("POST", "/**"), (1, "/x"), ("POST", "/x", "/y")],
)
def test_a_vague_marker_is_refused(args: tuple[object, ...]) -> None:
    with pytest.raises(ProbeMarkerError, match="unauthenticated_probe"):
        probe_from_marker(args, "test_x")


def _run(pytester: pytest.Pytester, prod: StandIn, local: StandIn, body: str) -> pytest.RunResult:
    pytester.makeini(INI)
    pytester.makepyfile(
        f"import httpx\nimport pytest\nURL = {prod.url + '/api/next-actions/n1/execute'!r}\n\n" + textwrap.dedent(body)
    )
    return pytester.runpytest(f"--base-url={local.url}", "-p", "no:randomly")


def test_a_marked_probe_reaches_prod_and_nothing_else_does(
    pytester: pytest.Pytester, prod: StandIn, local: StandIn
) -> None:
    result = _run(
        pytester,
        prod,
        local,
        """
        PROBE = pytest.mark.unauthenticated_probe("POST", "/api/next-actions/*/execute")

        @PROBE
        def test_probe():
            assert httpx.post(URL, json={"actionKey": "mark_done"}).status_code == 200

        @PROBE
        def test_probe_with_a_bearer_token():
            httpx.post(URL, json={}, headers={"Authorization": "Bearer t"})

        @PROBE
        def test_probe_with_a_cookie():
            httpx.post(URL, json={}, cookies={"session": "t"})

        @PROBE
        def test_probe_on_another_path():
            httpx.post(URL.replace("/execute", "/other"), json={})

        def test_no_marker():
            httpx.post(URL, json={})
        """,
    )
    outcomes = {r.nodeid.split("::")[1]: r.outcome for r in result.reprec.getreports("pytest_runtest_logreport")
                if r.when == "call"}  # fmt: skip
    assert outcomes == {
        "test_probe": "passed",
        "test_probe_with_a_bearer_token": "failed",
        "test_probe_with_a_cookie": "failed",
        "test_probe_on_another_path": "failed",
        "test_no_marker": "failed",
    }
    assert prod.writes == [("POST", "/api/next-actions/n1/execute")]


def test_a_vague_probe_marker_fails_its_test_with_a_clear_message(
    pytester: pytest.Pytester, prod: StandIn, local: StandIn
) -> None:
    result = _run(
        pytester,
        prod,
        local,
        """
        @pytest.mark.unauthenticated_probe("POST")
        def test_vague():
            httpx.post(URL)
        """,
    )
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*unauthenticated_probe takes a method and a path pattern*"])
    assert "Traceback" not in result.stdout.str()
    assert prod.writes == []
