"""Run the regime gRPC server: ``python -m regime_svc``."""

from __future__ import annotations

import asyncio
import logging

from regime_svc.server import serve
from synthmarket.infra.metrics import MetricsRegistry, serve_metrics_if_configured
from synthmarket.infra.process import settings_or_exit, stop_on_signal

log = logging.getLogger("regime_svc")


async def main() -> None:
    settings = settings_or_exit("python -m regime_svc")
    logging.basicConfig(level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    stop = stop_on_signal()
    # serve() owns the NATS connection: it connects in the background (retrying while NATS is
    # down, serving the default control meanwhile) and drains it on stop.
    server = await serve(settings)
    metrics_server = None
    if settings.metrics_port:
        metrics = MetricsRegistry("regime_svc")
        metrics.gauge("active_streams", "Open StreamSessionState calls").set_function(
            lambda: server.servicer.active_streams
        )
        metrics.gauge("control_revision", "KV revision of the control in force (0 = defaults)").set_function(
            lambda: server.control.wire_revision
        )
        metrics_server = serve_metrics_if_configured(metrics, settings.metrics_port, settings.metrics_host)
    try:
        await stop.wait()
        log.info("shutting down")
    finally:
        # Reverse order of start: stop taking calls (grace for open ones), then drain NATS.
        await server.stop(settings.shutdown_grace_s)
        if metrics_server is not None:
            metrics_server.stop()


if __name__ == "__main__":
    asyncio.run(main())
