"""One plausible wrong implementation of one MUST sentence of the contract."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

# How a build is proven caught (tests/contracts/test_broken_builds.py and its spec twin):
# "contract" - a non-slow test under contracts/ fails against it;
# "slow"     - only a test marked slow can catch it (it needs a wait of a minute or more);
# "spec"     - a browser spec under specs/ fails against it;
# "fuzz"     - only the fuzzer finds it (a random search: proven by hand, not in CI).
Proof = Literal["contract", "slow", "spec", "fuzz"]


@dataclass(frozen=True)
class Fault:
    section: str  # the contract section, "1".."9"
    breaks: str  # what the build does wrong, one sentence
    owners: tuple[str, ...]  # node ids (or their prefixes) of the tests owning the rule; any one must fail
    proof: Proof = "contract"
