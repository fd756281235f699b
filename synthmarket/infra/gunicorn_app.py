"""Serving a Flask app in-process with a bounded gunicorn gthread worker (websockets need the raw socket it exposes)."""

from __future__ import annotations

import signal
from collections.abc import Callable
from typing import Any

from flask import Flask
from gunicorn.app.base import BaseApplication


class ThreadedGunicorn(BaseApplication):
    """gunicorn in-process: one gthread worker process, so in-memory state (caches, feeds and
    their NATS connections) lives in one place."""

    def __init__(self, app_factory: Callable[[], Flask], host: str, port: int, *, threads: int,
                 proc_name: str, graceful_timeout: float, log_level: str = "info",
                 on_exit: Callable[[], Any] | None = None,
                 on_stop_signal: Callable[[], Any] | None = None) -> None:
        # The app (and its connections and threads) is built inside the worker process:
        # threads and sockets opened before gunicorn forks would not survive the fork.
        self._app_factory = app_factory
        self._options: dict[str, Any] = {
            "bind": f"{host}:{port}",
            "workers": 1,
            # gthread with per-address connection caps and timed reads: no client starves the rest.
            "worker_class": "synthmarket.infra.bounded_worker.BoundedThreadWorker",
            "threads": threads,
            # Connections beyond the thread pool wait in keep-alive; keep room for them.
            "worker_connections": threads * 2,
            "keepalive": 5,
            "graceful_timeout": graceful_timeout,
            "timeout": 60,
            "loglevel": log_level.lower(),
            "accesslog": None,
            "errorlog": "-",
            "proc_name": proc_name,
            # gunicorn >= 25 opens a control socket at one fixed path per user: two servers on a
            # host (gateway and web terminal) would fight over it, and nothing here uses it.
            "control_socket_disable": True,
        }
        if on_stop_signal is not None:
            self._options["post_worker_init"] = lambda _worker: chain_stop_signals(on_stop_signal)
        if on_exit is not None:
            self._options["worker_exit"] = lambda _server, _worker: on_exit()
        super().__init__()

    def load_config(self) -> None:
        for key, value in self._options.items():
            if key in self.cfg.settings and value is not None:
                self.cfg.set(key, value)

    def load(self) -> Flask:
        return self._app_factory()


def chain_stop_signals(on_stop: Callable[[], Any]) -> None:
    """Run ``on_stop`` before gunicorn's own stop handlers in the worker.

    Open websockets would otherwise hold the worker for the whole graceful timeout; ending
    them lets each handler return within a second.
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
