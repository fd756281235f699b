"""Run the live smart-money flow service: ``python -m flow_svc`` (live prints only).

``synthmarket flow`` runs the same service with the options tape wired in, so that it starts on
the session so far (see ``flow_svc.backfill``); ``synthmarket up`` and the deployment use that.
"""

from __future__ import annotations

import asyncio
import logging

from flow_svc.backfill import PrintHistory
from flow_svc.service import FlowService, start_flow_service
from synthmarket.infra.metrics import serve_metrics_if_configured
from synthmarket.infra.nats_connection import connect_unless_stopped, drain, identity
from synthmarket.infra.process import settings_or_exit, stop_on_signal

log = logging.getLogger("flow_svc")


async def main(history: PrintHistory | None = None, program: str = "python -m flow_svc") -> None:
    settings = settings_or_exit(program)
    logging.basicConfig(level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    stop = stop_on_signal()
    service: list[FlowService] = []

    def reconnected() -> None:
        if service:
            service[0].nats_reconnected()

    nc = await connect_unless_stopped(settings.nats_url, "flow_svc", stop, reconnected, identity(settings))
    if nc is None:
        return
    # Starting includes the replay of the session so far; a stop signal meanwhile ends it.
    starting = asyncio.create_task(start_flow_service(settings, nc, history=history))
    stopping = asyncio.create_task(stop.wait())
    await asyncio.wait({starting, stopping}, return_when=asyncio.FIRST_COMPLETED)
    if not starting.done():
        starting.cancel()
        await asyncio.gather(starting, return_exceptions=True)
        stopping.cancel()
        await drain(nc)
        return
    service.append(starting.result())
    metrics_server = serve_metrics_if_configured(service[0].registry, settings.metrics_port, settings.metrics_host)
    try:
        await stop.wait()
        log.info("shutting down")
    finally:
        await service[0].stop(settings.shutdown_grace_s)
        if metrics_server is not None:
            metrics_server.stop()
        await drain(nc)


if __name__ == "__main__":
    asyncio.run(main())
