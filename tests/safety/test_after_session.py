"""No request after the test: blocks outside any test fail the run, and the guard stays armed until exit.

Each inner run writes to production (127.0.0.2, listed as prod) from somewhere no
test owns: a fixture's teardown, a session hook, a thread, an exit handler. The write
must never arrive, and the run must end with a non-zero status naming it.
"""

from __future__ import annotations

import pytest

from tests.safety.stand_in import StandIn

INI = "[pytest]\naddopts = -p no:cacheprovider\nprod_hosts = 127.0.0.2\n"

WRITE = """
def write(path):
    import httpx
    try:
        httpx.post(PROD + path)
    except AssertionError:
        pass  # swallowed, as careless code would: the run must fail all the same
"""


def _setup(pytester: pytest.Pytester, prod: StandIn, test_source: str, conftest: str = "") -> None:
    pytester.makeini(INI)
    header = f"PROD = {prod.url!r}\n" + WRITE
    pytester.makeconftest(header + conftest)
    pytester.makepyfile(header + test_source)


@pytest.mark.parametrize("scope", ["function", "module", "session"])
def test_block_in_a_fixture_teardown_fails_the_run(
    pytester: pytest.Pytester, prod: StandIn, local: StandIn, scope: str
) -> None:
    _setup(
        pytester,
        prod,
        f"""
import pytest

@pytest.fixture(scope={scope!r})
def resource():
    yield
    write("/teardown")

def test_uses_it(resource):
    pass
""",
    )
    result = pytester.runpytest(f"--base-url={local.url}")
    result.assert_outcomes(passed=1, errors=1)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(["*ERROR at teardown of test_uses_it*", "*network guard blocked POST*/teardown*"])
    result.stdout.fnmatch_lines(["*1 test(s) FAILED because the network guard blocked*", "*test_uses_it*"])
    assert prod.writes == []


SESSION_HOOKS = {
    "sessionstart": ("def pytest_sessionstart(session):\n    write('/hook')\n", "before the first test"),
    "collection": ("write('/hook')\n", "before the first test"),  # conftest import
    "sessionfinish": ("def pytest_sessionfinish(session):\n    write('/hook')\n", "after the test session"),
    "runtest_logfinish": (
        "def pytest_runtest_logfinish(nodeid):\n    write('/hook')\n",
        "between tests",
    ),
}


@pytest.mark.parametrize("hook", list(SESSION_HOOKS))
def test_block_in_a_session_hook_fails_the_run_and_is_named(
    pytester: pytest.Pytester, prod: StandIn, local: StandIn, hook: str
) -> None:
    conftest, phase = SESSION_HOOKS[hook]
    _setup(pytester, prod, "def test_ok():\n    pass\n", conftest)
    result = pytester.runpytest(f"--base-url={local.url}")
    result.assert_outcomes(passed=1)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(
        [
            "*state-changing request(s) to production were BLOCKED OUTSIDE any test; the run fails*",
            f"*network guard blocked POST http://127.0.0.2:*/hook*[[]{phase}*, from *conftest.py:*",
        ]
    )
    assert prod.writes == []


def test_block_in_a_thread_between_tests_fails_the_run(
    pytester: pytest.Pytester, prod: StandIn, local: StandIn
) -> None:
    _setup(
        pytester,
        prod,
        """
import threading

started = threading.Event()
thread = None

def test_starts_a_thread():
    global thread
    def later():
        started.wait(60)
        write("/thread")
    thread = threading.Thread(target=later)
    thread.start()

def test_next():
    pass
""",
        # The thread writes once the first test is over, before the next one starts.
        """
def pytest_runtest_logfinish(nodeid):
    import sys
    module = sys.modules.get("test_block_in_a_thread_between_tests_fails_the_run")
    if module is not None and nodeid.endswith("test_starts_a_thread"):
        module.started.set()
        module.thread.join(60)
""",
    )
    result = pytester.runpytest_subprocess(f"--base-url={local.url}")
    result.assert_outcomes(passed=2)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(["*BLOCKED OUTSIDE any test*", "*POST http://127.0.0.2:*/thread*[[]between tests*"])
    assert prod.writes == []


AT_EXIT = {
    "atexit": "import atexit\n    atexit.register(write, '/exit')",
    "finalizer": (
        "import weakref\n    class Thing: pass\n    keep.append(Thing())\n"
        "    weakref.finalize(keep[-1], write, '/exit')"
    ),
    "non-daemon-thread": (
        "import threading, time\n"
        "    def after_main():\n"
        "        for _ in range(3000):  # bounded: 30 s\n"
        "            if not threading.main_thread().is_alive():\n"
        "                break\n"
        "            time.sleep(0.01)\n"
        "        write('/exit')\n"
        "    threading.Thread(target=after_main).start()"
    ),
}


@pytest.mark.parametrize("how", list(AT_EXIT))
def test_block_after_pytest_returned_ends_the_process_failed(
    pytester: pytest.Pytester, prod: StandIn, local: StandIn, how: str
) -> None:
    _setup(pytester, prod, f"keep = []\n\ndef test_leaves_something_behind():\n    {AT_EXIT[how]}\n")
    result = pytester.runpytest_subprocess(f"--base-url={local.url}")
    result.assert_outcomes(passed=1)
    assert result.ret == 1
    result.stderr.fnmatch_lines(
        [
            "e2e network guard: network guard blocked POST http://127.0.0.2:*/exit*[[]after the test session, from *",
            "*the process exits with status 1.",
        ]
    )
    assert prod.writes == []


def test_a_clean_run_still_exits_zero(pytester: pytest.Pytester, prod: StandIn, local: StandIn) -> None:
    # The guard armed until exit must not fail a run that wrote nowhere it should not.
    _setup(pytester, prod, "import atexit, httpx\n\ndef test_reads():\n    atexit.register(httpx.get, PROD)\n")
    result = pytester.runpytest_subprocess(f"--base-url={local.url}")
    result.assert_outcomes(passed=1)
    assert result.ret == 0
    assert prod.writes == []


def test_a_worker_block_outside_its_tests_fails_the_xdist_run(
    pytester: pytest.Pytester, prod: StandIn, local: StandIn
) -> None:
    _setup(
        pytester,
        prod,
        "def test_a():\n    pass\n\ndef test_b():\n    pass\n",
        "def pytest_sessionfinish(session):\n"
        "    if hasattr(session.config, 'workerinput'):\n"
        "        write('/worker')\n",
    )
    result = pytester.runpytest_subprocess(f"--base-url={local.url}", "-n", "2", "-p", "xdist")
    result.assert_outcomes(passed=2)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(["2 state-changing request(s) to production were BLOCKED OUTSIDE any test*"])
    assert prod.writes == []


@pytest.mark.parametrize(
    "hook",
    [
        "def pytest_terminal_summary(terminalreporter):\n    write('/late')\n",
        "def pytest_unconfigure(config):\n    write('/late')\n",
    ],
    ids=["terminal_summary", "unconfigure"],
)
def test_block_after_the_summary_still_fails_the_run(
    pytester: pytest.Pytester, prod: StandIn, local: StandIn, hook: str
) -> None:
    _setup(pytester, prod, "def test_ok():\n    pass\n", hook)
    result = pytester.runpytest_subprocess(f"--base-url={local.url}")
    result.assert_outcomes(passed=1)
    assert result.ret == 1
    result.stderr.fnmatch_lines(["*network guard blocked POST http://127.0.0.2:*/late*[[]after the test session*"])
    assert prod.writes == []


def test_a_block_at_a_workers_exit_fails_the_xdist_run(
    pytester: pytest.Pytester, prod: StandIn, local: StandIn
) -> None:
    test = "import atexit\n\ndef test_leaves_a_handler():\n    atexit.register(write, '/worker-exit')\n"
    _setup(pytester, prod, test)
    result = pytester.runpytest_subprocess(f"--base-url={local.url}", "-n", "2", "-p", "xdist")
    result.assert_outcomes(passed=1)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(
        [
            "1 state-changing request(s) to production were BLOCKED OUTSIDE any test*",
            "*POST http://127.0.0.2:*/worker-exit*after the test session*[[]in a child process]*",
        ]
    )
    assert prod.writes == []
