"""The wall clock, read only by the service shells (pure logic takes time as an argument)."""

from __future__ import annotations

import time
from collections.abc import Callable

WallClock = Callable[[], int]


def wall_ms() -> int:
    """Epoch milliseconds now."""
    return time.time_ns() // 1_000_000
