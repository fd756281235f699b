"""Run the live smart-money flow service: ``python -m flow_svc``."""

from __future__ import annotations

import asyncio
import logging

from flow_svc.service import start_flow_service
from synthmarket.metrics import serve_metrics_if_configured
from synthmarket.process import DEFAULT_NATS_URL, connect_unless_stopped, drain_nats, settings_or_exit, stop_on_signal

log = logging.getLogger("flow_svc")


async def main() -> None:
    settings = settings_or_exit("python -m flow_svc")
    logging.basicConfig(level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    stop = stop_on_signal()
    nc = await connect_unless_stopped(settings.nats_url or DEFAULT_NATS_URL, "flow_svc", stop)
    if nc is None:
        return
    service = await start_flow_service(settings, nc)
    metrics_server = serve_metrics_if_configured(service.registry, settings.metrics_port, settings.metrics_host)
    try:
        await stop.wait()
        log.info("shutting down")
    finally:
        await service.stop(settings.shutdown_grace_s)
        if metrics_server is not None:
            metrics_server.stop()
        await drain_nats(nc)


if __name__ == "__main__":
    asyncio.run(main())
