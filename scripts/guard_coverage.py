"""Guard coverage: the whole suite against the reference app posing as production.

The team's checklist says "the mutation guard covers all mutating specs". This
proves it: the reference app listens on 127.0.0.2, listed as production, and the
whole suite (contracts, fuzzing, browser specs) runs against it twice.

1. Without the override: every test marked `mutating` must be skipped by the
   guard, no test may be failed by the network guard (that would be a missing
   marker), nothing may fail at all, and the app's own access log must show zero
   state-changing requests.
2. With E2E_ALLOW_PROD_SCORE=1 against a fresh app: the suite must pass.
3. The app on 127.0.0.1, listed nowhere, started with REFAPP_ENVIRONMENT=production (a
   tunnel to production looks like this): its /api/health alone must make it production,
   with the same result as 1, and the summary must say the environment rule decided.
4. The routes the suite itself never takes, each sent to a counting stand-in for
   production that must receive nothing: unload beacons, shared workers, unroute_all
   (real Chromium), raw sockets, asyncio streams, TLS objects, HTTP/2 cleartext,
   Python child processes, and blocks after the tests or at exit (ROUTES).

Run: .tools/bin/uv run python scripts/guard_coverage.py [extra pytest args]
(`--routes` alone prints the test files of 4, one per line, and runs nothing.)
Exits non-zero, saying why, when any of that does not hold.
"""

from __future__ import annotations

import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from safety.embedded import EmbeddedApp  # noqa: E402
from safety.probes import Probe  # noqa: E402
from safety.summary import GUARD_SKIPPED, MUTATING, TAG  # noqa: E402

PROD_HOST = "127.0.0.2"
SUITE = ["contracts", "specs"]
READ_ONLY = {"GET", "HEAD", "OPTIONS"}
# The smoke suite's declared unauthenticated probes (contracts/test_auth.py).
PROBES = (Probe("POST", "/api/next-actions/*/execute"),)
ARTIFACTS = ROOT / "artifacts" / "guard-coverage"
# The regression tests of every route outside the suite's own clients (issue 13).
ROUTES = [
    "tests/safety/test_wire_guard.py",
    "tests/safety/test_after_session.py",
    "tests/safety/test_browser_guard.py",
    "tests/safety/test_environment.py",
]


@dataclass
class Outcome:
    total: int = 0
    failed: list[str] = field(default_factory=list)
    mutating: list[str] = field(default_factory=list)
    guard_skipped: list[str] = field(default_factory=list)
    passed_mutating: list[str] = field(default_factory=list)


def read_junit(path: Path) -> Outcome:
    outcome = Outcome()
    # Our own pytest run wrote this file a moment ago: trusted input.
    for case in ET.parse(path).getroot().iter("testcase"):  # noqa: S314
        name = f"{case.get('classname')}::{case.get('name')}"
        outcome.total += 1
        tags = {p.get("value") for p in case.iter("property") if p.get("name") == TAG}
        if case.find("failure") is not None or case.find("error") is not None:
            outcome.failed.append(name)
        if MUTATING in tags:
            outcome.mutating.append(name)
            if GUARD_SKIPPED in tags:
                outcome.guard_skipped.append(name)
            elif case.find("skipped") is None:
                outcome.passed_mutating.append(name)
    return outcome


def run_suite(
    label: str, allow: bool, extra: list[str], says_production: bool = False
) -> tuple[int, Outcome, list[str], str]:
    if says_production:
        app = EmbeddedApp(host="127.0.0.1", extra_env={"REFAPP_ENVIRONMENT": "production"})
    else:
        app = EmbeddedApp(host=PROD_HOST)
    app.start()
    try:
        env = {k: v for k, v in os.environ.items() if k not in ("E2E_ALLOW_PROD_SCORE", "E2E_BASE_URL")}
        if not says_production:
            env["E2E_PROD_HOSTS"] = ",".join(filter(None, [env.get("E2E_PROD_HOSTS", ""), PROD_HOST]))
        env["E2E_CRON_SECRET"] = app.cron_secret
        if allow:
            env["E2E_ALLOW_PROD_SCORE"] = "1"
        junit = ARTIFACTS / f"{label}.xml"
        command = [
            sys.executable, "-m", "pytest", *SUITE, f"--base-url={app.url}",
            f"--junitxml={junit}", "-o", "junit_family=xunit1", "-p", "xdist", "-n", "2", "-q", *extra,
        ]  # fmt: skip
        print(f"==> guard coverage ({label}): {' '.join(command[3:])}", flush=True)
        completed = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
        (ARTIFACTS / f"{label}.log").write_text(completed.stdout + completed.stderr)
        writes = [line for line in app.access_log.read_text().splitlines() if line.split(" ", 1)[0] not in READ_ONLY]
        tail = "\n".join(completed.stdout.splitlines()[-25:])
        return completed.returncode, read_junit(junit), writes, tail
    finally:
        app.stop()


def split_probes(writes: list[str]) -> tuple[list[str], list[str]]:
    """(state-changing, probes): a probe is a write the app turned away at its auth wall (401)
    on a path some smoke test declares as an unauthenticated probe (safety/probes.py)."""
    probes = [
        w
        for w in writes
        if w.rsplit(" ", 1)[-1] == "401" and any(p.allows(w.split(" ")[0], w.split(" ")[1], ()) for p in PROBES)
    ]
    return [w for w in writes if w not in probes], probes


def held_back(label: str, extra: list[str], says_production: bool = False) -> list[str]:
    """Run the suite without the override; the problems found (none: every write was held back)."""
    problems: list[str] = []
    code, outcome, all_writes, tail = run_suite(label, allow=False, extra=extra, says_production=says_production)
    writes, probes = split_probes(all_writes)
    print(tail)
    unguarded = sorted(set(outcome.mutating) - set(outcome.guard_skipped))
    print(
        f"{label}: {outcome.total} tests, {len(outcome.mutating)} mutating, "
        f"{len(outcome.guard_skipped)} skipped by the guard, {len(outcome.failed)} failed or errored, "
        f"{len(writes)} state-changing requests received by the app "
        f"(besides {len(probes)} unauthenticated smoke probe(s) it answered 401)"
    )
    if not outcome.mutating:
        problems.append("no mutating test was collected: the run proves nothing.")
    if unguarded:
        problems.append("mutating tests not skipped by the guard:\n  " + "\n  ".join(unguarded))
    if outcome.failed:
        problems.append(
            "tests failed against the production stand-in (a network-guard failure means a missing "
            "@pytest.mark.mutating):\n  " + "\n  ".join(outcome.failed)
        )
    if writes:
        problems.append("the app received state-changing requests:\n  " + "\n  ".join(writes[:20]))
    # With -q there is no header: the end summary names the rule as well.
    if says_production and "[classified by the environment rule]" not in (ARTIFACTS / f"{label}.log").read_text():
        problems.append("the end summary does not say that the environment rule classified the target.")
    if code not in (0,):
        problems.append(f"pytest exited with {code} ({label}; log: {ARTIFACTS / (label + '.log')}).")
    return [f"{label}: {p}" for p in problems]


def main() -> int:
    if sys.argv[1:] == ["--routes"]:  # for scripts/test, which leaves these files to this script
        print("\n".join(ROUTES))
        return 0
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    extra = sys.argv[1:]
    problems = held_back("without-override", extra)

    code, outcome, writes, tail = run_suite("with-override", allow=True, extra=extra)
    print(tail)
    print(
        f"with E2E_ALLOW_PROD_SCORE=1: {outcome.total} tests, {len(outcome.passed_mutating)} mutating tests ran, "
        f"{len(outcome.failed)} failed or errored, {len(writes)} state-changing requests received"
    )
    if code != 0:
        problems.append(
            f"with E2E_ALLOW_PROD_SCORE=1 the suite did not pass (exit {code}; log: {ARTIFACTS / 'with-override.log'})."
        )
    if not outcome.passed_mutating:
        problems.append("with the override no mutating test ran: the override had no effect.")

    # A loopback app that says it is production: the environment rule alone must hold it back.
    problems += held_back("says-production", extra, says_production=True)

    command = [sys.executable, "-m", "pytest", *ROUTES, "-p", "xdist", "-n", "2", "-q"]
    print(f"==> guard coverage (routes): {' '.join(command[3:])}", flush=True)
    routes = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    (ARTIFACTS / "routes.log").write_text(routes.stdout + routes.stderr)
    print("\n".join(routes.stdout.splitlines()[-3:]))
    if routes.returncode != 0:
        problems.append(
            f"routes: a route reached the production stand-in or was not stopped (log: {ARTIFACTS / 'routes.log'})."
        )

    if problems:
        print("\nguard coverage FAILED:\n- " + "\n- ".join(problems))
        return 1
    print("\nguard coverage OK: every mutating test was held back, and nothing reached the production stand-in.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
