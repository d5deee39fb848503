"""The guard decision crosses to xdist workers as JSON and comes back typed."""

from __future__ import annotations

import json

import pytest

from safety.decision import decide
from safety.hosts import HostPolicy, TargetClass
from safety.redirects import RedirectProbe
from safety.target import TargetChoice

PROD = HostPolicy(prod_hosts=[("127.0.0.2", "E2E_PROD_HOSTS")])


def test_a_skip_decision_survives_the_trip_to_a_worker() -> None:
    decision = decide(TargetChoice("http://127.0.0.2:9/", "--base-url"), "http://127.0.0.2:9/", PROD, False, None)
    assert decision.outcome == "skip" and decision.target_class is TargetClass.PROD
    back = type(decision).from_json(decision.to_json())
    assert back == decision
    assert back.target_class is TargetClass.PROD, "the class comes back as the enum, not a bare string"


def test_an_allowed_override_keeps_its_writable_hosts() -> None:
    probe = RedirectProbe(hops=(("http://127.0.0.2:9/", PROD.classify_url("http://127.0.0.2:9/")),), error=None)
    decision = decide(TargetChoice("http://127.0.0.2:9/", "--base-url"), "http://127.0.0.2:9/", PROD, True, probe)
    assert (decision.outcome, decision.writable_prod_hosts) == ("allow", ("127.0.0.2",))
    assert decision.prod_override_active
    assert type(decision).from_json(decision.to_json()) == decision


def test_an_unknown_outcome_is_refused() -> None:
    decision = decide(TargetChoice("http://127.0.0.1:9/", "--base-url"), "http://127.0.0.1:9/", PROD, False, None)
    data = json.loads(decision.to_json())
    data["outcome"] = "maybe"
    with pytest.raises(ValueError, match="maybe"):
        type(decision).from_json(json.dumps(data))
