"""Polling with a deadline instead of sleeping: return as soon as a condition holds, fail naming it."""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Callable
from typing import Any

DEFAULT_TIMEOUT_S = 10.0
DEFAULT_INTERVAL_S = 0.02


def wait_until(check: Callable[[], Any], timeout: float = DEFAULT_TIMEOUT_S, what: str = "condition",
               interval: float = DEFAULT_INTERVAL_S) -> Any:
    """Poll ``check`` until it returns something truthy and return that; fail after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


async def eventually(check: Callable[[], Any], timeout: float = DEFAULT_TIMEOUT_S, what: str = "condition",
                     interval: float = DEFAULT_INTERVAL_S) -> Any:
    """The asyncio form of ``wait_until``; ``check`` may be a coroutine function."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        value = check()
        if inspect.isawaitable(value):
            value = await value
        if value:
            return value
        if loop.time() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        await asyncio.sleep(interval)
