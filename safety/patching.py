"""A guard's patch points as one table: `(owner, attribute, wrapper)`, one install loop, one uninstall loop.

The guards (safety.network_guard, safety.wire_guard, safety.browser_guard) replace
methods of other libraries' classes. Each lists them once, here, so that installing
and undoing them cannot drift apart: `uninstall` puts back exactly what `install`
found, the very same objects, and an attribute the owner only inherited is removed
again rather than left behind as a copy.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

_INHERITED = object()  # the owner had no attribute of its own: uninstall deletes the wrapper


class PatchTable:
    """The patch points of one guard; installed at most once at a time."""

    def __init__(self, entries: Callable[[], Sequence[tuple[object, str, Callable[..., Any]]]]) -> None:
        # A callable, so that owners found at run time (asyncio's private transports) are looked up
        # when the table is installed, not when the module is imported.
        self._entries = entries
        self._saved: dict[tuple[int, str], tuple[object, str, object, Any]] = {}

    def points(self) -> list[tuple[object, str, Callable[..., Any]]]:
        """The table's `(owner, attribute, wrapper)` rows."""
        return list(self._entries())

    @property
    def installed(self) -> bool:
        return bool(self._saved)

    def install(self) -> bool:
        """Replace every attribute with its wrapper; False (and nothing done) when already installed."""
        if self._saved:
            return False
        entries = list(self._entries())
        # Every original is read before anything is replaced, so a wrapper never wraps another.
        for owner, attribute, _ in entries:
            own = vars(owner).get(attribute, _INHERITED)
            self._saved[(id(owner), attribute)] = (owner, attribute, own, getattr(owner, attribute))
        for owner, attribute, wrapper in entries:
            setattr(owner, attribute, wrapper)
        return True

    def uninstall(self) -> bool:
        """Put every original back; False when nothing was installed."""
        if not self._saved:
            return False
        for owner, attribute, own, _ in self._saved.values():
            if own is _INHERITED:
                delattr(owner, attribute)
            else:
                setattr(owner, attribute, own)
        self._saved.clear()
        return True

    def original(self, owner: object, attribute: str) -> Any:
        """What `owner.attribute` was before install: what a wrapper calls on to."""
        try:
            return self._saved[(id(owner), attribute)][3]
        except KeyError:
            # Only a wrapper calls this, and a wrapper runs only while installed (or on a reference
            # someone kept): fall back to the attribute itself rather than fail the caller's request.
            return getattr(owner, attribute)
