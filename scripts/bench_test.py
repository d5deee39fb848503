"""Benchmark `scripts/test`: its wall time, each step's share, and the machine's load meanwhile.

Run: .tools/bin/uv run python scripts/bench_test.py [script]   (default: scripts/test; prints figures,
asserts nothing). It runs the script once, end to end, so it takes as long as CI does: the
script's full output goes to artifacts/bench-test.log, and the figures are read from its
`==> step (at N s)` lines. The load average is printed before and after, since on a shared
machine it says as much about the figure as the code does.

Goal (issue 15): `scripts/test` under 4 minutes on 2 cores.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
STEP = re.compile(r"^==> (?P<name>.*) \(at (?P<at>\d+) s\)$")
DURATION = re.compile(r", in (?P<seconds>\d+) s")
LOG = ROOT / "artifacts" / "bench-test.log"
GOAL_SECONDS = 240
# A bound, so that a hung step cannot keep the benchmark running for ever.
TIMEOUT_SECONDS = 30 * 60


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} {five:.2f} {fifteen:.2f} (1/5/15 min, {os.cpu_count()} cores)"


def main() -> int:
    script = sys.argv[1] if len(sys.argv) > 1 else "scripts/test"
    if not (ROOT / script).is_file():
        print(
            f"bench_test: {script} is not a file under {ROOT}; pass the path of a script like scripts/test.",
            file=sys.stderr,
        )
        return 2
    LOG.parent.mkdir(parents=True, exist_ok=True)
    print(f"load average before: {load()}")
    started = time.monotonic()
    steps: list[tuple[str, int]] = []
    with LOG.open("w") as log:
        process = subprocess.Popen(
            ["bash", script], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        assert process.stdout is not None
        for line in process.stdout:
            log.write(line)
            log.flush()
            if time.monotonic() - started > TIMEOUT_SECONDS:
                process.kill()
                break
            if match := STEP.match(line.rstrip("\n")):
                steps.append((match["name"], int(match["at"])))
        code = process.wait()
    wall = time.monotonic() - started
    print(f"load average after:  {load()}")
    print(f"{script}: exit {code}, {wall:.0f} s wall (output in {LOG.relative_to(ROOT)})")
    verdict = "MET" if code == 0 and wall < GOAL_SECONDS else "MISSED"
    print(f"goal: a passing run under {GOAL_SECONDS} s on 2 cores: {verdict} (read it with the load average)")
    # A step of the sequential script lasts until the next one starts; the concurrent one says
    # "passed: NAME, in N s" (or FAILED) when each of its steps ends.
    print("| step line | at (s) | until the next line (s) | step's own time (s) |")
    print("|---|---:|---:|---:|")
    for (name, at), following in zip(steps, [*steps[1:], ("end", round(wall))], strict=True):
        own = DURATION.search(name)
        print(f"| {name} | {at} | {following[1] - at} | {own['seconds'] if own else ''} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
