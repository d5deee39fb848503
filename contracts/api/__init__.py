"""Small typed helpers for the HTTP contract (shared/CONTRACT.md) of the app under test.

One concept per module: `client` (the httpx client and the routes), `errors` (describing
answers, error bodies, leak checks), `times` (the server's clock, Retry-After), `shapes`
(the fields the contract names), `users` (fixtures users and the shared account). Test
modules import from here: `from contracts import api as c`.

The helpers never assume what the contract leaves free: they read only the fields it names,
never compare whole objects, and compare times with the server's `Date` header, never the
local clock.
"""

from contracts.api.client import (
    CRON_PATH,
    DEFAULT_TIMEOUT,
    EVENTS_PATH,
    FIXTURES_PATH,
    HEALTH_PATH,
    LOGIN_PATH,
    LOGOUT_PATH,
    NEXT_ACTIONS_PATH,
    auth_headers,
    client,
    cookie_headers,
    execute_path,
    nba_path,
    uuid_hex,
)
from contracts.api.errors import (
    FIXTURE_SECRET,
    assert_error,
    assert_no_secret,
    check_answer,
    describe,
    expect_status,
    find_leaks,
    json_body,
    request_secrets,
)
from contracts.api.shapes import (
    ACTION_KEYS,
    assert_event_shape,
    assert_execution_shape,
    assert_lead_shape,
    assert_nba_shape,
    items_of,
)
from contracts.api.times import (
    CLOCK_SLACK,
    RATE_LIMIT,
    RATE_WINDOW_SECONDS,
    RetryPolicy,
    assert_near,
    contract_retry_after,
    parse_retry_after,
    parse_time,
    send_with_retry,
    server_now,
)
from contracts.api.users import (
    FixtureData,
    MakeUser,
    NextActionRef,
    User,
    create_fixture,
    fixtures_available,
    fixtures_user,
    login,
    login_again,
    need,
    parse_fixture,
    shared_user,
)
from testkit.race import race

__all__ = [
    "ACTION_KEYS",
    "CLOCK_SLACK",
    "CRON_PATH",
    "DEFAULT_TIMEOUT",
    "EVENTS_PATH",
    "FIXTURES_PATH",
    "FIXTURE_SECRET",
    "HEALTH_PATH",
    "LOGIN_PATH",
    "LOGOUT_PATH",
    "NEXT_ACTIONS_PATH",
    "RATE_LIMIT",
    "RATE_WINDOW_SECONDS",
    "FixtureData",
    "MakeUser",
    "NextActionRef",
    "RetryPolicy",
    "User",
    "assert_error",
    "assert_event_shape",
    "assert_execution_shape",
    "assert_lead_shape",
    "assert_nba_shape",
    "assert_near",
    "assert_no_secret",
    "auth_headers",
    "check_answer",
    "client",
    "contract_retry_after",
    "cookie_headers",
    "create_fixture",
    "describe",
    "execute_path",
    "expect_status",
    "find_leaks",
    "fixtures_available",
    "fixtures_user",
    "items_of",
    "json_body",
    "login",
    "login_again",
    "nba_path",
    "need",
    "parse_fixture",
    "parse_retry_after",
    "parse_time",
    "race",
    "request_secrets",
    "send_with_retry",
    "server_now",
    "shared_user",
    "uuid_hex",
]
