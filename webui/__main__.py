"""``python -m webui``: serve the web terminal on WEBUI_HOST:WEBUI_PORT with gunicorn's threaded worker."""

from __future__ import annotations

import argparse
import logging
import sys
from typing import Any

from synthmarket.infra.gunicorn_app import ThreadedGunicorn
from synthmarket.infra.process import settings_or_exit
from webui.app import create_app, stop_streams
from webui.market_feed import MarketFeed
from webui.operator_auth import print_signin_link

log = logging.getLogger("webui")

# Each open websocket (two per browser tab) holds one worker thread for its lifetime.
DEFAULT_THREADS = 256


def link_base(host: str, port: int, allowed_hosts: tuple[str, ...]) -> str:
    """Where a browser on this machine reaches a server bound to ``host``."""
    if host in ("", "0.0.0.0", "::"):
        # Bound everywhere: name a host the server answers to (ALLOWED_HOSTS), loopback by default.
        host = next((h for h in allowed_hosts if not h.startswith(".")), "127.0.0.1")
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m webui", description=__doc__)
    parser.add_argument("--host", help="bind address (default WEBUI_HOST)")
    parser.add_argument("--port", type=int, help="bind port (default WEBUI_PORT)")
    parser.add_argument("--threads", type=int, default=DEFAULT_THREADS,
                        help="worker threads; each open websocket holds one")
    args = parser.parse_args(argv)
    settings = settings_or_exit("python -m webui")
    logging.basicConfig(level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    host = args.host or settings.webui_host
    port = settings.webui_port if args.port is None else args.port
    if settings.public_synthetic_admin and not settings.synthetic_admin_token:
        log.warning("NEXT_PUBLIC_SYNTHETIC_ADMIN=1 but SYNTHETIC_ADMIN_TOKEN is unset: the drawer will show 503")
    if settings.public_synthetic_admin and not settings.session_secret:
        log.info("SYNTH_SESSION_SECRET is unset: operator sessions are signed with a key made at start "
                 "and end when the web terminal restarts")
    feeds: list[MarketFeed] = []
    apps: list[Any] = []

    def build():
        feed = MarketFeed(settings).start()
        feeds.append(feed)
        app = create_app(settings, market=feed)
        apps.append(app)
        if settings.public_synthetic_admin:
            # Made in the worker that serves it, so a restarted worker prints a fresh link
            # rather than honouring one it cannot know was used.
            print_signin_link(app, link_base(host, port, settings.allowed_hosts))
        return app

    def stop_websockets() -> None:
        for app in apps:
            stop_streams(app)

    def close() -> None:
        for feed in feeds:
            feed.drop_all()
            feed.close()

    log.info("web terminal on http://%s:%s (gateway %s, operator drawer %s)", host, port,
             settings.public_api_url, "on" if settings.public_synthetic_admin else "off")
    # One worker process: the market feed's NATS connection and its browsers share it.
    ThreadedGunicorn(build, host, port, threads=args.threads, proc_name="synthmarket-webui", graceful_timeout=5,
                     log_level=settings.log_level, on_exit=close, on_stop_signal=stop_websockets).run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
