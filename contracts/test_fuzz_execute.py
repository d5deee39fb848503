"""Fuzz POST /api/next-actions/{id}/execute from contracts/openapi.yaml (section 6).

Positive and negative data; every default schemathesis check (`not_a_server_error`,
`status_code_conformance`, `content_type_conformance`, `response_schema_conformance`,
`response_headers_conformance`, `positive_data_acceptance`, `negative_data_rejection`,
`missing_required_header`, `ignored_auth`, ...) plus the contract's own checks
(`contracts.fuzz.checks`). Requests act as fresh fixtures users, rotated before the rate
limit (contracts.fuzz.auth). See contracts/FUZZING.md.
"""

from __future__ import annotations

from typing import Any

import pytest
from schemathesis.generation.case import Case

from contracts.fuzz import schema as fuzz_schema
from contracts.fuzz.session import FuzzSession

pytestmark = [pytest.mark.mutating, pytest.mark.shared_items(0, whole_lead=True)]

schema = fuzz_schema.load()


@schema.include(operation_id="executeNextAction").parametrize()
def test_fuzz_execute(case: Case[Any], fuzz: FuzzSession) -> None:
    fuzz.run(case)
