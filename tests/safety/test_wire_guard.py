"""The wire-level guard and Python child processes: every write to production stopped under the clients.

Production is played by 127.0.0.2 (listed as prod); its request log proves that a
blocked write never arrived. Each inner test forgets its `mutating` marker on purpose.
"""

from __future__ import annotations

import sys
import textwrap

import pytest

from safety.child_guard import program_out_of_reach
from safety.wire import OPAQUE, StreamState, advance
from tests.safety.stand_in import StandIn

# --- reading the stream -----------------------------------------------------------------------


def _methods(*writes: bytes) -> list[str]:
    state, seen = StreamState(), []
    for data in writes:
        state, heads = advance(state, data)
        seen += [head.shown_method for head in heads]
    return seen


@pytest.mark.parametrize(
    ("writes", "expected"),
    [
        ((b"GET / HTTP/1.1\r\nHost: a\r\n\r\n",), ["GET"]),
        # the method is reported as soon as it is known, then again with the complete head
        ((b"POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n",), ["POST"]),
        ((b"POST /x HTTP/1.1\r\n", b"Host: a\r\n\r\n"), ["POST", "POST"]),
        ((b"PO",), ["PO…"]),  # can only become a method that is not safe
        ((b"GE",), []),  # may still become GET
        ((b"GE", b"T / HTTP/1.1\r\n\r\n"), ["GET"]),
        # a body is skipped by its length, and the pipelined request after it is read
        (
            (b"POST /a HTTP/1.1\r\nContent-Length: 9\r\n\r\nDELETE /x", b"DELETE /y HTTP/1.1\r\n\r\n"),
            ["POST", "DELETE"],
        ),
        ((b"GET /a HTTP/1.1\r\nContent-Length: 3\r\n\r\nabcPUT /b HTTP/1.1\r\n\r\n",), ["GET", "PUT"]),
        # chunked bodies, split anywhere
        (
            (
                b"POST /a HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nDELE\r\n",
                b"0\r\n\r\nPATCH /b HTTP/1.1\r\n\r\n",
            ),
            ["POST", "PATCH"],
        ),
        ((b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",), ["PRI"]),  # the HTTP/2 preface
        ((b"GET / HTTP/1.1\r\nUpgrade: h2c\r\nConnection: Upgrade\r\n\r\n",), ["GET (Upgrade: h2c)"]),
        ((b"get / HTTP/1.1\r\n\r\n",), ["get"]),  # methods are case-sensitive
        ((b"\x16\x03\x01\x02\x00POST / HTTP/1.1\r\n\r\n",), []),  # a TLS record: not HTTP/1.x
    ],
)
def test_advance_reads_every_request_head(writes: tuple[bytes, ...], expected: list[str]) -> None:
    assert _methods(*writes) == expected


def test_after_the_http2_preface_the_connection_is_opaque() -> None:
    state, _ = advance(StreamState(), b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")
    assert state == OPAQUE


def test_complete_heads_carry_their_header_names() -> None:
    _, heads = advance(StreamState(), b"POST /p HTTP/1.1\r\nHost: a\r\nAuthorization: x\r\n\r\n")
    assert [h.header_names for h in heads if not h.early] == [("host", "authorization")]


# --- end to end, through the plugin -----------------------------------------------------------

INI = "[pytest]\naddopts = -p no:cacheprovider\nprod_hosts = 127.0.0.2\n"

WIRE_WRITES = {
    "raw-socket": (
        "import socket\n"
        "s = socket.create_connection(HOST)\n"
        "s.sendall(b'POST /api/raw HTTP/1.1\\r\\nHost: x\\r\\nContent-Length: 0\\r\\n\\r\\n')"
    ),
    # Python's http.server acts on a head cut short by the end of the connection: the
    # method alone must be enough to stop it.
    "raw-socket-split-head": (
        "import socket\ns = socket.create_connection(HOST)\ns.send(b'PO')\ns.send(b'ST /api/split HTTP/1.1\\r\\n')"
    ),
    "raw-socket-sendmsg": (
        "import socket\n"
        "s = socket.create_connection(HOST)\n"
        "s.sendmsg([b'DELETE /api/msg HTTP/1.1\\r\\n', b'Host: x\\r\\n\\r\\n'])"
    ),
    "pipelined-after-a-get": (
        "import socket\n"
        "s = socket.create_connection(HOST)\n"
        "s.sendall(b'GET /api/read HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n'\n"
        "          b'PUT /api/pipelined HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n')"
    ),
    "http.client-raw-send": (
        "import http.client\n"
        "c = http.client.HTTPConnection(*HOST)\n"
        "c.connect()\n"
        "c.send(b'PATCH /api/hc HTTP/1.1\\r\\nHost: x\\r\\nContent-Length: 0\\r\\n\\r\\n')"
    ),
    "http2-cleartext-preface": (
        "import socket\ns = socket.create_connection(HOST)\ns.sendall(b'PRI * HTTP/2.0\\r\\n\\r\\nSM\\r\\n\\r\\n')"
    ),
    "http2-cleartext-upgrade": (
        "import socket\n"
        "s = socket.create_connection(HOST)\n"
        "s.sendall(b'GET /api/up HTTP/1.1\\r\\nHost: x\\r\\nUpgrade: h2c\\r\\nConnection: Upgrade\\r\\n\\r\\n')"
    ),
    "asyncio-streams": (
        "import asyncio\n"
        "async def go():\n"
        "    reader, writer = await asyncio.open_connection(*HOST)\n"
        "    writer.write(b'POST /api/stream HTTP/1.1\\r\\nHost: x\\r\\nContent-Length: 0\\r\\n\\r\\n')\n"
        "    await writer.drain()\n"
        "asyncio.run(go())"
    ),
    "asyncio-protocol-transport": (
        "import asyncio\n"
        "async def go():\n"
        "    loop = asyncio.get_running_loop()\n"
        "    transport, _ = await loop.create_connection(asyncio.Protocol, *HOST)\n"
        "    transport.write(b'DELETE /api/transport HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n')\n"
        "asyncio.run(go())"
    ),
    # TLS: the check comes before the TLS layer is asked to write (no handshake needed to show it).
    "ssl-socket": (
        "import socket, ssl\n"
        "s = ssl.create_default_context().wrap_socket(\n"
        "    socket.create_connection(HOST), server_hostname='127.0.0.2', do_handshake_on_connect=False)\n"
        "s.sendall(b'POST /api/tls HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n')"
    ),
    "ssl-object": (
        "import ssl\n"
        "o = ssl.create_default_context().wrap_bio(ssl.MemoryBIO(), ssl.MemoryBIO(), server_hostname='127.0.0.2')\n"
        "o.write(b'PUT /api/tls-object HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n')"
    ),
    # httpcore's async connection over HTTP/1.1, below every client-level hook, via anyio's asyncio.
    "httpcore-async-stream": (
        "import asyncio, httpcore\n"
        "async def go():\n"
        "    stream = await httpcore.AnyIOBackend().connect_tcp(*HOST)\n"
        "    await stream.write(b'POST /api/anyio HTTP/1.1\\r\\nHost: x\\r\\nContent-Length: 0\\r\\n\\r\\n')\n"
        "asyncio.run(go())"
    ),
}


@pytest.fixture
def ini(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makeini(INI)
    return pytester


def _inner(prod: StandIn, body: str) -> str:
    return (
        f"import pytest\nHOST = ('127.0.0.2', {prod.port})\nURL = {prod.url + '/api/child'!r}\n\n"
        f"def test_forgot_its_marker():\n{textwrap.indent(body, '    ')}\n"
    )


@pytest.mark.parametrize("call", list(WIRE_WRITES.values()), ids=list(WIRE_WRITES))
def test_wire_write_to_prod_fails_and_never_arrives(
    ini: pytest.Pytester, prod: StandIn, local: StandIn, call: str
) -> None:
    ini.makepyfile(_inner(prod, call))
    result = ini.runpytest(f"--base-url={local.url}")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*network guard blocked * http*://127.0.0.2:*on the wire*"])
    assert prod.writes == []


def test_wire_reads_to_prod_pass(ini: pytest.Pytester, prod: StandIn, local: StandIn) -> None:
    ini.makepyfile(
        _inner(
            prod,
            "import socket\n"
            "s = socket.create_connection(HOST)\n"
            "s.sendall(b'GET /api/read HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n')\n"
            "assert s.recv(12) == b'HTTP/1.0 200'",
        )
    )
    result = ini.runpytest(f"--base-url={local.url}")
    result.assert_outcomes(passed=1)
    assert prod.received == [("GET", "/api/read")]


def test_wire_writes_to_local_pass(ini: pytest.Pytester, local: StandIn) -> None:
    ini.makepyfile(
        f"import socket\ndef test_writes():\n"
        f"    s = socket.create_connection(('127.0.0.1', {local.port}))\n"
        "    s.sendall(b'POST /api/w HTTP/1.1\\r\\nHost: x\\r\\nContent-Length: 0\\r\\n\\r\\n')\n"
        "    assert s.recv(12) == b'HTTP/1.0 200'\n"
    )
    result = ini.runpytest(f"--base-url={local.url}")
    result.assert_outcomes(passed=1)
    assert local.writes == [("POST", "/api/w")]


def test_override_lets_a_mutating_test_write_on_the_wire(
    ini: pytest.Pytester, prod: StandIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("E2E_ALLOW_PROD_SCORE", "1")
    ini.makepyfile(
        f"import pytest, socket\n@pytest.mark.mutating\ndef test_writes():\n"
        f"    s = socket.create_connection(('127.0.0.2', {prod.port}))\n"
        "    s.sendall(b'POST /api/w HTTP/1.1\\r\\nHost: x\\r\\nContent-Length: 0\\r\\n\\r\\n')\n"
        "    assert s.recv(12) == b'HTTP/1.0 200'\n"
    )
    result = ini.runpytest(f"--base-url={prod.url}")
    result.assert_outcomes(passed=1)
    assert prod.writes == [("POST", "/api/w")]


CHILDREN = {
    "subprocess-python": (
        "import subprocess, sys\n"
        "code = 'import httpx; httpx.post(' + repr(URL) + ')'\n"
        "assert subprocess.run([sys.executable, '-c', code]).returncode != 0"
    ),
    "subprocess-raw-socket": (
        "import subprocess, sys\n"
        "code = ('import socket; s = socket.create_connection(' + repr(HOST) + ');'\n"
        "        ' s.sendall(b\"POST /api/child-raw HTTP/1.1\\\\r\\\\nHost: x\\\\r\\\\n\\\\r\\\\n\")')\n"
        "assert subprocess.run([sys.executable, '-c', code]).returncode != 0"
    ),
    "multiprocessing-spawn": (
        "import multiprocessing, httpx\n"
        "process = multiprocessing.get_context('spawn').Process(target=httpx.post, args=(URL,))\n"
        "process.start(); process.join(60)\n"
        "assert process.exitcode != 0"
    ),
    "multiprocessing-forkserver": (
        "import multiprocessing, httpx\n"
        "process = multiprocessing.get_context('forkserver').Process(target=httpx.post, args=(URL,))\n"
        "process.start(); process.join(60)\n"
        "assert process.exitcode != 0"
    ),
    "multiprocessing-fork": (
        "import multiprocessing, httpx\n"
        "process = multiprocessing.get_context('fork').Process(target=httpx.post, args=(URL,))\n"
        "process.start(); process.join(60)\n"
        "assert process.exitcode != 0"
    ),
}


@pytest.mark.parametrize("call", list(CHILDREN.values()), ids=list(CHILDREN))
def test_python_child_processes_carry_the_guard(ini: pytest.Pytester, prod: StandIn, local: StandIn, call: str) -> None:
    ini.makepyfile(_inner(prod, call))
    result = ini.runpytest_subprocess(f"--base-url={local.url}")
    # The child failed of its block, and the parent test fails of it too, even though the
    # child's own error stayed in the child.
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*network guard blocked POST http://127.0.0.2:*[[]in a child process]*"])
    assert prod.writes == []


def test_a_mutating_tests_child_may_write_with_the_override(
    ini: pytest.Pytester, prod: StandIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("E2E_ALLOW_PROD_SCORE", "1")
    ini.makepyfile(
        "import pytest, subprocess, sys\n@pytest.mark.mutating\ndef test_writes(base_url):\n"
        "    code = 'import httpx; httpx.post(' + repr(base_url + 'api/child') + ').raise_for_status()'\n"
        "    assert subprocess.run([sys.executable, '-c', code]).returncode == 0\n"
    )
    result = ini.runpytest_subprocess(f"--base-url={prod.url}")
    result.assert_outcomes(passed=1)
    assert prod.writes == [("POST", "/api/child")]


@pytest.mark.parametrize(
    ("args", "kwargs", "expected"),
    [
        (["curl", "-X", "POST", "https://evenslouis.ca"], {}, "curl"),
        ("/usr/bin/wget https://x", {"shell": True}, "wget"),
        (["ignored"], {"executable": "/usr/bin/curl"}, "curl"),
        ([sys.executable, "-c", "pass"], {}, None),
        (["python3.11", "-c", "pass"], {}, None),
        ("python -c pass", {"shell": True}, None),
    ],
)
def test_programs_out_of_reach_are_told_from_python(
    args: object, kwargs: dict[str, object], expected: str | None
) -> None:
    assert program_out_of_reach(args, kwargs.get("executable"), bool(kwargs.get("shell"))) == expected


def test_summary_names_a_non_python_program_started_against_prod(ini: pytest.Pytester, prod: StandIn) -> None:
    # /bin/true stands in for curl: whatever it would send, the guard cannot see it.
    ini.makepyfile("import subprocess\n\ndef test_shells_out():\n    subprocess.run(['/bin/true'], check=True)\n")
    result = ini.runpytest(f"--base-url={prod.url}")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(
        [
            "1 program(s) that are not Python were started by tests against this production target*",
            "  test_summary_names_a_non_python_program_started_against_prod.py::test_shells_out started true",
        ]
    )


def test_a_non_python_program_against_a_local_target_is_not_mentioned(ini: pytest.Pytester, local: StandIn) -> None:
    ini.makepyfile("import subprocess\n\ndef test_shells_out():\n    subprocess.run(['/bin/true'], check=True)\n")
    result = ini.runpytest(f"--base-url={local.url}")
    result.assert_outcomes(passed=1)
    assert "not Python" not in result.stdout.str()


def test_a_target_that_says_production_is_production_at_the_wire(ini: pytest.Pytester, local: StandIn) -> None:
    # A tunnel on loopback: only its /api/health tells; a raw write to that origin is then stopped.
    local.environment = "production"
    ini.makepyfile(
        f"import socket\ndef test_raw():\n"
        f"    s = socket.create_connection(('127.0.0.1', {local.port}))\n"
        "    s.sendall(b'POST /api/raw HTTP/1.1\\r\\nHost: x\\r\\nContent-Length: 0\\r\\n\\r\\n')\n"
    )
    result = ini.runpytest(f"--base-url={local.url}")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*network guard blocked POST http://127.0.0.1:*on the wire*a production name*"])
    assert local.writes == []
