"""REFAPP_READINGS: each point of the other reading is in effect under `other` and not under `default`.

Every point of refapp.readings.READING_POINTS has a probe here: it drives the app and answers
whether the OTHER choice was observed. The parametrized test runs each probe against both
readings, so a point that does nothing (or leaks into the default reading) fails.
These test the reference app's own choices, so they may assert them exactly.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update

from refapp import __main__ as cli
from refapp import idempotency, ratelimit, readings, ui
from refapp.config import ConfigError, Settings
from refapp.db import Database
from refapp.models import Lead, NextAction, RateLimitHit
from safety.embedded import EmbeddedApp, EmbeddedAppError

from .conftest import CRON_SECRET, AppFactory, World

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Probe:
    client: TestClient
    monkeypatch: pytest.MonkeyPatch

    @property
    def database(self) -> Database:
        db: Database = self.client.app.state.database  # type: ignore[attr-defined]
        return db

    def world(self, **body: Any) -> World:
        return World(self.client, **body)

    def page(self, world: World, path: str) -> str:
        response = self.client.get(path, headers={"Cookie": f"session={world.token}"}, follow_redirects=False)
        assert response.status_code == 200, response.text
        return response.text

    def cron(self) -> dict[str, Any]:
        response = self.client.post("/api/cron/background-jobs", headers={"Authorization": f"Bearer {CRON_SECRET}"})
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body


def _ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def _lead(probe: Probe, world: World) -> dict[str, Any]:
    return dict(_ok(world.get(f"/api/leads/{world.lead_id}")))


def _executed_time(probe: Probe) -> str:
    world = probe.world()
    _ok(world.execute(world.nba_ids[0], "recompute_score"))
    value = _lead(probe, world)["scoreUpdatedAt"]
    assert isinstance(value, str)
    return value


def _login(probe: Probe, world: World, email: str | None = None) -> Any:
    user = world.data["user"]
    body = {"email": email or user["email"], "password": user["password"]}
    response = probe.client.post("/api/auth/login", json=body)
    probe.client.cookies.clear()  # requests authenticate with their bearer token only
    return response


def _set_score(probe: Probe, world: World, score: int) -> None:
    with probe.database.write() as session:
        session.execute(update(Lead).where(Lead.id == world.lead_id).values(score=score))


def _limited(probe: Probe) -> tuple[Any, int]:
    """20 requests, 30 s later a 21st: its answer, and how many hits the bucket then holds."""
    clock = [10_000.0]
    probe.monkeypatch.setattr(ratelimit, "epoch", lambda: clock[0])
    world = probe.world()
    for _ in range(ratelimit.LIMIT):
        _ok(world.execute(world.nba_ids[0], "recompute_score"))
    clock[0] += 30.0
    response = world.execute(world.nba_ids[0], "recompute_score")
    assert response.status_code == 429, response.text
    with probe.database.read() as session:
        hits = session.execute(select(func.count()).select_from(RateLimitHit)).scalar_one()
    return response, int(hits)


def _in_flight_wait(probe: Probe) -> float:
    """The wait the execute route allows for a key still in flight (the call is spied on)."""
    waits: list[float] = []
    real_claim = idempotency.claim
    probe.monkeypatch.setattr(idempotency, "WAIT_SECONDS", 0.2)

    def spy(*args: Any, wait_seconds: float = idempotency.WAIT_SECONDS, **kwargs: Any) -> Any:
        waits.append(wait_seconds)
        return real_claim(*args, wait_seconds=wait_seconds, **kwargs)

    probe.monkeypatch.setattr(idempotency, "claim", spy)
    world = probe.world()
    # The key is claimed (in flight) and never completed, as if its first request still ran.
    real_claim(probe.database, _user_id(probe, world), "k-in-flight", world.nba_ids[0], "mark_done")
    response = world.execute(world.nba_ids[0], "mark_done", **{"Idempotency-Key": "k-in-flight"})
    assert response.status_code == 409, response.text
    assert response.json()["error"]["code"] == "idempotency_key_in_flight"
    return waits[-1]


def _user_id(probe: Probe, world: World) -> str:
    with probe.database.read() as session:
        return str(session.get_one(NextAction, world.nba_ids[0]).user_id)


def _queued_order(probe: Probe) -> bool:
    world = probe.world(nextActions=3)
    listed = [item["id"] for item in _ok(world.get("/api/next-actions"))["items"]]
    with probe.database.read() as session:
        rows = session.execute(
            select(NextAction.id).where(NextAction.id.in_(world.nba_ids)).order_by(NextAction.created_at, NextAction.id)
        ).scalars()
        oldest_first = list(rows)
    assert sorted(listed) == sorted(oldest_first)
    return listed == oldest_first[::-1]


def _failing_inherited(probe: Probe) -> bool:
    world = probe.world(nextActions=1, failingActions=["recompute_score"])
    _ok(world.execute(world.nba_ids[0], "snooze_1d"))
    _ok(world.execute(world.nba_ids[0], "run_next_actions"))
    new = [item["id"] for item in _ok(world.get("/api/next-actions"))["items"]]
    assert new and world.nba_ids[0] not in new
    return bool(world.execute(new[0], "recompute_score").status_code == 500)


def _risk_flags_reversed(probe: Probe) -> bool:
    world = probe.world()
    _set_score(probe, world, 10)
    _ok(world.execute(world.nba_ids[0], "run_risk_rules"))
    codes = [flag["code"] for flag in _lead(probe, world)["riskFlags"]]
    assert sorted(codes) == ["low_score", "no_recent_contact"]
    return codes == ["no_recent_contact", "low_score"]


def _recompute_keeps_score(probe: Probe) -> bool:
    world = probe.world()
    _set_score(probe, world, 10)
    scores = []
    for _ in range(5):  # five random draws all landing on 10: about 1 in 10^10
        _ok(world.execute(world.nba_ids[0], "recompute_score"))
        scores.append(_lead(probe, world)["score"])
    return scores == [10] * 5


def _snooze_to_the_minute(probe: Probe) -> bool:
    world = probe.world()
    _ok(world.execute(world.nba_ids[0], "snooze_1d"))
    with probe.database.read() as session:
        until = session.get_one(NextAction, world.nba_ids[0]).snoozed_until
    assert until is not None
    return until.second == 0 and until.microsecond == 0


def _events(world: World, **params: str) -> list[dict[str, Any]]:
    return list(_ok(world.get("/api/ops/events", **params))["items"])


def _retry_stub_event(probe: Probe) -> dict[str, Any]:
    world = probe.world()
    _ok(world.execute(world.nba_ids[0], "retry_failed_deliveries"))
    probe.cron()
    (event,) = _events(world, type="nba.delivery.retry_job.stub")
    return event


def _cookie_wins(probe: Probe) -> bool:
    alice, bob = probe.world(), probe.world()
    response = probe.client.get(
        "/api/next-actions", headers={"Cookie": f"session={alice.token}", "Authorization": f"Bearer {bob.token}"}
    )
    ids = {item["id"] for item in _ok(response)["items"]}
    return bool(ids & set(alice.nba_ids))


def _form_login(probe: Probe) -> bool:
    world = probe.world()
    user = world.data["user"]
    response = probe.client.post(
        "/login", data={"email": user["email"], "password": user["password"]}, follow_redirects=False
    )
    if response.status_code == 405:
        return False
    assert response.status_code == 303, response.text
    assert response.headers["location"] == "/next-actions"
    assert "session=" in response.headers["set-cookie"]
    bad = probe.client.post("/login", data={"email": user["email"], "password": "wrong"}, follow_redirects=False)
    assert bad.status_code == 401 and 'role="alert" aria-live="assertive">Sign-in failed' in bad.text
    return True


def _first_label(html: str) -> str:
    found = re.search(r"Mark done|Retry failed deliveries", html)
    assert found
    return found.group(0)


PROBES: dict[str, Callable[[Probe], bool]] = {
    "whole_second_times": lambda p: "." not in _executed_time(p),
    "offset_times": lambda p: _executed_time(p).endswith("+00:00"),
    "numeric_ids": lambda p: all(i.isdigit() for i in [*p.world().nba_ids, p.world().lead_id]),
    "wrong_method_404": lambda p: p.client.delete("/api/health").status_code == 404,
    "body_over_1mib_413": lambda p: (
        (
            p.client.post(
                "/api/auth/login", content=b" " * (1024 * 1024 + 1), headers={"Content-Type": "application/json"}
            )
        ).status_code
        == 413
    ),
    "non_json_415": lambda p: (
        (
            p.client.post("/api/auth/login", content=b'{"email": "a@b.c"}', headers={"Content-Type": "text/plain"})
        ).status_code
        == 415
    ),
    "null_contract_names": lambda p: (
        "error" in _ok(p.client.get("/api/health")) and _ok(p.client.get("/api/health"))["error"] is None
    ),
    "other_error_messages": lambda p: _ok(p.client.get("/api/no-such-route"), 404)["error"]["message"].startswith(
        "Refused"
    ),
    "samesite_strict": lambda p: "SameSite=Strict" in _login(p, p.world()).headers["set-cookie"],
    "cookie_wins": _cookie_wins,
    "logout_keeps_cookie": lambda p: (
        "set-cookie" not in _ok_response(p.client.post("/api/auth/logout", headers=p.world().headers)).headers
    ),
    "email_case_sensitive": lambda p: (lambda w: _login(p, w, w.data["user"]["email"].upper()).status_code == 401)(
        p.world()
    ),
    "login_ends_sessions": lambda p: (lambda w: _login(p, w) and w.get("/api/next-actions").status_code == 401)(
        p.world()
    ),
    "persistent_cookie": lambda p: "Max-Age=604800" in _login(p, p.world()).headers["set-cookie"],
    "integral_float_count": lambda p: p.client.post("/api/e2e/fixtures", json={"nextActions": 2.0}).status_code == 201,
    "lead_scored_at_creation": lambda p: (lambda w: _lead(p, w)["scoreUpdatedAt"] is not None)(p.world()),
    "punctuated_lead_names": lambda p: (lambda w: "'" in _lead(p, w)["name"])(p.world()),
    "extra_event_types": lambda p: (
        lambda w: _ok(w.execute(w.nba_ids[0], "mark_done")) and bool(_events(w, type="nba.execution.recorded"))
    )(p.world()),
    "execution_extra_fields": lambda p: (
        lambda w: (
            _ok(w.execute(w.nba_ids[0], "mark_done"))
            and "durationMs" in _ok(w.get(f"/api/next-actions/{w.nba_ids[0]}/executions"))["items"][0]
        )
    )(p.world()),
    "ui_nav_links": lambda p: '<nav aria-label="Site">' in p.page(p.world(), "/next-actions"),
    "hex_tokens": lambda p: re.fullmatch(r"[0-9a-f]{64}", p.world().token) is not None,
    "login_extra_fields": lambda p: "user" in _ok(_login(p, p.world())),
    "health_extra_fields": lambda p: {"version", "time"} <= set(_ok(p.client.get("/api/health"))),
    "whitespace_body_empty": lambda p: (
        (p.client.post("/api/e2e/fixtures", content=b" \v\n", headers={"Content-Type": "application/json"})).status_code
        == 201
    ),
    "failing_inherited": _failing_inherited,
    "fixture_extra_fields": lambda p: "id" in p.world().data["user"],
    "other_titles": lambda p: p.world().data["nextActions"][0]["title"].startswith("Call ("),
    "newest_first_next_actions": _queued_order,
    "repeated_status_400": lambda p: (
        (
            (lambda w: w.client.get("/api/next-actions?status=queued&status=queued", headers=w.headers))(p.world())
        ).status_code
        == 400
    ),
    "nba_extra_fields": lambda p: (lambda w: "createdAt" in _ok(w.get(f"/api/next-actions/{w.nba_ids[0]}")))(p.world()),
    "risk_flags_reversed": _risk_flags_reversed,
    "recompute_keeps_score": _recompute_keeps_score,
    "snooze_to_the_minute": _snooze_to_the_minute,
    "stubbed_false": lambda p: (lambda w: _ok(w.execute(w.nba_ids[0], "mark_done")).get("stubbed") is False)(p.world()),
    "replayed_false": lambda p: (
        lambda w: w.execute(w.nba_ids[0], "mark_done").headers.get("idempotent-replayed") == "false"
    )(p.world()),
    "in_flight_409": lambda p: _in_flight_wait(p) == 0.0,
    "retry_after_60": lambda p: _limited(p)[0].headers["retry-after"] == "60",
    "count_429s": lambda p: _limited(p)[1] == ratelimit.LIMIT + 1,
    "long_keys_accepted": lambda p: (
        lambda w: w.execute(w.nba_ids[0], "mark_done", **{"Idempotency-Key": "k" * 300}).status_code == 200
    )(p.world()),
    "stub_emits_executed": lambda p: (
        lambda w: (
            _ok(w.execute(w.nba_ids[0], "retry_failed_deliveries")) and bool(_events(w, type="nba.delivery.executed"))
        )
    )(p.world()),
    "run_next_actions_closes": lambda p: (
        lambda w: (
            _ok(w.execute(w.nba_ids[0], "run_next_actions"))
            and _ok(w.get(f"/api/next-actions/{w.nba_ids[1]}"))["status"] == "done"
        )
    )(p.world()),
    "execute_extra_fields": lambda p: (lambda w: "actionKey" in _ok(w.execute(w.nba_ids[0], "mark_done")))(p.world()),
    "event_extra_fields": lambda p: (
        lambda w: _ok(w.execute(w.nba_ids[0], "mark_done")) and _events(w)[0].get("leadId") == w.lead_id
    )(p.world()),
    "empty_filter_ignored": lambda p: (
        lambda w: _ok(w.execute(w.nba_ids[0], "mark_done")) and len(_events(w, type="")) >= 1
    )(p.world()),
    "retry_stub_nulls": lambda p: _retry_stub_event(p)["actionKey"] is None,
    "cron_skipped_null": lambda p: "skipped" in p.cron() and p.cron()["skipped"] is None,
    "ui_server_rendered": lambda p: (lambda w: w.data["nextActions"][0]["title"] in p.page(w, "/next-actions"))(
        p.world()
    ),
    "ui_aria_markup": lambda p: 'role="list" aria-labelledby="queue-heading"' in p.page(p.world(), "/next-actions"),
    "ui_extra_list": lambda p: "Recently done" in p.page(p.world(), "/next-actions"),
    "ui_button_order": lambda p: _first_label(p.page(p.world(), "/next-actions")) == "Retry failed deliveries",
    "ui_toast_disappears": lambda p: 'setTimeout(() => say(true, ""), 4000)' in p.page(p.world(), "/next-actions"),
    "ui_message_wording": lambda p: "Action succeeded: ${label}" in p.page(p.world(), "/next-actions"),
    "ui_rerender_list": lambda p: "list.replaceChildren(" in p.page(p.world(), "/next-actions"),
    "ui_form_post_login": _form_login,
    "ui_login_next": lambda p: (
        p.client.get("/next-actions", follow_redirects=False).headers["location"] == "/login?next=%2Fnext-actions"
    ),
    "ui_score_suffix": lambda p: (lambda w: " of 100</p>" in p.page(w, f"/leads/{w.lead_id}"))(p.world()),
}


def _ok_response(response: Any) -> Any:
    assert response.status_code == 200, response.text
    return response


def test_every_reading_point_has_a_probe() -> None:
    assert sorted(PROBES) == sorted(readings.READING_POINTS)


def test_at_least_thirty_points_across_sections_one_to_nine() -> None:
    assert len(readings.READING_POINTS) >= 30
    assert {point.section for point in readings.READING_POINTS.values()} == {str(n) for n in range(1, 10)}


@pytest.mark.parametrize("reading", readings.READINGS)
@pytest.mark.parametrize("point", sorted(readings.READING_POINTS))
def test_point_is_in_effect_only_under_other(
    make_client: AppFactory, monkeypatch: pytest.MonkeyPatch, point: str, reading: str
) -> None:
    probe = Probe(make_client(readings=reading), monkeypatch)
    assert PROBES[point](probe) is (reading == readings.OTHER)


def test_readme_lists_every_point_with_its_contract_sentence() -> None:
    readme = (ROOT / "refapp" / "README.md").read_text(encoding="utf-8")
    for name, point in readings.READING_POINTS.items():
        row = next((line for line in readme.splitlines() if line.startswith(f"| `{name}` |")), None)
        assert row is not None, f"refapp/README.md has no row for reading point {name!r}"
        assert f"| {point.section} |" in row, row
        assert point.allowed_by in row, f"the row of {name!r} does not quote the contract: {point.allowed_by!r}"


def test_settings_read_the_switch() -> None:
    assert Settings.from_env({}).readings == "default"
    assert Settings.from_env({"REFAPP_READINGS": "other"}).readings == "other"
    assert Settings.from_env({"REFAPP_READINGS": "other"}).other("numeric_ids")
    assert not Settings.from_env({}).other("numeric_ids")


def test_unknown_reading_names_the_value_and_the_valid_ones() -> None:
    with pytest.raises(ConfigError, match=r"unknown REFAPP_READINGS value 'others'; valid readings: default, other"):
        Settings.from_env({"REFAPP_READINGS": "others"})


def test_unknown_point_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="unknown reading point"):
        readings.other("no_such_point")


def test_cli_refuses_an_unknown_reading(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delenv("REFAPP_BROKEN", raising=False)
    monkeypatch.setenv("REFAPP_READINGS", "bogus")
    assert cli.main(["serve", "--port", "0"]) == 2
    assert "valid readings: default, other" in capsys.readouterr().err


def test_health_under_the_other_reading_is_still_ok(make_client: AppFactory) -> None:
    body = make_client(readings="other").get("/api/health").json()
    assert body["ok"] is True and body["environment"] != "production"


@pytest.mark.parametrize("reading", readings.READINGS)
def test_the_embedded_app_takes_the_reading_from_the_environment(monkeypatch: pytest.MonkeyPatch, reading: str) -> None:
    monkeypatch.setenv("REFAPP_READINGS", reading)
    app = EmbeddedApp()
    try:
        with httpx.Client(base_url=app.start(), trust_env=False) as client:
            body = client.get("/api/health").json()
    finally:
        app.stop()
    assert ("version" in body) is (reading == readings.OTHER)


def test_the_embedded_app_reports_an_unknown_reading(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REFAPP_READINGS", "bogus")
    app = EmbeddedApp()
    with pytest.raises(EmbeddedAppError, match="valid readings: default, other"):
        app.start()


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("/leads/abc", "/leads/abc"),
        ("/next-actions", "/next-actions"),
        ("//evil.example/x", "/next-actions"),
        ("/\\evil.example", "/next-actions"),
        ("https://evil.example/", "/next-actions"),
        ("", "/next-actions"),
        (None, "/next-actions"),
        ("/a\nb", "/next-actions"),
    ],
)
def test_login_next_goes_back_only_to_a_path_of_this_site(value: str | None, expected: str) -> None:
    assert ui._safe_next(value) == expected


def test_a_form_sign_in_goes_back_to_next(make_client: AppFactory) -> None:
    client = make_client(readings="other")
    world = World(client)
    lead_path = f"/leads/{world.lead_id}"
    redirect = client.get(lead_path, follow_redirects=False)
    assert redirect.status_code == 307
    login_page = client.get(redirect.headers["location"])
    assert f'name="next" value="{lead_path}"' in login_page.text
    user = world.data["user"]
    signed_in = client.post(
        "/login", data={"email": user["email"], "password": user["password"], "next": lead_path}, follow_redirects=False
    )
    assert signed_in.status_code == 303
    assert signed_in.headers["location"] == lead_path
    page = client.get(lead_path)
    assert page.status_code == 200 and "<h1>" in page.text and "Score: " in page.text
