"""An asyncio loop on a background thread, so the synchronous WSGI views can await NATS calls."""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from collections.abc import Awaitable, Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


class BridgeTimeout(TimeoutError):
    """A coroutine submitted through the bridge did not finish in time (it was cancelled)."""


class AsyncBridge:
    """One event loop in one daemon thread; ``run`` blocks the calling thread on a coroutine."""

    def __init__(self, name: str = "gateway-async") -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run_loop, name=name, daemon=True)
        self._started = threading.Event()
        self._thread.start()
        self._started.wait()

    def _run_loop(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.call_soon(self._started.set)
        self.loop.run_forever()

    def run(self, coro: Coroutine[Any, Any, T], timeout: float) -> T:
        future = asyncio.run_coroutine_threadsafe(coro, self.loop)
        try:
            return future.result(timeout)
        except concurrent.futures.TimeoutError:
            future.cancel()
            raise BridgeTimeout(f"no answer within {timeout:g} s") from None

    def spawn(self, coro: Coroutine[Any, Any, T]) -> concurrent.futures.Future[T]:
        return asyncio.run_coroutine_threadsafe(coro, self.loop)

    def close(self, cleanup: Awaitable[Any] | None = None, timeout: float = 5.0) -> None:
        """Run an optional cleanup coroutine, cancel what is left, stop the loop and join."""
        if not self._thread.is_alive():
            return
        if cleanup is not None:
            try:
                self.run(cleanup, timeout)  # type: ignore[arg-type]
            except Exception:  # noqa: BLE001 - best effort during shutdown
                pass

        async def _cancel_rest() -> None:
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

        try:
            self.run(_cancel_rest(), timeout)
        except Exception:  # noqa: BLE001
            pass
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout)
        if not self._thread.is_alive():
            self.loop.close()
