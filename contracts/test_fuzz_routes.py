"""Fuzz every other route of contracts/openapi.yaml (sections 2-5, 7, 8).

As test_fuzz_execute.py, one test per operation. POST /api/auth/logout acts with a token of
its own (never the pool's); POST /api/cron/background-jobs needs E2E_CRON_SECRET and is
skipped with a reason without it. See contracts/FUZZING.md.
"""

from __future__ import annotations

from typing import Any

import pytest
from schemathesis.generation.case import Case

from contracts.fuzz import schema as fuzz_schema
from contracts.fuzz.session import FuzzSession

pytestmark = [pytest.mark.mutating]

schema = fuzz_schema.load()


@schema.exclude(operation_id="executeNextAction").parametrize()
def test_fuzz_route(case: Case[Any], fuzz: FuzzSession) -> None:
    fuzz.run(case)
