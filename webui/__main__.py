"""``python -m webui``: serve the web terminal on WEBUI_HOST:WEBUI_PORT with gunicorn's threaded worker."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
from typing import Any, Callable

from gunicorn.app.base import BaseApplication

from synthmarket.settings import load_settings

from webui.app import create_app, stop_streams
from webui.market_feed import MarketFeed

log = logging.getLogger("webui")

# Each open websocket (two per browser tab) holds one worker thread for its lifetime.
DEFAULT_THREADS = 256


class WebuiServer(BaseApplication):
    """One gunicorn worker: the market feed's NATS connection and its browsers share one process."""

    def __init__(self, app_factory, host: str, port: int, threads: int, log_level: str, on_exit,  # noqa: ANN001
                 on_stop_signal: Callable[[], Any]) -> None:
        # Built inside the worker: threads and sockets opened before the fork would not survive it.
        self._app_factory = app_factory
        self._options = {
            "bind": f"{host}:{port}",
            "workers": 1,
            "worker_class": "gthread",
            "threads": threads,
            "worker_connections": threads * 2,
            "keepalive": 5,
            "graceful_timeout": 5,
            "timeout": 60,
            "loglevel": log_level.lower(),
            "accesslog": None,
            "errorlog": "-",
            "proc_name": "synthmarket-webui",
            # gunicorn's control socket has one fixed default path per user: another gunicorn on
            # the host (the gateway) would fight over it, and nothing here uses it.
            "control_socket_disable": True,
            "worker_exit": lambda _server, _worker: on_exit(),
            "post_worker_init": lambda _worker: _chain_stop_signals(on_stop_signal),
        }
        super().__init__()

    def load_config(self) -> None:
        for key, value in self._options.items():
            if key in self.cfg.settings and value is not None:
                self.cfg.set(key, value)

    def load(self):  # noqa: ANN201
        return self._app_factory()


def _chain_stop_signals(on_stop: Callable[[], Any]) -> None:
    """Run ``on_stop`` before gunicorn's own stop handlers in the worker: open websockets would
    otherwise hold the worker for the whole graceful timeout."""
    for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGQUIT):
        previous = signal.getsignal(signum)

        def handler(sig, frame, previous=previous):  # noqa: ANN001, ANN202
            try:
                on_stop()
            finally:
                if callable(previous):
                    previous(sig, frame)

        signal.signal(signum, handler)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m webui", description=__doc__)
    parser.add_argument("--host", help="bind address (default WEBUI_HOST)")
    parser.add_argument("--port", type=int, help="bind port (default WEBUI_PORT)")
    parser.add_argument("--threads", type=int, default=DEFAULT_THREADS)
    args = parser.parse_args(argv)
    settings = load_settings()
    logging.basicConfig(level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    host = args.host or settings.webui_host
    port = settings.webui_port if args.port is None else args.port
    if settings.public_synthetic_admin and not settings.synthetic_admin_token:
        log.warning("NEXT_PUBLIC_SYNTHETIC_ADMIN=1 but SYNTHETIC_ADMIN_TOKEN is unset: the drawer will show 503")
    feeds: list[MarketFeed] = []
    apps: list[Any] = []

    def build():  # noqa: ANN202
        feed = MarketFeed(settings).start()
        feeds.append(feed)
        app = create_app(settings, market=feed)
        apps.append(app)
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
    WebuiServer(build, host, port, args.threads, settings.log_level, close, stop_websockets).run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
