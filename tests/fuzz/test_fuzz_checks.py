"""Which checks judge a fuzz answer (contracts.fuzz.session.response_checks), on made-up answers."""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from schemathesis.core.failures import FailureGroup
from schemathesis.generation.case import Case

from contracts.fuzz import OPENAPI_PATH
from contracts.fuzz.session import free_answer, free_response, response_checks
from tests.fuzz.fake import answer

FREE = "the contract is silent on this header value (section 6)"
EXECUTION_FAILED = {"ok": False, "error": {"code": "execution_failed", "message": "boom", "executionId": "e1"}}
OTHER_500 = {"ok": False, "error": {"code": "internal", "message": "boom"}}


@pytest.fixture(scope="module")
def execute_case() -> Case:
    schema = schemathesis.openapi.from_path(OPENAPI_PATH)
    operation = schema["/api/next-actions/{id}/execute"]["POST"]
    return operation.Case(
        path_parameters={"id": "n1"},
        headers={"Idempotency-Key": "k" * 300},
        body={"actionKey": "recompute_score"},
        media_type="application/json",
    )


def _judge(case: Case, body: dict[str, Any], free: str | None, may_fail: bool) -> None:
    case.validate_response(answer(case, 500, body), **response_checks(free, may_fail))


@pytest.mark.parametrize("free", [FREE, None], ids=["free-answer", "normal-path"])
def test_a_failing_users_execution_failed_passes_on_both_paths(execute_case: Case, free: str | None) -> None:
    # The false failure of issue 12: a >255-character key, sent as the user whose actions
    # fail, reached the action and got the contract's 500; the free path called it a bug.
    _judge(execute_case, EXECUTION_FAILED, free, may_fail=True)


@pytest.mark.parametrize("free", [FREE, None], ids=["free-answer", "normal-path"])
def test_a_failing_user_still_fails_on_another_server_error(execute_case: Case, free: str | None) -> None:
    with pytest.raises((FailureGroup, AssertionError), match=r"execution_failed|Server error|schema"):
        _judge(execute_case, OTHER_500, free, may_fail=True)


@pytest.mark.parametrize("free", [FREE, None], ids=["free-answer", "normal-path"])
def test_a_500_for_a_user_whose_actions_succeed_fails(execute_case: Case, free: str | None) -> None:
    with pytest.raises((FailureGroup, AssertionError), match="Server error"):
        _judge(execute_case, EXECUTION_FAILED, free, may_fail=False)


@pytest.mark.parametrize(
    ("content_type", "content"),
    [(None, b""), ("text/plain", b"bye"), ("application/json", b"null"), ("application/json", b"")],
    ids=["empty", "text", "json-null", "json-empty"],
)
def test_a_logouts_200_body_is_free(content_type: str | None, content: bytes) -> None:
    schema = schemathesis.openapi.from_path(OPENAPI_PATH)
    case = schema["/api/auth/logout"]["POST"].Case()
    response = answer(case, 200, None)
    response.headers = {} if content_type is None else {"content-type": [content_type]}
    response.content = content
    free = free_response(case, 200)
    assert free is not None
    case.validate_response(response, **response_checks(free, False))


def test_a_logouts_other_answers_are_not_free() -> None:
    schema = schemathesis.openapi.from_path(OPENAPI_PATH)
    case = schema["/api/auth/logout"]["POST"].Case()
    assert free_response(case, 401) is None
    assert free_response(schema["/api/health"]["GET"].Case(), 200) is None


def _negative_body_case(body: bytes) -> Case:
    """A fixtures case as the fuzzer makes one with an invalid body (schemathesis' own metadata)."""
    from schemathesis.generation.meta import (
        CaseMetadata,
        ComponentInfo,
        FuzzingPhaseData,
        GenerationInfo,
        GenerationMode,
        ParameterLocation,
        PhaseInfo,
        TestPhase,
    )

    schema = schemathesis.openapi.from_path(OPENAPI_PATH)
    meta = CaseMetadata(
        generation=GenerationInfo(time=0.0, mode=GenerationMode.NEGATIVE),
        components={ParameterLocation.BODY: ComponentInfo(mode=GenerationMode.NEGATIVE)},
        phase=PhaseInfo(
            name=TestPhase.FUZZING,
            data=FuzzingPhaseData(description="", parameter=None, parameter_location=None, location=None),
        ),
    )
    return schema["/api/e2e/fixtures"]["POST"].Case(body=body, media_type="application/json", _meta=meta)


@pytest.mark.parametrize("body", [b"\t", b" \n ", b"\x0b"], ids=["tab", "spaces", "vertical-tab"])
def test_a_whitespace_only_fixtures_body_is_free(body: bytes) -> None:
    # The false failure of the other reading: it reads such a body as {} (201), which v1.1
    # allows, and the fuzzer's negative-data check called that "invalid data accepted".
    assert free_answer(_negative_body_case(body)) is not None


@pytest.mark.parametrize("body", [b"[]", b"x", b'{"nextActions": 0}'], ids=["array", "junk", "zero"])
def test_other_invalid_fixtures_bodies_are_not_free(body: bytes) -> None:
    assert free_answer(_negative_body_case(body)) is None
