"""testkit/settle.py: a value read again until it held for a moment, bounded."""

from __future__ import annotations

import time

from testkit.settle import until_unchanged


def test_the_value_is_read_until_it_held_for_the_quiet_time() -> None:
    values = iter([1, 2, 3])
    reads: list[int] = []

    def read() -> int:
        reads.append(next(values, 3))
        return reads[-1]

    assert until_unchanged(read, time.sleep, quiet=0.1, timeout=5.0, step=0.01) == 3, "the late change is seen"
    assert reads[:3] == [1, 2, 3] and len(reads) > 3, "it read on after the last change"


def test_a_value_that_never_settles_is_returned_at_the_timeout() -> None:
    # Returning at all is the bound: every read differs, so it never holds for `quiet`.
    reads: list[int] = []

    def read() -> int:
        reads.append(len(reads))
        return reads[-1]

    assert until_unchanged(read, time.sleep, quiet=60.0, timeout=0.2, step=0.01) == reads[-1], "the newest value"
