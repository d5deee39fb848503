from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from refapp import __main__ as cli
from refapp.actions import FIXTURE_SECRET
from refapp.broken import FAULTS
from refapp.config import BROKEN_BUILDS, ConfigError, Settings

from .conftest import AppFactory, World

README = Path(__file__).resolve().parents[2] / "refapp" / "README.md"


def test_every_broken_build_is_well_formed() -> None:
    assert set(BROKEN_BUILDS) == set(FAULTS)
    for name, fault in FAULTS.items():
        assert fault.section in {str(n) for n in range(1, 10)}, f"{name}: section {fault.section!r}"
        assert fault.breaks and fault.owners, f"{name}: says what it breaks and who owns the rule"


def test_the_readme_lists_every_broken_build() -> None:
    text = README.read_text()
    section = text[text.index("## Broken builds") : text.index("## The second reading")]
    listed = set(re.findall(r"^\| `([a-z0-9_]+)` \| [1-9] \|", section, flags=re.MULTILINE))
    assert listed == set(FAULTS), (
        f"refapp/README.md's broken-build table must list every build of refapp/faults/: "
        f"missing {sorted(set(FAULTS) - listed)}, unknown {sorted(listed - set(FAULTS))}"
    )


CATALOGUE = Path(__file__).resolve().parents[2] / "contracts" / "README.md"
ROOT = Path(__file__).resolve().parents[2]


def _test_functions(path: str) -> set[str]:
    source = (ROOT / path).read_text()
    return set(re.findall(r"^(?:async )?def (test_\w+)", source, flags=re.MULTILINE))


def test_every_owner_names_a_test_that_exists() -> None:
    for name, fault in FAULTS.items():
        for owner in fault.owners:
            path, _, function = owner.partition("::")
            function = function.split("[", 1)[0]
            assert (ROOT / path).is_file() and function in _test_functions(path), (
                f"broken build {name!r}: its owner {owner!r} names no test function"
            )


def test_every_broken_build_is_in_the_must_catalogue() -> None:
    catalogue = CATALOGUE.read_text()
    missing = [name for name in FAULTS if f"`{name}`" not in catalogue]
    assert not missing, f"contracts/README.md's MUST catalogue must name every broken build; missing {missing}"


def test_broken_build_needs_the_allow_switch() -> None:
    with pytest.raises(ConfigError, match="REFAPP_ALLOW_BROKEN=1"):
        Settings.from_env({"REFAPP_BROKEN": "leak_secret"})
    settings = Settings.from_env({"REFAPP_BROKEN": "leak_secret", "REFAPP_ALLOW_BROKEN": "1"})
    assert settings.broken == "leak_secret"
    assert Settings.from_env({}).broken is None


def test_unknown_broken_name_lists_the_valid_ones() -> None:
    with pytest.raises(ConfigError) as caught:
        Settings.from_env({"REFAPP_BROKEN": "nope", "REFAPP_ALLOW_BROKEN": "1"})
    for name in FAULTS:
        assert name in str(caught.value)


def test_cli_refuses_to_start(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("REFAPP_BROKEN", "no_retry_after")
    monkeypatch.delenv("REFAPP_ALLOW_BROKEN", raising=False)
    assert cli.main(["serve", "--port", "0"]) == 2
    assert "refusing to start" in capsys.readouterr().err
    monkeypatch.setenv("REFAPP_BROKEN", "bogus")
    assert cli.main(["serve", "--port", "0"]) == 2
    assert "valid names" in capsys.readouterr().err


def _broken(make_client: AppFactory, name: str) -> TestClient:
    return make_client(broken=name)


def test_no_retry_after(make_client: AppFactory) -> None:
    world = World(_broken(make_client, "no_retry_after"))
    for _ in range(20):
        world.execute(world.nba_ids[0], "recompute_score")
    limited = world.execute(world.nba_ids[0], "recompute_score")
    assert limited.status_code == 429
    assert "retry-after" not in limited.headers


def test_validate_before_auth(make_client: AppFactory) -> None:
    client = _broken(make_client, "validate_before_auth")
    world = World(client)
    response = client.post(f"/api/next-actions/{world.nba_ids[0]}/execute", content=b"[]")
    assert response.status_code == 400


def test_list_snoozed(make_client: AppFactory) -> None:
    world = World(_broken(make_client, "list_snoozed"))
    world.execute(world.nba_ids[0], "snooze_1d")
    ids = {item["id"] for item in world.get("/api/next-actions").json()["items"]}
    assert world.nba_ids[0] in ids


def test_leak_secret(make_client: AppFactory) -> None:
    world = World(_broken(make_client, "leak_secret"), failingActions=["mark_done"])
    response = world.execute(world.nba_ids[0], "mark_done")
    assert response.status_code == 500
    assert FIXTURE_SECRET not in response.text
    item = world.get(f"/api/next-actions/{world.nba_ids[0]}").json()
    assert FIXTURE_SECRET in item["lastExecutionErrorMessage"]
    executions = world.get(f"/api/next-actions/{world.nba_ids[0]}/executions").json()
    assert FIXTURE_SECRET in json.dumps(executions)


def test_replay_executes(make_client: AppFactory) -> None:
    world = World(_broken(make_client, "replay_executes"))
    nba = world.nba_ids[0]
    for _ in range(2):
        world.execute(nba, "recompute_score", **{"Idempotency-Key": "k"})
    assert len(world.get(f"/api/next-actions/{nba}/executions").json()["items"]) == 2


def test_other_user_403(make_client: AppFactory) -> None:
    client = _broken(make_client, "other_user_403")
    alice, bob = World(client), World(client)
    assert alice.get(f"/api/next-actions/{bob.nba_ids[0]}").status_code == 403


def test_xff_budget(make_client: AppFactory) -> None:
    world = World(_broken(make_client, "xff_budget"))
    for i in range(25):
        response = world.execute(world.nba_ids[0], "recompute_score", **{"X-Forwarded-For": f"10.0.0.{i}"})
        assert response.status_code == 200


def test_bad_body_500(make_client: AppFactory) -> None:
    world = World(_broken(make_client, "bad_body_500"))
    response = world.client.post(f"/api/next-actions/{world.nba_ids[0]}/execute", content=b"[]", headers=world.headers)
    assert response.status_code == 500
    assert response.json()["error"]["code"] == "internal_error"


def test_long_idempotency_key_500(make_client: AppFactory) -> None:
    world = World(_broken(make_client, "long_idempotency_key_500"))
    assert world.execute(world.nba_ids[0], "recompute_score", **{"Idempotency-Key": "a" * 200}).status_code == 200
    response = world.execute(world.nba_ids[0], "recompute_score", **{"Idempotency-Key": "b" * 201})
    assert response.status_code == 500
    assert response.json()["error"]["code"] == "internal_error"


def test_health_names_the_broken_build(make_client: AppFactory) -> None:
    client = _broken(make_client, "list_snoozed")
    assert client.get("/api/health").json()["broken"] == "list_snoozed"


def test_the_catalogue_counts_match_the_faults() -> None:
    counts = Counter(fault.section for fault in FAULTS.values())
    proofs = Counter(fault.proof for fault in FAULTS.values())
    by_section = ", ".join(f"§{section} {counts[section]}" for section in sorted(counts))
    expected = f"In numbers: {len(FAULTS)} faults; by section {by_section};"
    text = " ".join(CATALOGUE.read_text().split())
    assert expected in text, f"contracts/README.md must say {expected!r}"
    expected_proofs = (
        f"{proofs['contract']} caught by fast contract tests, {proofs['spec']} by browser specs, "
        f"{proofs['slow']} by slow tests, {proofs['fuzz']} by the fuzzer"
    )
    assert expected_proofs in text, f"contracts/README.md must say {expected_proofs!r}"
