"""The preflight: one clear usage error (exit status 4) for an unreachable target, before any test runs.

What failed is classified from the httpx error and its causes (unit tests, with transports that
raise what a real connection raises); end to end through pytester: connection refused and a TLS
handshake against a plain-HTTP port, both local. It runs only where tests of contracts/ or
specs/ are collected against a base URL: never for the harness's own tests, --collect-only or
--help.
"""

from __future__ import annotations

import socket
import ssl
from pathlib import Path

import httpx
import pytest

from safety.preflight import PreflightFailure, collects_suite, preflight
from tests.safety.stand_in import StandIn

INI = """
[pytest]
addopts = -p no:cacheprovider
prod_hosts = 127.0.0.2
safe_hosts = 127.0.0.3
"""
SUITE_TEST = """
import pytest

@pytest.mark.mutating
def test_writes(base_url):
    pass

def test_reads(base_url):
    pass
"""
#: Nothing listens on port 1 of loopback (a privileged port no test server uses).
REFUSED = "http://127.0.0.1:1"


def _raising(error: Exception) -> httpx.MockTransport:
    def handler(request: httpx.Request) -> httpx.Response:
        raise error

    return httpx.MockTransport(handler)


def _caused_by(error: httpx.HTTPError, cause: BaseException) -> httpx.HTTPError:
    error.__cause__ = cause
    return error


@pytest.mark.parametrize(
    ("error", "kind", "check"),
    [
        (
            _caused_by(httpx.ConnectError("[Errno -2] Name or service not known"), socket.gaierror(-2, "x")),
            "DNS",
            "spelling of the host",
        ),
        (
            _caused_by(httpx.ConnectError("[Errno 111] Connection refused"), ConnectionRefusedError(111, "x")),
            "connection refused",
            "the app is running",
        ),
        (
            _caused_by(httpx.ConnectError("certificate verify failed"), ssl.SSLCertVerificationError(1, "x")),
            "TLS",
            "certificate",
        ),
        (httpx.ConnectTimeout("timed out"), "timeout", "that the target is up"),
        (httpx.ReadTimeout("timed out"), "timeout", "that the target is up"),
        (httpx.RemoteProtocolError("Server disconnected without sending a response."), "not HTTP", "scheme"),
        (httpx.ConnectError("[Errno 101] Network is unreachable"), "connection failed", "reachable"),
    ],
    ids=["dns", "refused", "tls", "connect-timeout", "read-timeout", "not-http", "other"],
)
def test_what_failed_is_named_with_what_to_check(error: httpx.HTTPError, kind: str, check: str) -> None:
    failure = preflight("https://staging.example.com/app/", transport=_raising(error))
    assert isinstance(failure, PreflightFailure)
    assert (failure.kind, failure.url) == (kind, "https://staging.example.com/app/api/health")
    assert check in failure.check
    message = failure.message("https://staging.example.com/app/", "E2E_BASE_URL")
    assert "https://staging.example.com/app/ (from E2E_BASE_URL)" in message
    assert "GET https://staging.example.com/app/api/health failed" in message and "no test ran" in message


@pytest.mark.parametrize("status", [200, 301, 404, 503])
def test_any_http_answer_passes_the_preflight(status: int) -> None:
    """The health contract test judges the answer; the preflight only asks whether one comes."""
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(f"{request.method} {request.url}")
        return httpx.Response(status, headers={"Location": "https://elsewhere.example.com/"})

    assert preflight("http://staging.example.com", transport=httpx.MockTransport(handler)) is None
    assert seen == ["GET http://staging.example.com/api/health"]


def test_the_suite_is_collected_by_its_folders_or_a_folder_above(tmp_path: Path) -> None:
    (tmp_path / "contracts").mkdir()
    (tmp_path / "specs").mkdir()
    (tmp_path / "tests").mkdir()
    assert collects_suite(["contracts/test_auth.py::test_x"], tmp_path, tmp_path)
    assert collects_suite([str(tmp_path / "specs")], tmp_path / "tests", tmp_path)
    assert collects_suite([str(tmp_path)], tmp_path, tmp_path)
    assert not collects_suite(["tests", "tests/test_x.py::test_y"], tmp_path, tmp_path)
    # Without the folders (another project), nothing is the suite.
    assert not collects_suite(["contracts"], tmp_path / "tests", tmp_path / "tests")


# --- end to end ----------------------------------------------------------------------------------


@pytest.fixture
def suite(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makeini(INI)
    (pytester.path / "contracts").mkdir()
    (pytester.path / "contracts" / "test_health.py").write_text(SUITE_TEST, encoding="utf-8")
    (pytester.path / "tests").mkdir()
    (pytester.path / "tests" / "test_own.py").write_text("def test_own(base_url):\n    pass\n", encoding="utf-8")
    return pytester


def _assert_one_clear_error(result: pytest.RunResult, url: str, kind: str) -> None:
    assert result.ret == pytest.ExitCode.USAGE_ERROR == 4
    err = result.stderr.str()
    assert f"the target {url}/ (from --base-url) cannot be reached, so no test ran" in err
    assert f"GET {url}/api/health failed: {kind}:" in err and "Check: " in err
    assert "Traceback" not in err + result.stdout.str()
    assert len(result.stdout.lines) + len(result.stderr.lines) < 15, "one error, not thousands of lines"
    assert "passed" not in result.stdout.str() and "e2e target:" not in result.stdout.str()


def test_a_refused_connection_stops_the_run_before_any_test(suite: pytest.Pytester) -> None:
    _assert_one_clear_error(suite.runpytest(f"--base-url={REFUSED}", "contracts"), REFUSED, "connection refused")


def test_a_tls_failure_names_tls(suite: pytest.Pytester, local: StandIn) -> None:
    url = local.url.replace("http://", "https://")
    _assert_one_clear_error(suite.runpytest(f"--base-url={url}", "contracts"), url, "TLS")


def test_the_target_from_the_environment_is_checked_too(
    suite: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("E2E_BASE_URL", REFUSED)
    result = suite.runpytest()  # no argument: the rootdir, above contracts/
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"*the target {REFUSED}/ (from E2E_BASE_URL) cannot be reached*"])


def test_the_preflight_stops_an_xdist_run_before_its_workers_start(suite: pytest.Pytester) -> None:
    result = suite.runpytest_subprocess(f"--base-url={REFUSED}", "contracts", "-n", "2", "-p", "xdist")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*cannot be reached, so no test ran*connection refused*"])
    assert "bringing up nodes" not in result.stdout.str()


def test_a_reachable_target_runs_the_tests(suite: pytest.Pytester, local: StandIn) -> None:
    result = suite.runpytest(f"--base-url={local.url}", "contracts")
    result.assert_outcomes(passed=2)
    assert ("GET", "/api/health") in local.received


@pytest.mark.parametrize(
    "args",
    [["tests"], ["contracts", "--collect-only"], ["--help"], ["contracts", "--fixtures"]],
    ids=["harness-tests", "collect-only", "help", "fixtures"],
)
def test_no_preflight_where_no_suite_test_runs(suite: pytest.Pytester, args: list[str]) -> None:
    result = suite.runpytest(f"--base-url={REFUSED}", *args)
    assert result.ret == pytest.ExitCode.OK
    assert "cannot be reached" not in result.stderr.str()
