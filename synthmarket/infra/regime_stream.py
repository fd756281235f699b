"""Following the regime server's session stream: reconnect with backoff, report up/down once each."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

import grpc

from synthmarket.infra.backoff import Backoff
from synthmarket.v1 import regime_pb2, regime_pb2_grpc

log = logging.getLogger(__name__)


async def follow_regime_stream(
    addr: str,
    interval_ms: int,
    on_snapshot: Callable[[regime_pb2.SessionSnapshot], None],
    connected: asyncio.Event,
    name: str,
    on_connected: Callable[[bool], None] | None = None,
) -> None:
    """Hand every ``StreamSessionState`` snapshot to ``on_snapshot``, forever.

    ``connected`` is set while the stream is up. A lost or refused stream is retried with the
    shared backoff; the callers keep working from the pure engine meanwhile.
    """
    backoff = Backoff()
    request = regime_pb2.StreamSessionStateRequest(interval_ms=interval_ms)
    while True:
        try:
            async with grpc.aio.insecure_channel(addr) as channel:
                stub = regime_pb2_grpc.RegimeServiceStub(channel)
                async for msg in stub.StreamSessionState(request):
                    if not connected.is_set():
                        log.info("%s: regime stream up at %s", name, addr)
                        connected.set()
                        backoff.reset()
                        if on_connected is not None:
                            on_connected(True)
                    on_snapshot(msg)
            raise ConnectionError("regime stream ended")
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - keep going on the pure engine; retry later
            detail = exc.code().name if isinstance(exc, grpc.aio.AioRpcError) else str(exc)
            delay = backoff.next_delay()
            if connected.is_set():
                log.warning("%s: regime stream lost (%s); reconnecting", name, detail)
            else:
                log.info("%s: regime stream unavailable (%s); retrying in %.2fs", name, detail, delay)
            connected.clear()
            if on_connected is not None:
                on_connected(False)
            await asyncio.sleep(delay)
