"""``python -m admin_gateway``: serve the gateway on GATEWAY_HOST:GATEWAY_PORT with gunicorn."""

from __future__ import annotations

import argparse
import logging
import sys

from admin_gateway.app import create_app
from admin_gateway.backend import GatewayClients
from admin_gateway.server import DEFAULT_THREADS, GatewayServer, stream_limit
from synthmarket.infra.process import settings_or_exit

log = logging.getLogger("admin_gateway")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m admin_gateway", description=__doc__)
    parser.add_argument("--host", help="bind address (default GATEWAY_HOST)")
    parser.add_argument("--port", type=int, help="bind port (default GATEWAY_PORT)")
    parser.add_argument("--threads", type=int, default=DEFAULT_THREADS,
                        help="worker threads; each open websocket or replay holds one (a few are kept "
                             "for short requests)")
    args = parser.parse_args(argv)
    settings = settings_or_exit("python -m admin_gateway")
    logging.basicConfig(level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    host = args.host or settings.gateway_host
    port = settings.gateway_port if args.port is None else args.port
    if settings.synthetic_control_enabled and not settings.synthetic_admin_token:
        log.warning("SYNTHETIC_CONTROL_ENABLED=1 but SYNTHETIC_ADMIN_TOKEN is unset: every admin call answers 401")
    held: list[GatewayClients] = []

    def build():
        clients = GatewayClients(settings).start()
        held.append(clients)
        return create_app(settings, clients, max_streams=stream_limit(args.threads))

    def close() -> None:
        for clients in held:
            clients.close()

    log.info("gateway on http://%s:%s (admin control %s)", host, port,
             "enabled" if settings.synthetic_control_enabled else "disabled")
    def stop_streams() -> None:
        for clients in held:
            clients.cache.close_all()

    GatewayServer(build, host, port, threads=args.threads, log_level=settings.log_level, on_exit=close,
                  on_stop_signal=stop_streams).run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
