"""Serving the gateway with gunicorn's threaded worker, and how many of its threads streams may hold."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Flask

from synthmarket.infra.gunicorn_app import ThreadedGunicorn

# Every open websocket holds one worker thread for its lifetime, so the pool is large.
DEFAULT_THREADS = 1024
# Threads kept for short requests (flow, history, admin) however many streams are open.
SHORT_REQUEST_THREADS = 64


def stream_limit(threads: int) -> int:
    """How many websockets and replays may be open at once with ``threads`` worker threads."""
    return max(1, threads - min(SHORT_REQUEST_THREADS, threads // 2))


class GatewayServer(ThreadedGunicorn):
    """One gunicorn worker process: the events cache and its NATS feed live in it."""

    def __init__(self, app_factory: Callable[[], Flask], host: str, port: int, threads: int = DEFAULT_THREADS,
                 log_level: str = "info", on_exit: Callable[[], Any] | None = None,
                 on_stop_signal: Callable[[], Any] | None = None) -> None:
        super().__init__(app_factory, host, port, threads=threads, proc_name="synthmarket-gateway",
                         graceful_timeout=10, log_level=log_level, on_exit=on_exit,
                         on_stop_signal=on_stop_signal)
