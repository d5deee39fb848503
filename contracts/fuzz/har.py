"""A HAR 1.2 cassette of every fuzz request and its answer, to replay or inspect a run.

schemathesis writes VCR/HAR reports only on its CLI path (`st run --report har`); on the
pytest path the session records each interaction here and writes
`artifacts/fuzz/cassette[-gwN].har` at the end. Browsers' devtools, Playwright's
`route_from_har` and most HTTP tools read HAR. Tokens and the cron secret are replaced
before anything is written (the caller's `redact`).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

#: Bodies past this many characters are cut: a cassette is for reading and replaying cases.
MAX_BODY_CHARS = 5000
#: Interactions kept per process; a deeper run keeps its most recent ones.
MAX_ENTRIES = 20_000


def _text(raw: bytes | str | None) -> str:
    if raw is None:
        return ""
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
    return text[:MAX_BODY_CHARS]


def entry(response: Any, started: datetime) -> dict[str, Any]:
    """One HAR entry from a schemathesis Response (its `.request` is what was sent)."""
    request = response.request
    body = _text(request.body)
    headers = [{"name": k, "value": v} for k, v in request.headers.items()]
    sent: dict[str, Any] = {
        "method": request.method,
        "url": request.url,
        "httpVersion": "HTTP/1.1",
        "headers": headers,
        "queryString": [{"name": k, "value": v} for k, v in parse_qsl(urlsplit(request.url).query)],
        "cookies": [],
        "headersSize": -1,
        "bodySize": len(request.body or b""),
    }
    if request.body is not None:
        sent["postData"] = {"mimeType": request.headers.get("Content-Type", ""), "text": body}
    answer_headers = [{"name": k, "value": v} for k, values in response.headers.items() for v in values]
    content_type = next((h["value"] for h in answer_headers if h["name"].lower() == "content-type"), "")
    milliseconds = round(response.elapsed * 1000, 3)
    return {
        "startedDateTime": started.isoformat(),
        "time": milliseconds,
        "request": sent,
        "response": {
            "status": response.status_code,
            "statusText": response.message,
            "httpVersion": f"HTTP/{response.http_version}",
            "headers": answer_headers,
            "cookies": [],
            "content": {"size": len(response.content), "mimeType": content_type, "text": _text(response.content)},
            "redirectURL": "",
            "headersSize": -1,
            "bodySize": len(response.content),
        },
        "cache": {},
        "timings": {"send": 0, "wait": milliseconds, "receive": 0},
    }


def now() -> datetime:
    return datetime.now(UTC)


def write(path: Path, entries: list[dict[str, Any]], redact: Callable[[str], str]) -> Path:
    """Write the cassette (HAR 1.2), every string passed through `redact`."""
    document = {"log": {"version": "1.2", "creator": {"name": "nba-e2e fuzz", "version": "1"}, "entries": entries}}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(redact(json.dumps(document, indent=1)))
    return path
