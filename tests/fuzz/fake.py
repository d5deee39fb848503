"""Answers made up in memory, judged by schemathesis' own checks as the fuzzer would judge them."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import requests
from schemathesis import Response
from schemathesis.generation.case import Case

BASE = "http://127.0.0.1:9"  # never contacted: nothing here sends a request


def answer(case: Case, status: int, body: Any, headers: Mapping[str, str | list[str]] | None = None) -> Response:
    """A schemathesis Response to `case` with this status, JSON body and headers (a list: one
    header line per value)."""
    url = BASE + case.formatted_path
    body_sent = case.body if isinstance(case.body, (dict, list)) else None  # NotSet: no body
    request = requests.Request(case.method, url, json=body_sent).prepare()
    lines = {k.lower(): v if isinstance(v, list) else [v] for k, v in (headers or {}).items()}
    all_headers = {"content-type": ["application/json"], **lines}
    return Response(status, all_headers, json.dumps(body).encode(), request, 0.01, True)
