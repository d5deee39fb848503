"""`POST /api/next-actions/{id}/execute` (section 6), its checks in the contract's order.

1 auth, 2 rate limit, 3 body, then `refapp.execute.run`: 4 the id, 5 the Idempotency-Key,
6 the action. The broken builds reorder or skip steps here (refapp/faults/execute_*.py).
"""

from __future__ import annotations

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from refapp import execute as steps
from refapp import ratelimit
from refapp.auth import request_token
from refapp.db import get_database
from refapp.errors import answer_to
from refapp.next_actions import owned_next_action
from refapp.refusals import RateLimited, Refused
from refapp.routes.common import current_caller, get_settings, read_json

router = APIRouter()


@router.post("/api/next-actions/{nba_id}/execute")
async def execute(request: Request, nba_id: str) -> Response:
    database, settings = get_database(request), get_settings(request)
    if settings.is_broken("validate_before_auth"):
        steps.parse_action_key(await read_json(request, empty=None), settings)
    if settings.is_broken("logged_out_token_counts"):
        await run_in_threadpool(steps.charge_cached_token, database, request_token(request))
    if settings.is_broken("id_before_auth") and request_token(request) is None:
        await run_in_threadpool(owned_next_action, database, settings, "", nba_id)
    caller = await current_caller(request)  # 1. auth
    if settings.is_broken("body_before_rate_limit"):
        steps.parse_action_key(await read_json(request, empty=None), settings)
    bucket = steps.rate_limit_bucket(
        settings,
        caller,
        forwarded_for=request.headers.get("x-forwarded-for", ""),
        client_host=request.client.host if request.client else "?",
        nba_id=nba_id,
    )
    decision = await run_in_threadpool(  # 2. rate limit
        ratelimit.hit, database, bucket, is_broken=settings.is_broken
    )
    if not decision.allowed:
        raise RateLimited(None if settings.is_broken("no_retry_after") else decision.retry_after)
    if settings.is_broken("logged_out_token_counts"):
        steps.LIMITER_TOKEN_CACHE[request_token(request) or ""] = caller.user_id
    key_header = request.headers.get("idempotency-key")
    if settings.is_broken("replay_before_body_check") and key_header:
        stored = await run_in_threadpool(steps.lookup_replay, database, caller, key_header)
        if stored is not None:  # the key is looked up before steps 3 and 4
            return JSONResponse(stored.body, status_code=stored.status, headers=stored.headers)
    if settings.is_broken("id_before_body"):
        await run_in_threadpool(owned_next_action, database, settings, caller.user_id, nba_id)
    empty_body: object = {} if settings.is_broken("empty_body_action_key") else None
    try:
        action_key = steps.parse_action_key(await read_json(request, empty=empty_body), settings)  # 3. body
        answer = await run_in_threadpool(  # 4. id, 5. idempotency, 6. run
            steps.run,
            database,
            settings,
            caller,
            nba_id,
            action_key,
            key_header,
        )
    except Refused as refusal:
        if settings.broken is not None:
            refused = answer_to(refusal)
            await run_in_threadpool(
                lambda: steps.store_early_answer(
                    database,
                    settings,
                    caller,
                    nba_id,
                    key_header,
                    status=refused.status,
                    code=refused.code,
                    message=refused.message,
                )
            )
            await run_in_threadpool(steps.refund_broken, database, settings, bucket, refused.status, False)
        raise
    if settings.broken is not None:
        await run_in_threadpool(steps.refund_broken, database, settings, bucket, answer.status, answer.replayed)
    return JSONResponse(answer.body, status_code=answer.status, headers=answer.headers)
