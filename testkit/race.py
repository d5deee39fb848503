"""Run one call on many threads at once: the race helper of the contract suite and the app's tests."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def race(count: int, call: Callable[[int], T], timeout: float = 60.0) -> list[T | BaseException]:
    """Run `call(0)` .. `call(count - 1)` on threads released together by a barrier.

    Returns, in index order, each call's result or the exception it raised (a call that has
    not finished within `timeout` seconds shows as a TimeoutError), so that the caller can
    assert that every one of them answered.
    """
    barrier = threading.Barrier(count)
    results: list[T | BaseException] = [TimeoutError(f"call {n} did not finish in {timeout:g} s") for n in range(count)]

    def run(n: int) -> None:
        try:
            barrier.wait(timeout=10)
            results[n] = call(n)
        except BaseException as error:  # handed to the caller
            results[n] = error

    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + timeout
    for thread in threads:
        thread.join(timeout=max(0.0, deadline - time.monotonic()))
    return results
