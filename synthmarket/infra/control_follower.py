"""Following the control entry in KV: apply every revision, survive outages, re-watch on reconnect."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from nats.aio.client import Client as NatsClient

from synthmarket.domain.control import SyntheticControlState
from synthmarket.infra.backoff import Backoff
from synthmarket.infra.control_store import ensure_control_bucket, watch_control
from synthmarket.infra.tasks import cancel_and_wait
from synthmarket.names import CONTROL_BUCKET

log = logging.getLogger(__name__)

Apply = Callable[[SyntheticControlState, "int | None"], None]


class ControlFollower:
    """Calls ``apply(state, revision)`` for the stored control and every change after it.

    The first call carries the stored entry (defaults when it is absent). On any NATS failure the
    last good control stays in force and the watch is retried with backoff; ``rewatch()`` (from
    the connection's reconnected callback) restarts it at once, since a restarted server lost the
    old watch's consumer and its heartbeat check would take ~15 s to notice.
    """

    def __init__(self, connection: Callable[[], Awaitable[NatsClient]], apply: Apply, name: str,
                 bucket: str = CONTROL_BUCKET, history: bool = False) -> None:
        self._connection = connection
        self._apply = apply
        self.name = name
        self.bucket = bucket
        # With history every stored revision is applied in order (the timeline of the day), each once.
        self.history = history
        self.revision: int | None = None
        self.watching = asyncio.Event()
        self._rewatch = asyncio.Event()

    def rewatch(self) -> None:
        self._rewatch.set()

    async def run(self) -> None:
        backoff = Backoff()
        while True:
            try:
                nc = await self._connection()
                kv = await ensure_control_bucket(nc.jetstream(timeout=5), self.bucket)
                self._rewatch.clear()
                watch = asyncio.create_task(self._consume(kv))
                rewatch = asyncio.create_task(self._rewatch.wait())
                try:
                    done, _ = await asyncio.wait({watch, rewatch}, return_when=asyncio.FIRST_COMPLETED)
                finally:
                    await cancel_and_wait((watch, rewatch))
                if watch in done:
                    watch.result()
                backoff.reset()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - any NATS failure: keep the last control, retry
                self.watching.clear()
                delay = backoff.next_delay()
                log.warning("%s: control KV %s unavailable (%s: %s); keeping revision %s, retrying in %.2fs",
                            self.name, self.bucket, type(exc).__name__, exc, self.revision or "0 (defaults)", delay)
                await asyncio.sleep(delay)

    async def _consume(self, kv) -> None:
        async for state, revision in watch_control(kv, history=self.history):
            self.watching.set()
            if self.history and revision is not None and self.revision is not None and revision <= self.revision:
                continue    # a re-watch replays what was applied already
            self.revision = revision
            self._apply(state, revision)
        # The watch only ends if its subscription closes; re-establish it.
        raise ConnectionError("control watch ended")
