"""Stopping background asyncio tasks reliably: the one place that knows how."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable

log = logging.getLogger(__name__)

RECANCEL_EVERY_S = 0.5


async def cancel_and_wait(tasks: Iterable[asyncio.Task], timeout: float | None = None) -> set[asyncio.Task]:
    """Cancel ``tasks`` and wait for them to end; return those still running after ``timeout``.

    Cancels again every half second: on Python 3.11 a cancel that lands just as an inner
    ``wait_for`` completes (nats-py requests use them) is lost and the task carries on. A
    timeout bounds the wait so a call stuck on a dead connection cannot hold up a shutdown.
    """
    loop = asyncio.get_running_loop()
    deadline = None if timeout is None else loop.time() + timeout
    pending = {t for t in tasks if not t.done()}
    while pending:
        for task in pending:
            task.cancel()
        wait = RECANCEL_EVERY_S if deadline is None else min(RECANCEL_EVERY_S, deadline - loop.time())
        if wait <= 0:
            break
        _done, pending = await asyncio.wait(pending, timeout=wait)
    if pending:
        log.warning("%d background task(s) did not stop within %.1fs; leaving them", len(pending), timeout or 0.0)
    return pending
