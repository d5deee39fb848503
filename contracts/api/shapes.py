"""The shapes the contract gives its answers (sections 5 and 7): only the fields it names.

The checks never compare whole objects: what the contract leaves free stays free.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import httpx

from contracts.api.errors import describe, expect_status
from contracts.api.times import parse_time

ACTION_KEYS: tuple[str, ...] = (
    "mark_done",
    "snooze_1d",
    "recompute_score",
    "run_risk_rules",
    "run_next_actions",
    "retry_failed_deliveries",
)


def items_of(response: httpx.Response) -> list[dict[str, Any]]:
    body = expect_status(response, 200)
    assert isinstance(body, dict) and isinstance(body.get("items"), list), (
        f'the contract requires {{"items": [...]}}; got {describe(response)}'
    )
    items = body["items"]
    assert all(isinstance(i, dict) for i in items), f"every item must be an object; got {describe(response)}"
    return list(items)


def _check_fields(obj: Any, checks: Mapping[str, Callable[[Any], bool]], what: str, where: str) -> None:
    assert isinstance(obj, dict), f"{what} must be an object; got {obj!r} from {where}"
    for name, ok in checks.items():
        assert name in obj, f"{what} needs field {name!r} (contract); missing in {obj!r} from {where}"
        assert ok(obj[name]), f"{what}.{name} has the wrong type or value {obj[name]!r} from {where}"


def _time_or_null(value: Any) -> bool:
    if value is None:
        return True
    try:
        parse_time(value)
    except AssertionError:
        return False
    return True


def _time(value: Any) -> bool:
    return value is not None and _time_or_null(value)


def _str(value: Any) -> bool:
    return isinstance(value, str)


def _str_or_null(value: Any) -> bool:
    return value is None or isinstance(value, str)


def assert_nba_shape(obj: Any, response: httpx.Response) -> None:
    _check_fields(
        obj,
        {
            "id": _str,
            "title": _str,
            "status": lambda v: v in ("queued", "done"),
            "leadId": _str,
            "snoozedUntil": _time_or_null,
            "lastExecutedAt": _time_or_null,
            "lastExecutionStatus": lambda v: v in ("success", "failed", None),
            "lastExecutionErrorCode": _str_or_null,
            "lastExecutionErrorMessage": _str_or_null,
        },
        "a next action (section 5)",
        describe(response, 200),
    )


def assert_execution_shape(obj: Any, response: httpx.Response) -> None:
    where = describe(response, 200)
    _check_fields(
        obj,
        {
            "id": _str,
            "actionKey": lambda v: v in ACTION_KEYS,
            "status": lambda v: v in ("success", "failed"),
            "startedAt": _time,
            "finishedAt": _time,
            "errorCode": _str_or_null,
            "errorMessage": _str_or_null,
        },
        "an execution (section 5)",
        where,
    )
    started, finished = parse_time(obj["startedAt"]), parse_time(obj["finishedAt"])
    assert started <= finished, f"an execution needs startedAt <= finishedAt (section 5); got {obj!r}"


def assert_lead_shape(obj: Any, response: httpx.Response) -> None:
    _check_fields(
        obj,
        {
            "id": _str,
            "name": _str,
            "score": lambda v: isinstance(v, int) and not isinstance(v, bool) and 0 <= v <= 100,
            "scoreUpdatedAt": _time_or_null,
            "riskFlags": lambda v: (
                isinstance(v, list) and all(isinstance(f, dict) and "code" in f and "severity" in f for f in v)
            ),
            "riskEvaluatedAt": _time_or_null,
        },
        "a lead (section 5)",
        describe(response, 200),
    )


def assert_event_shape(obj: Any, response: httpx.Response) -> None:
    where = describe(response, 200)
    _check_fields(obj, {"type": _str, "at": _time}, "an ops event (section 7)", where)
    for name in ("nextActionId", "actionKey", "executionId"):
        assert name in obj, f"an ops event needs field {name!r} (section 7); got {obj!r} from {where}"
        assert _str_or_null(obj[name]), f"ops event field {name} must be a string or null; got {obj!r}"
