"""Skips for lack of setup, categorised where they are raised, so the end summary can group them.

A fixture that cannot set up what a test needs (no fixtures endpoint, no account, no cron
secret, a production target, too few queued items) skips through `skip_for_setup(category,
reason)`. The category travels in the skip's message as a prefix, `[no credentials] ...`:
the message is the one part of a skip report that reaches the xdist controller unchanged
(report attributes set on a worker do not), and `-rs` shows it beside the reason.
"""

from __future__ import annotations

import enum
import re
from typing import NoReturn

import pytest


class SkipCategory(enum.Enum):
    """Why a test could not run: what the run lacked. The value is the label the summary shows."""

    NO_CREDENTIALS = "no credentials"
    NO_FIXTURES_ENDPOINT = "no fixtures endpoint"
    NO_SECOND_ACCOUNT = "no second account"
    NO_CRON_SECRET = "no cron secret"  # noqa: S105 - a label, not a secret
    TARGET_IS_PRODUCTION = "target is production"
    NOT_ENOUGH_QUEUED_ITEMS = "not enough queued items"
    SHARED_ACCOUNT_STATE = "shared account state"
    RATE_BUDGET = "rate budget"


#: A skip whose message carries no category (a test's own skip, a skipif): shown, never strict.
UNCATEGORISED = "other"

_BY_LABEL = {category.value: category for category in SkipCategory}
_PREFIX = re.compile(r"\[(?P<label>[a-z ]+)\] ")
_PYTEST_PREFIX = "Skipped: "


def tagged(category: SkipCategory, reason: str) -> str:
    """The skip message carrying `category`: `[label] reason`."""
    return f"[{category.value}] {reason}"


def skip_for_setup(category: SkipCategory, reason: str) -> NoReturn:
    """Skip the running test for lack of setup; `reason` says what is missing and how to provide it."""
    __tracebackhide__ = True
    raise pytest.skip.Exception(tagged(category, reason))


def parse(message: str) -> tuple[SkipCategory | None, str]:
    """(category or None, reason without the prefix) of a skip message, as pytest reports it."""
    text = message.removeprefix(_PYTEST_PREFIX)
    match = _PREFIX.match(text)
    if match is None or match["label"] not in _BY_LABEL:
        return None, text
    return _BY_LABEL[match["label"]], text[match.end() :]


def skip_message(report: pytest.TestReport) -> str | None:
    """The message of a skip report (a local one, or one an xdist worker sent), else None."""
    if not report.skipped or hasattr(report, "wasxfail"):
        return None
    longrepr = report.longrepr
    if isinstance(longrepr, (tuple, list)) and len(longrepr) == 3:
        return str(longrepr[2])
    return str(longrepr) if longrepr is not None else ""
