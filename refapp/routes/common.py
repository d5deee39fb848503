"""What every route reads from a request: the settings, the JSON body and the caller."""

from __future__ import annotations

import json
import traceback
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from refapp import readings
from refapp.auth import Caller, request_token, resolve_caller
from refapp.config import Settings
from refapp.db import get_database
from refapp.refusals import BodyTooLarge, InvalidBody, Unauthenticated, UnsupportedMediaType

MAX_BODY_BYTES = 1024 * 1024
_NO_BODY = object()


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _is_json_type(content_type: str) -> bool:
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or (media.startswith("application/") and media.endswith("+json"))


async def read_json(request: Request, *, empty: object = _NO_BODY, whitespace_is_empty: bool = False) -> object:
    """The parsed JSON body. An empty body gives `empty`, or InvalidBody when none is given."""
    raw = await request.body()
    if len(raw) > MAX_BODY_BYTES:
        if readings.other("body_over_1mib_413"):
            raise BodyTooLarge("The request body is over 1 MiB.")
        raise InvalidBody("The request body is too large.")
    content_type = request.headers.get("content-type")
    # Only a type that is sent and is not JSON is refused: a missing one is not a claim.
    if raw and content_type is not None and not _is_json_type(content_type) and readings.other("non_json_415"):
        raise UnsupportedMediaType("The request body must be sent as application/json.")
    if whitespace_is_empty and readings.other("whitespace_body_empty") and not raw.strip():
        raw = b""
    # Only a body of no bytes is empty: whitespace such as a lone vertical tab is not JSON
    # (JSON's own whitespace around nothing is not a document either), so it is invalid_body.
    if not raw:
        if empty is _NO_BODY:
            raise InvalidBody()
        return empty
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        if get_settings(request).is_broken("leak_parser_path"):
            where = traceback.extract_tb(exc.__traceback__)[-1]
            raise InvalidBody(f"The request body is not valid JSON: {exc} ({where.filename}:{where.lineno})") from None
        raise InvalidBody("The request body is not valid JSON.") from None


def with_null_error(body: dict[str, Any]) -> dict[str, Any]:
    """A success body; under the other reading it repeats the contract's `error` name as null."""
    if readings.other("null_contract_names"):
        return {**body, "error": None}
    return body


async def current_caller(request: Request) -> Caller:
    """The caller of the request's session token or cookie; Unauthenticated without a live one."""
    token = request_token(request)
    caller = await run_in_threadpool(resolve_caller, get_database(request), token)
    if caller is None:
        if token and get_settings(request).is_broken("leak_token_401"):
            raise Unauthenticated(f"Unknown session token {token}.")
        raise Unauthenticated()
    return caller
