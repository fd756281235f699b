"""Run the live smart-money flow service: ``python -m flow_svc``."""

from __future__ import annotations

import asyncio
import logging
import signal

import nats

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


async def _on_nats_error(exc: Exception) -> None:
    log.warning("NATS: %s: %s", type(exc).__name__, exc)


async def main() -> None:
    settings = load_settings()
    logging.basicConfig(level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    stop = _stop_on_signal()
    url = settings.nats_url or DEFAULT_NATS_URL
    # Without NATS there is no tape: wait for it (nats-py retries the first connect forever).
    nc = await nats.connect(
        url, connect_timeout=2, max_reconnect_attempts=-1, reconnect_time_wait=1, error_cb=_on_nats_error
    )
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
        await nc.drain()


if __name__ == "__main__":
    asyncio.run(main())
