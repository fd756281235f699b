"""Run the live smart-money flow service: ``python -m flow_svc``."""

from __future__ import annotations

import asyncio
import logging

from flow_svc.service import start_flow_service
from synthmarket.infra.metrics import serve_metrics_if_configured
from synthmarket.infra.nats_connection import connect_unless_stopped, drain, identity
from synthmarket.infra.process import settings_or_exit, stop_on_signal

log = logging.getLogger("flow_svc")


async def main() -> None:
    settings = settings_or_exit("python -m flow_svc")
    logging.basicConfig(level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    stop = stop_on_signal()
    nc = await connect_unless_stopped(settings.nats_url, "flow_svc", stop, credentials=identity(settings))
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
        await drain(nc)


if __name__ == "__main__":
    asyncio.run(main())
