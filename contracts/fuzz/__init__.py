"""Contract-first fuzzing of the HTTP API with schemathesis (see contracts/FUZZING.md).

The OpenAPI document `contracts/openapi.yaml` is written by hand from shared/CONTRACT.md;
the tests `contracts/test_fuzz_*.py` generate requests from it and check every answer
against it, plus the custom checks in `contracts.fuzz.checks`.
"""

from __future__ import annotations

import os
from pathlib import Path

OPENAPI_PATH = Path(__file__).resolve().parent.parent / "openapi.yaml"
#: Failing cases and run summaries; E2E_FUZZ_ARTIFACTS moves them (the bite tests use a tmp dir).
ARTIFACTS_DIR = Path(os.environ.get("E2E_FUZZ_ARTIFACTS") or Path(__file__).resolve().parents[2] / "artifacts" / "fuzz")
