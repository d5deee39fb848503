"""The fuzz budget and seed: Hypothesis profiles plus E2E_FUZZ_EXAMPLES / E2E_FUZZ_SEED.

Budget (examples per operation and generation mode), highest precedence first:

1. `E2E_FUZZ_EXAMPLES=N` (a positive integer; anything else is a usage error naming it);
2. the loaded Hypothesis profile: `ci` (`--hypothesis-profile ci`, or loaded by Hypothesis
   itself when it detects CI) gives CI_EXAMPLES; another profile of your own gives its
   `max_examples`;
3. otherwise the fast developer default, DEFAULT_EXAMPLES.

Against the shared E2E_EMAIL account (no fixtures endpoint), the fuzzer sends at most
`E2E_FUZZ_SHARED_EXECUTES` (default 2) execute requests in the whole run (every pytest-xdist
worker counted); the generated cases beyond that are counted, not sent.

Seed: `E2E_FUZZ_SEED=N` fixes it (a non-negative integer) so a run can be reproduced; without
it a seed is chosen per run (shared by pytest-xdist workers) and printed in the summary.
"""

from __future__ import annotations

import hashlib
import os
import random
from dataclasses import dataclass

import hypothesis
import pytest

EXAMPLES_ENV = "E2E_FUZZ_EXAMPLES"
SEED_ENV = "E2E_FUZZ_SEED"
SHARED_EXECUTES_ENV = "E2E_FUZZ_SHARED_EXECUTES"
#: Execute requests the fuzzer sends as the shared E2E_EMAIL account (one rate-limit budget for
#: the whole run, paced with the rest of the run): a staging run spends seconds fuzzing, not minutes.
DEFAULT_SHARED_EXECUTES = 2

DEFAULT_EXAMPLES = 50
CI_EXAMPLES = 150
DEFAULT_STATEFUL_STEPS = 6
CI_STATEFUL_STEPS = 12
#: Hypothesis's own default when no profile says otherwise; read as "no explicit budget".
_HYPOTHESIS_DEFAULT_EXAMPLES = 100


def _register_profiles() -> None:
    """Make `ci` deeper: Hypothesis's own `ci` profile plus our budget.

    Hypothesis loads its profile before test modules import, so a re-registered profile
    that is already the current one is loaded again to take effect.
    """
    ci = hypothesis.settings.get_profile("ci")
    hypothesis.settings.register_profile("ci", ci, max_examples=CI_EXAMPLES)
    if hypothesis.settings.get_current_profile_name() == "ci":
        hypothesis.settings.load_profile("ci")


_register_profiles()


@dataclass(frozen=True)
class Budget:
    examples: int
    stateful_steps: int
    source: str
    profile: str


def _positive_int(name: str, raw: str, *, allow_zero: bool = False) -> int:
    text = raw.strip()
    lowest = 0 if allow_zero else 1
    if not text.isdigit() or int(text) < lowest:
        kind = "a non-negative integer" if allow_zero else "a positive integer"
        raise pytest.UsageError(f"{name}={raw!r}: must be {kind} (e.g. {name}=200)")
    return int(text)


def budget(env: dict[str, str] | None = None) -> Budget:
    env = dict(os.environ) if env is None else env
    profile = hypothesis.settings.get_current_profile_name()
    raw = env.get(EXAMPLES_ENV)
    steps = CI_STATEFUL_STEPS if profile == "ci" else DEFAULT_STATEFUL_STEPS
    if raw is not None and raw.strip() != "":
        examples = _positive_int(EXAMPLES_ENV, raw)
        return Budget(examples, max(steps, min(50, examples // 10)), EXAMPLES_ENV, profile)
    if profile == "ci":
        return Budget(CI_EXAMPLES, steps, "hypothesis profile 'ci'", profile)
    default = hypothesis.settings.default
    loaded = default.max_examples if default is not None else _HYPOTHESIS_DEFAULT_EXAMPLES
    if profile != "default" and loaded != _HYPOTHESIS_DEFAULT_EXAMPLES:
        return Budget(loaded, steps, f"hypothesis profile {profile!r}", profile)
    return Budget(DEFAULT_EXAMPLES, steps, "developer default", profile)


def seed(env: dict[str, str] | None = None) -> tuple[int, bool]:
    """(seed, explicit): E2E_FUZZ_SEED, else one per run, the same in every xdist worker."""
    env = dict(os.environ) if env is None else env
    raw = env.get(SEED_ENV)
    if raw is not None and raw.strip() != "":
        return _positive_int(SEED_ENV, raw, allow_zero=True), True
    run_id = env.get("PYTEST_XDIST_TESTRUNUID")
    if run_id:
        return int.from_bytes(hashlib.sha256(run_id.encode()).digest()[:4], "big"), False
    return random.SystemRandom().randrange(2**32), False


def shared_executes(env: dict[str, str] | None = None) -> int:
    """E2E_FUZZ_SHARED_EXECUTES (a non-negative integer), else DEFAULT_SHARED_EXECUTES."""
    env = dict(os.environ) if env is None else env
    raw = env.get(SHARED_EXECUTES_ENV)
    if raw is None or raw.strip() == "":
        return DEFAULT_SHARED_EXECUTES
    return _positive_int(SHARED_EXECUTES_ENV, raw, allow_zero=True)
