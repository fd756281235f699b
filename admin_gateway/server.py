"""Serving the gateway with gunicorn's threaded worker (websockets need the raw socket it exposes)."""

from __future__ import annotations

import logging
import signal
from typing import Any, Callable

from flask import Flask
from gunicorn.app.base import BaseApplication

log = logging.getLogger(__name__)

# Every open websocket holds one worker thread for its lifetime, so the pool is large.
DEFAULT_THREADS = 1024
# Threads kept for short requests (flow, history, admin) however many streams are open.
SHORT_REQUEST_THREADS = 64


def stream_limit(threads: int) -> int:
    """How many websockets and replays may be open at once with ``threads`` worker threads."""
    return max(1, threads - min(SHORT_REQUEST_THREADS, threads // 2))


class GatewayServer(BaseApplication):
    """gunicorn in-process: one worker process (the events cache and its NATS feed live in it)."""

    def __init__(self, app_factory: Callable[[], Flask], host: str, port: int, threads: int = DEFAULT_THREADS,
                 log_level: str = "info", on_exit: Callable[[], Any] | None = None,
                 on_stop_signal: Callable[[], Any] | None = None) -> None:
        # The app (and its NATS connection and threads) is built inside the worker process:
        # threads and sockets opened before gunicorn forks would not survive the fork.
        self._app_factory = app_factory
        self._options = {
            "bind": f"{host}:{port}",
            "workers": 1,
            "worker_class": "gthread",
            "threads": threads,
            # Connections beyond the thread pool wait in keep-alive; keep room for them.
            "worker_connections": threads * 2,
            "keepalive": 5,
            "graceful_timeout": 10,
            "timeout": 60,
            "loglevel": log_level.lower(),
            "accesslog": None,
            "errorlog": "-",
            "proc_name": "synthmarket-gateway",
            # gunicorn >= 25 opens a control socket under $HOME by default; the gateway needs none.
            "control_socket_disable": True,
        }
        if on_stop_signal is not None:
            self._options["post_worker_init"] = lambda worker: _chain_stop_signals(on_stop_signal)
        if on_exit is not None:
            self._options["worker_exit"] = lambda _server, _worker: on_exit()
        super().__init__()

    def load_config(self) -> None:  # noqa: D102 - gunicorn hook
        for key, value in self._options.items():
            if key in self.cfg.settings and value is not None:
                self.cfg.set(key, value)

    def load(self) -> Flask:
        return self._app_factory()


def _chain_stop_signals(on_stop: Callable[[], Any]) -> None:
    """Run ``on_stop`` before gunicorn's own stop handlers in the worker.

    Open websockets would otherwise hold the worker for the whole graceful timeout; ending
    their subscriptions lets each handler return within a second.
    """
    for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGQUIT):
        previous = signal.getsignal(signum)

        def handler(sig, frame, previous=previous):
            try:
                on_stop()
            finally:
                if callable(previous):
                    previous(sig, frame)

        signal.signal(signum, handler)
