"""The plugin end to end, through pytester: resolution, header, guard, override, redirects, summary."""

from __future__ import annotations

import textwrap

import pytest

from tests.safety.stand_in import StandIn

INI = """
[pytest]
addopts = -p no:cacheprovider
prod_hosts = 127.0.0.2
safe_hosts = 127.0.0.3
"""

MUTATING_TEST = """
import pytest

@pytest.mark.mutating
def test_changes_things(base_url):
    assert base_url
"""


@pytest.fixture
def ini(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makeini(INI)
    return pytester


# --- target resolution -------------------------------------------------------------------------


def test_header_shows_target_class_and_why(ini: pytest.Pytester, local: StandIn) -> None:
    ini.makepyfile("def test_ok(): pass")
    result = ini.runpytest(f"--base-url={local.url}")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(
        [
            f"e2e target: {local.url}/ (from --base-url)",
            "e2e target class: local: 127.0.0.1 is a loopback address*",
            "e2e mutating tests: will run",
        ]
    )


@pytest.mark.parametrize(
    ("env", "cli", "expected"),
    [
        (
            {"E2E_BASE_URL": "http://127.0.0.1:1001"},
            "http://127.0.0.1:1000",
            "http://127.0.0.1:1000/",
        ),
        (
            {
                "E2E_BASE_URL": "http://127.0.0.1:1001",
                "PLAYWRIGHT_BASE_URL": "http://127.0.0.1:1002",
            },
            None,
            "http://127.0.0.1:1001/",
        ),
        (
            {
                "PLAYWRIGHT_BASE_URL": "http://127.0.0.1:1002",
                "PYTEST_BASE_URL": "http://127.0.0.1:1003",
            },
            None,
            "http://127.0.0.1:1002/",
        ),
        ({"PYTEST_BASE_URL": "http://127.0.0.1:1003"}, None, "http://127.0.0.1:1003/"),
        ({}, None, "http://127.0.0.1:1004/"),
        ({"E2E_BASE_URL": ""}, None, "http://127.0.0.1:1004/"),
    ],
    ids=[
        "cli-beats-env",
        "e2e-beats-playwright",
        "playwright-beats-pytest",
        "pytest-env",
        "ini",
        "empty-env-is-unset",
    ],
)
def test_precedence_cli_env_ini(
    pytester: pytest.Pytester,
    monkeypatch: pytest.MonkeyPatch,
    env: dict[str, str],
    cli: str | None,
    expected: str,
) -> None:
    pytester.makeini(INI + "base_url = http://127.0.0.1:1004\n")
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    pytester.makepyfile(f"def test_url(base_url): assert base_url == {expected!r}")
    result = pytester.runpytest(*([f"--base-url={cli}"] if cli else []))
    result.assert_outcomes(passed=1)


@pytest.mark.parametrize(
    "bad",
    ["not a url", "ftp://127.0.0.1/", "http://", "http://user:pw@127.0.0.1/", "127.0.0.1:3000"],
)
def test_malformed_base_url_is_a_usage_error_naming_it(ini: pytest.Pytester, bad: str) -> None:
    ini.makepyfile("def test_ok(): pass")
    result = ini.runpytest(f"--base-url={bad}")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert bad.split("@")[-1] in result.stderr.str() or bad in result.stderr.str()
    assert "Traceback" not in result.stderr.str()


def test_malformed_env_url_names_the_variable(ini: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("E2E_BASE_URL", "htp:/broken")
    ini.makepyfile("def test_ok(): pass")
    result = ini.runpytest()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*E2E_BASE_URL*htp:/broken*"])


def test_bad_host_entry_is_a_usage_error(ini: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("E2E_SAFE_HOSTS", "https://staging.example.com/")
    ini.makepyfile("def test_ok(): pass")
    result = ini.runpytest("--base-url=http://127.0.0.1:9")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*https://staging.example.com/*E2E_SAFE_HOSTS*"])


# --- the guard and the override ------------------------------------------------------------------


def test_mutating_test_skips_on_prod_naming_host_why_and_override(ini: pytest.Pytester, prod: StandIn) -> None:
    ini.makepyfile(MUTATING_TEST + "\ndef test_read_only(base_url):\n    pass\n")
    result = ini.runpytest(f"--base-url={prod.url}", "-rs")
    result.assert_outcomes(passed=1, skipped=1)
    result.stdout.fnmatch_lines(
        [
            "*e2e production guard*",
            "1 mutating test(s) SKIPPED by the production guard on *127.0.0.2*E2E_ALLOW_PROD_SCORE=1.",
            "This run did NOT test any state-changing behaviour of that target.",
            "*SKIPPED*mutating test skipped: the target 127.0.0.2*production*E2E_ALLOW_PROD_SCORE=1*",
        ]
    )
    # The skip is reported at the test's own location, never at a line of the plugin.
    result.stdout.fnmatch_lines(["SKIPPED [[]1[]] test_mutating_test_skips_on_prod_naming_host_why_and_override.py:*"])
    assert "plugin.py" not in result.stdout.str()
    assert prod.received == []  # a prod target without the override is not even probed


@pytest.mark.parametrize("value", ["1", "true", "TRUE", "yes", "On"])
def test_override_allows_prod_and_says_so_loudly(
    ini: pytest.Pytester, prod: StandIn, monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("E2E_ALLOW_PROD_SCORE", value)
    ini.makepyfile(MUTATING_TEST)
    result = ini.runpytest(f"--base-url={prod.url}")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(
        [
            "!!! E2E_ALLOW_PROD_SCORE=*MUTATING TESTS WILL CHANGE PRODUCTION DATA",
            "!!! E2E_ALLOW_PROD_SCORE was set: those tests changed PRODUCTION data on 127.0.0.2. !!!",
        ]
    )


@pytest.mark.parametrize("value", ["0", "false", "No", "OFF", ""])
def test_false_override_values_keep_prod_skipped(
    ini: pytest.Pytester, prod: StandIn, monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("E2E_ALLOW_PROD_SCORE", value)
    ini.makepyfile(MUTATING_TEST)
    result = ini.runpytest(f"--base-url={prod.url}")
    result.assert_outcomes(skipped=1)


@pytest.mark.parametrize("value", ["2", "y", "enable", "allow", "true!", "1 1"])
def test_unclear_override_is_a_usage_error(ini: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("E2E_ALLOW_PROD_SCORE", value)
    ini.makepyfile(MUTATING_TEST)
    result = ini.runpytest("--base-url=http://127.0.0.1:9")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"*E2E_ALLOW_PROD_SCORE={value!r} is not a valid value*"])


def test_fixture_requested_directly_also_guards(ini: pytest.Pytester, prod: StandIn) -> None:
    ini.makepyfile("def test_direct(require_safe_base_url):\n    pass\n")
    result = ini.runpytest(f"--base-url={prod.url}")
    result.assert_outcomes(skipped=1)


def test_fixture_returns_base_url_on_a_safe_target(ini: pytest.Pytester, staging: StandIn) -> None:
    ini.makepyfile(
        f"def test_direct(require_safe_base_url):\n    assert require_safe_base_url == {staging.url + '/'!r}\n"
    )
    result = ini.runpytest(f"--base-url={staging.url}")
    result.assert_outcomes(passed=1)


def test_folder_named_mutating_does_not_mark_tests(ini: pytest.Pytester, prod: StandIn) -> None:
    # `keywords` would match the directory name; the guard must use get_closest_marker.
    ini.mkpydir("mutating")
    (ini.path / "mutating" / "test_in_folder.py").write_text("def test_read_only(base_url):\n    pass\n")
    result = ini.runpytest(f"--base-url={prod.url}")
    result.assert_outcomes(passed=1)


def test_class_level_marker_is_honoured(ini: pytest.Pytester, prod: StandIn) -> None:
    ini.makepyfile("import pytest\n@pytest.mark.mutating\nclass TestWrites:\n    def test_a(self): pass\n")
    result = ini.runpytest(f"--base-url={prod.url}")
    result.assert_outcomes(skipped=1)


def test_session_fixture_of_a_mutating_test_never_runs_on_prod(ini: pytest.Pytester, prod: StandIn) -> None:
    ini.makepyfile(
        """
        import httpx, pytest

        @pytest.fixture(scope="session")
        def created(base_url):
            return httpx.post(base_url + "create")

        @pytest.mark.mutating
        def test_uses_it(created):
            pass
        """
    )
    result = ini.runpytest(f"--base-url={prod.url}")
    result.assert_outcomes(skipped=1)
    assert prod.writes == []


# --- redirects and reachability ------------------------------------------------------------------


def test_safe_host_redirecting_to_prod_makes_the_target_prod(
    ini: pytest.Pytester, staging: StandIn, prod: StandIn
) -> None:
    staging.redirect_to = prod.url
    ini.makepyfile(MUTATING_TEST)
    result = ini.runpytest(f"--base-url={staging.url}", "-rs")
    result.assert_outcomes(skipped=1)
    result.stdout.fnmatch_lines(["e2e target class: prod: *redirects to http://127.0.0.2*"])
    assert prod.writes == []


def test_unreachable_target_errors_mutating_tests(ini: pytest.Pytester, staging: StandIn) -> None:
    url = staging.url
    staging.stop()  # nothing listens there any more
    ini.makepyfile(MUTATING_TEST + "\ndef test_read_only():\n    pass\n")
    result = ini.runpytest(f"--base-url={url}")
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(["*production guard: the target * could not be checked*"])
    # The summary says the test errored, and does not also count it as one that ran.
    result.stdout.fnmatch_lines(["1 mutating test(s) ERRORED because the target could not be checked*"])
    assert "mutating test(s) ran against" not in result.stdout.str()


# --- the network guard ---------------------------------------------------------------------------


WRITES = {
    "httpx-function": "httpx.post(URL, json={})",
    "httpx-client-hooks": (
        "from safety.network_guard import httpx_event_hooks\nhttpx.Client(event_hooks=httpx_event_hooks()).post(URL)"
    ),
    "httpx-bare-client": "httpx.Client().delete(URL)",
    "httpx-async": (
        "import asyncio\n"
        "async def go():\n"
        "    async with httpx.AsyncClient() as c:\n"
        "        await c.patch(URL)\n"
        "asyncio.run(go())"
    ),
    "requests": "import requests\nrequests.put(URL, data='x')",
    "urllib": ("import urllib.request\nurllib.request.urlopen(urllib.request.Request(URL, data=b'x', method='POST'))"),
    "http.client": ("import http.client\nc = http.client.HTTPConnection('127.0.0.2', PORT)\nc.request('POST', '/x')"),
    # An absolute-form target names a local host, but the connection goes to production.
    "http.client-absolute-form": (
        "import http.client\nc = http.client.HTTPConnection('127.0.0.2', PORT)\nc.request('POST', 'http://127.0.0.1:9/x')"
    ),
    # Methods are case-sensitive: `get` is not GET, and http.client sends it as written.
    "http.client-lowercase-get": (
        "import http.client\nc = http.client.HTTPConnection('127.0.0.2', PORT)\nc.request('get', '/x')"
    ),
    "httpcore": "import httpcore\nhttpcore.request('POST', URL)",
    # A custom httpx transport may drive httpcore itself, below httpx's own transport.
    "httpcore-pool": "import httpcore\nwith httpcore.ConnectionPool() as pool:\n    pool.request('DELETE', URL)",
    # A plain-HTTP proxy that is really production receives the write itself.
    "requests-through-prod-as-proxy": (
        "import requests\nrequests.post('http://127.0.0.1:9/x', proxies={'http': URL.rsplit('/', 2)[0]})"
    ),
}


@pytest.mark.parametrize("call", list(WRITES.values()), ids=list(WRITES))
def test_unmarked_write_to_prod_fails_and_never_arrives(
    ini: pytest.Pytester, prod: StandIn, local: StandIn, call: str
) -> None:
    body = textwrap.indent(call, "    ")
    ini.makepyfile(
        f"import httpx\nURL = {prod.url + '/api/things'!r}\nPORT = {prod.port}\n\n"
        f"def test_forgot_its_marker():\n{body}\n"
    )
    result = ini.runpytest(f"--base-url={local.url}")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        ["*BlockedRequestError: network guard blocked * http://127.0.0.2:*@pytest.mark.mutating*"]
    )
    result.stdout.fnmatch_lines(["*1 test(s) FAILED because the network guard blocked*", "*test_forgot_its_marker*"])
    assert prod.writes == []


def test_swallowed_block_still_fails_the_test(ini: pytest.Pytester, prod: StandIn, local: StandIn) -> None:
    ini.makepyfile(
        f"""
        import httpx

        def test_catches_everything():
            try:
                httpx.post({prod.url!r})
            except Exception:
                pass
            except AssertionError:
                pass
        """
    )
    result = ini.runpytest(f"--base-url={local.url}")
    result.assert_outcomes(failed=1)
    assert prod.writes == []


def test_block_stays_in_view_when_the_test_fails_of_something_else(
    ini: pytest.Pytester, prod: StandIn, local: StandIn
) -> None:
    ini.makepyfile(
        f"""
        import httpx

        def test_waits_for_what_the_write_would_have_shown():
            try:
                httpx.post({prod.url!r})
            except AssertionError:
                pass
            assert False, "the item never showed up"
        """
    )
    result = ini.runpytest(f"--base-url={local.url}")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*the item never showed up*"])
    result.stdout.fnmatch_lines(["*e2e network guard*", "*BlockedRequestError: network guard blocked POST*"])
    assert prod.writes == []


def test_redirect_hop_to_prod_is_blocked(ini: pytest.Pytester, prod: StandIn, local: StandIn) -> None:
    local.redirect_to = prod.url
    local.redirect_status = 307  # keeps the method: the hop would be a POST to production
    ini.makepyfile(
        f"""
        import httpx

        def test_follows():
            httpx.post({local.url + "/go"!r}, follow_redirects=True)
        """
    )
    result = ini.runpytest(f"--base-url={local.url}")
    result.assert_outcomes(failed=1)
    assert local.writes == [("POST", "/go")]
    assert prod.writes == []


def test_read_only_requests_to_prod_pass(ini: pytest.Pytester, prod: StandIn) -> None:
    ini.makepyfile(
        """
        import httpx, requests

        def test_reads(base_url):
            assert httpx.get(base_url).status_code == 200
            assert httpx.head(base_url).status_code == 200
            assert httpx.options(base_url).status_code == 200
            assert requests.get(base_url).status_code == 200
        """
    )
    result = ini.runpytest(f"--base-url={prod.url}")
    result.assert_outcomes(passed=1)
    assert [m for m, _ in prod.received] == ["GET", "HEAD", "OPTIONS", "GET"]


def test_writes_to_local_and_safe_hosts_pass_unmarked(ini: pytest.Pytester, local: StandIn, staging: StandIn) -> None:
    ini.makepyfile(
        f"""
        import httpx

        def test_writes():
            assert httpx.post({local.url!r}).status_code == 200
            assert httpx.post({staging.url!r}).status_code == 200
        """
    )
    result = ini.runpytest(f"--base-url={local.url}")
    result.assert_outcomes(passed=1)


def test_override_lets_a_marked_test_write_to_the_target_only(
    ini: pytest.Pytester, prod: StandIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    other = StandIn("127.0.0.4").start()
    try:
        monkeypatch.setenv("E2E_ALLOW_PROD_SCORE", "1")
        monkeypatch.setenv("E2E_PROD_HOSTS", "127.0.0.4")
        ini.makepyfile(
            f"""
            import httpx, pytest

            @pytest.mark.mutating
            def test_writes_target(base_url):
                assert httpx.post(base_url + "score").status_code == 200

            @pytest.mark.mutating
            def test_writes_another_prod_host():
                httpx.post({other.url!r})

            def test_unmarked_writes_target(base_url):
                httpx.post(base_url + "unmarked")
            """
        )
        result = ini.runpytest(f"--base-url={prod.url}")
        result.assert_outcomes(passed=1, failed=2)
        assert prod.writes == [("POST", "/score")]
        assert other.writes == []
    finally:
        other.stop()


# --- xdist ---------------------------------------------------------------------------------------


def test_xdist_workers_make_the_same_decision(ini: pytest.Pytester, staging: StandIn, prod: StandIn) -> None:
    staging.redirect_to = prod.url  # only the probe knows this; workers must inherit its result
    ini.makepyfile(
        "import pytest\n"
        + "".join(f"@pytest.mark.mutating\ndef test_m{i}(): pass\n" for i in range(6))
        + "".join(f"def test_r{i}(): pass\n" for i in range(4))
    )
    result = ini.runpytest_subprocess(f"--base-url={staging.url}", "-n", "2", "-p", "xdist")
    result.assert_outcomes(passed=4, skipped=6)
    out = result.stdout.str()
    assert out.count("e2e target class: prod") == 1
    assert out.count("e2e production guard") == 1
    result.stdout.fnmatch_lines(["6 mutating test(s) SKIPPED by the production guard*"])
    # One probe by the controller: workers did not contact the target themselves.
    assert [m for m, _ in staging.received] == ["GET"]


# --- the target says what it is ------------------------------------------------------------------


UNMARKED_WRITE = """
import httpx, pytest

@pytest.mark.mutating
def test_changes_things(base_url):
    httpx.post(base_url + "api/marked")

def test_forgot_its_marker(base_url):
    httpx.post(base_url + "api/unmarked")
"""


@pytest.mark.parametrize(
    ("said", "listed"),
    [("production", None), ("Production", None), ("prod-eu", "env"), ("prod-eu", "ini")],
)
def test_a_loopback_target_that_says_production_is_production(
    ini: pytest.Pytester, local: StandIn, monkeypatch: pytest.MonkeyPatch, said: str, listed: str | None
) -> None:
    # A tunnel to production (127.0.0.1:port -> prod) looks local to every host rule.
    local.environment = said
    if listed == "env":
        monkeypatch.setenv("E2E_PROD_ENVIRONMENTS", "staging, PROD-EU")
    if listed == "ini":
        ini.makeini(INI + "prod_environments = prod-eu\n")
    ini.makepyfile(UNMARKED_WRITE)
    result = ini.runpytest(f"--base-url={local.url}", "-rs")
    result.assert_outcomes(skipped=1, failed=1)
    result.stdout.fnmatch_lines(
        [
            f"e2e target class: prod: GET {local.url}/api/health says \"environment\": '{said}', a production name*",
            "e2e classified by: the environment rule",
            "e2e mutating tests: will be SKIPPED*",
        ]
    )
    result.stdout.fnmatch_lines(
        [
            "1 mutating test(s) SKIPPED by the production guard on http://127.0.0.1:*(prod): "
            "*[[]classified by the environment rule]*"
        ]
    )
    result.stdout.fnmatch_lines(["*BlockedRequestError: network guard blocked POST http://127.0.0.1:*/api/unmarked*"])
    assert local.writes == []


def test_the_same_host_on_another_port_is_still_local(ini: pytest.Pytester, local: StandIn) -> None:
    # Only the origin that said "production" is production; another app on loopback is not.
    other = StandIn("127.0.0.1").start()
    try:
        local.environment = "production"
        ini.makepyfile(f"import httpx\ndef test_writes_elsewhere():\n    httpx.post({other.url + '/x'!r})\n")
        result = ini.runpytest(f"--base-url={local.url}")
        result.assert_outcomes(passed=1)
        assert other.writes == [("POST", "/x")]
    finally:
        other.stop()


def test_the_target_reached_by_another_name_is_still_production(ini: pytest.Pytester, local: StandIn) -> None:
    local.environment = "production"
    ini.makepyfile(f"import httpx\ndef test_by_name():\n    httpx.post('http://localhost:{local.port}/x')\n")
    result = ini.runpytest(f"--base-url={local.url}")
    result.assert_outcomes(failed=1)
    assert local.writes == []


@pytest.mark.parametrize(("said", "expected"), [("development", "not a production name"), (None, "names no")])
def test_a_non_production_answer_leaves_the_host_rules_in_charge(
    ini: pytest.Pytester, local: StandIn, said: str | None, expected: str
) -> None:
    local.environment = said
    ini.makepyfile(MUTATING_TEST)
    result = ini.runpytest(f"--base-url={local.url}")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines([f"e2e classified by: the host (loopback) rule; GET */api/health*{expected}*"])


def test_an_unreadable_answer_leaves_the_host_rules_in_charge(ini: pytest.Pytester, staging: StandIn) -> None:
    # The stand-in answers everything under /page with HTML.
    ini.makepyfile("def test_ok(): pass")
    result = ini.runpytest(f"--base-url={staging.url}/page/")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(
        ["e2e classified by: the host (listed) rule; GET */page/api/health could not be read (its body is not JSON)*"]
    )


def test_bad_environment_name_is_a_usage_error(ini: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("E2E_PROD_ENVIRONMENTS", "prod/eu")
    ini.makepyfile("def test_ok(): pass")
    result = ini.runpytest("--base-url=http://127.0.0.1:9")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*'prod/eu' in E2E_PROD_ENVIRONMENTS is not an environment name*"])
    assert "Traceback" not in result.stderr.str()


def test_a_name_resolving_to_a_listed_prod_address_is_prod(
    ini: pytest.Pytester, local: StandIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("E2E_PROD_HOSTS", "127.0.0.1")  # /etc/hosts: localhost -> 127.0.0.1
    ini.makepyfile(UNMARKED_WRITE)
    result = ini.runpytest(f"--base-url=http://localhost:{local.port}")
    result.assert_outcomes(skipped=1, failed=1)
    result.stdout.fnmatch_lines(
        [
            "e2e target class: prod: localhost resolves to 127.0.0.1, listed as production in E2E_PROD_HOSTS.",
            "e2e classified by: the host (resolved address) rule",
        ]
    )
    assert local.writes == []


def test_xdist_workers_inherit_the_environment_rule(ini: pytest.Pytester, local: StandIn) -> None:
    local.environment = "production"
    ini.makepyfile(
        "import httpx, pytest\n"
        + "".join(f"@pytest.mark.mutating\ndef test_m{i}(): pass\n" for i in range(4))
        + "".join(f"def test_w{i}(base_url):\n    httpx.post(base_url + 'w{i}')\n" for i in range(4))
    )
    result = ini.runpytest_subprocess(f"--base-url={local.url}", "-n", "2", "-p", "xdist")
    result.assert_outcomes(skipped=4, failed=4)
    assert result.stdout.str().count("e2e classified by: the environment rule") == 1
    # The controller asked once; the workers were handed its answer.
    assert [p for m, p in local.received if p == "/api/health"] == ["/api/health"]
    assert local.writes == []
