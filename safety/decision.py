"""Whether mutating tests may run against the target: made once, shared by every xdist worker."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Literal

from safety.environment import EnvironmentReading
from safety.hosts import HostPolicy, TargetClass, Verdict, origin_port
from safety.override import OVERRIDE_ENV
from safety.redirects import RedirectProbe
from safety.target import TargetChoice

#: What a decision means for tests marked `mutating`: they run, are skipped, or error.
Outcome = Literal["allow", "skip", "error"]


@dataclass(frozen=True, slots=True)
class GuardDecision:
    """The verdict on the target and what it means for tests marked `mutating`.

    `reason` is the sentence shown to the user for a skip or an error, and the why of the
    header otherwise.
    """

    target: str
    source: str
    host: str
    target_class: TargetClass
    why: str
    outcome: Outcome
    reason: str
    override: bool
    # Production hosts that tests allowed to mutate may write to: the target and its redirect chain.
    writable_prod_hosts: tuple[str, ...] = ()
    # Which rule classified the target (header and summary), and what its health route said.
    rule: str = "host"
    environment: str = ""
    # Origins (host, port) that are production though their host is not: the target when
    # its health route says so. The network guard treats writes to them as writes to production.
    prod_origins: tuple[tuple[str, int], ...] = ()

    @property
    def allowed(self) -> bool:
        return self.outcome == "allow"

    @property
    def prod_override_active(self) -> bool:
        return self.allowed and self.target_class == TargetClass.PROD

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> GuardDecision:
        data = json.loads(text)
        data["writable_prod_hosts"] = tuple(data["writable_prod_hosts"])
        data["target_class"] = TargetClass(data["target_class"])
        if data["outcome"] not in ("allow", "skip", "error"):
            raise ValueError(f"not a guard decision outcome: {data['outcome']!r}")
        data["prod_origins"] = tuple((str(h), int(p)) for h, p in data.get("prod_origins", ()))
        return cls(**data)


def decide(
    choice: TargetChoice,
    target_url: str,
    policy: HostPolicy,
    override: bool,
    probe: RedirectProbe | None,
    environment: EnvironmentReading | None = None,
    prod_environments: frozenset[str] = frozenset({"production"}),
) -> GuardDecision:
    """Combine the target's own verdict, its redirect chain, what it says it is and the override."""
    verdict = policy.classify_url(target_url)
    shown = choice.source if not choice.embedded else "embedded reference app on loopback"
    hops = probe.hops if probe is not None else ((target_url, verdict),)
    worst: tuple[str, Verdict] | None = next(((u, v) for u, v in hops if v.is_prod), None)
    why = verdict.reason
    rule = f"host ({verdict.rule})"
    origins: tuple[tuple[str, int], ...] = ()
    if worst is not None and not verdict.is_prod:
        why = f"{target_url} redirects to {worst[0]}: {worst[1].reason}"
        rule = f"redirect ({worst[1].rule})"
    elif worst is None and environment is not None and environment.is_prod(prod_environments):
        # The deployment says it is production (contract section 3): its host cannot overrule that.
        why = (
            f"{environment.describe(prod_environments)}: the deployment is production whatever its host "
            f"({verdict.reason})"
        )
        rule = "environment"
        worst = (target_url, Verdict(verdict.host, TargetClass.PROD, why, "environment"))
        hops = (*hops, worst)
        port = origin_port(target_url)
        origins = tuple((address, port) for address in policy.addresses_of(verdict.host))
    target_class = TargetClass.PROD if worst is not None else verdict.target_class

    def made(outcome: Outcome, reason: str, writable: tuple[str, ...] = ()) -> GuardDecision:
        return GuardDecision(
            target=target_url,
            source=shown,
            host=verdict.host,
            target_class=target_class,
            why=why,
            outcome=outcome,
            reason=reason,
            override=override,
            writable_prod_hosts=writable,
            rule=rule,
            environment=environment.describe(prod_environments) if environment is not None else "",
            prod_origins=origins,
        )

    if worst is not None and not override:
        reason = (
            f"mutating test skipped: the target {verdict.host} ({target_url}) is production: {why} "
            f"To run mutating tests there on purpose, set {OVERRIDE_ENV}=1."
        )
        return made("skip", reason)
    if probe is not None and probe.error is not None:
        reason = (
            f"the target {target_url} could not be checked, so mutating tests cannot be shown "
            f"to be safe: {probe.error} Start the app or fix --base-url / E2E_BASE_URL."
        )
        return made("error", reason)
    writable = tuple(sorted({v.host for _, v in hops if v.is_prod})) if override else ()
    return made("allow", why, writable)
