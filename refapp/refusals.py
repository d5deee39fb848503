"""The domain's refusals: what the services raise when they will not do what was asked.

They say *what* went wrong, never how it is answered: no status, no error code, no header.
`refapp/errors.py` is the one place that maps each of them to the contract's error answer.
A refusal's `message` is for the client (it must not carry secrets); without one, the
answer's usual message for that refusal is used.
"""

from __future__ import annotations


class Refused(Exception):
    """A request the service refuses; `message` (optional) is the client's explanation."""

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or type(self).__name__)
        self.message = message


class Unauthenticated(Refused):
    """No valid session token or cron secret came with the request."""


class InvalidCredentials(Refused):
    """A login whose email and password match no account."""


class WrongPassword(Refused):
    """A login with a known email and a wrong password (only the broken build `wrong_password_403` says so)."""


class Forbidden(Refused):
    """The caller is known but may not do this."""


class NotFound(Refused):
    """The thing asked for does not exist, or belongs to another user."""


class InvalidBody(Refused):
    """The request body is not what the route reads (not JSON, not an object, wrong fields)."""


class BodyTooLarge(Refused):
    """The request body is over the size the service reads (refused this way in the other reading)."""


class UnsupportedMediaType(Refused):
    """The request body was sent with a content type that is not JSON (refused in the other reading)."""


class InvalidQuery(Refused):
    """A query parameter holds a value the route does not accept."""


class InvalidActionKey(Refused):
    """The execute body names no known action."""


class InvalidIdempotencyKey(Refused):
    """The Idempotency-Key header is not one the service accepts."""


class IdempotencyKeyReused(Refused):
    """The Idempotency-Key was already used for another next action or actionKey."""


class IdempotencyKeyInFlight(Refused):
    """The first request with this Idempotency-Key is still running."""


class RateLimited(Refused):
    """The caller's budget of execute requests is spent; `retry_after` seconds until one is free.

    `retry_after` None: the answer says nothing about when to retry.
    """

    def __init__(self, retry_after: int | None, message: str | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after
