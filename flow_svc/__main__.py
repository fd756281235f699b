"""Run the live smart-money flow service: ``python -m flow_svc``."""

from __future__ import annotations

import asyncio
import logging
import signal

from nats.aio.client import Client as NatsClient

from flow_svc.service import start_flow_service
from synthmarket.metrics import start_metrics_server
from synthmarket.settings import load_settings

log = logging.getLogger("flow_svc")

DEFAULT_NATS_URL = "nats://127.0.0.1:4222"


def _stop_on_signal() -> asyncio.Event:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    return stop


class _NatsLog:
    """One warning per outage instead of one per reconnect attempt."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.down = False

    async def error(self, exc: Exception) -> None:
        if not self.down:
            self.down = True
            log.warning("NATS at %s unavailable (%s: %s); retrying", self.url, type(exc).__name__, exc)

    async def disconnected(self) -> None:
        if not self.down:
            self.down = True
            log.warning("disconnected from NATS at %s; reconnecting", self.url)

    async def reconnected(self) -> None:
        self.down = False
        log.info("reconnected to NATS at %s", self.url)


async def main() -> None:
    settings = load_settings()
    logging.basicConfig(level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    stop = _stop_on_signal()
    url = settings.nats_url or DEFAULT_NATS_URL
    # Without NATS there is no tape: wait for it (nats-py retries the first connect forever),
    # but still honour a stop signal meanwhile.
    nc, nats_log = NatsClient(), _NatsLog(url)
    connecting = asyncio.create_task(
        nc.connect(
            url,
            connect_timeout=2,
            max_reconnect_attempts=-1,
            reconnect_time_wait=1,
            error_cb=nats_log.error,
            disconnected_cb=nats_log.disconnected,
            reconnected_cb=nats_log.reconnected,
        )
    )
    stopping = asyncio.create_task(stop.wait())
    await asyncio.wait({connecting, stopping}, return_when=asyncio.FIRST_COMPLETED)
    if not connecting.done():
        log.info("stopped before NATS at %s was reachable", url)
        connecting.cancel()
        await asyncio.gather(connecting, return_exceptions=True)
        try:
            await nc.close()
        except Exception:  # noqa: BLE001 - never connected
            pass
        return
    stopping.cancel()
    connecting.result()
    log.info("connected to NATS at %s", url)
    service = await start_flow_service(settings, nc)
    metrics_server = None
    if settings.metrics_port:
        metrics_server = start_metrics_server(service.registry, settings.metrics_port, settings.metrics_host)
    try:
        await stop.wait()
        log.info("shutting down")
    finally:
        await service.stop(settings.shutdown_grace_s)
        if metrics_server is not None:
            metrics_server.stop()
        nats_log.down = True  # the drain's disconnect is expected: keep it out of the warnings
        await nc.drain()


if __name__ == "__main__":
    asyncio.run(main())
