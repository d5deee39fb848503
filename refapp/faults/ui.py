"""Faults in section 9: the UI."""

from __future__ import annotations

from refapp.faults.fault import Fault

FAULTS: dict[str, Fault] = {}
