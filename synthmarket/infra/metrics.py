"""Prometheus helpers shared by the services: a per-service registry and its HTTP endpoint."""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from wsgiref.simple_server import WSGIServer

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, start_http_server

log = logging.getLogger(__name__)

NAMESPACE = "synthmarket"


@dataclass
class MetricsRegistry:
    """One service's metrics.

    Each service gets its own ``CollectorRegistry`` rather than the process-global one, so two
    services (or two copies of one in a test) can live in one process without name clashes.
    """

    service: str
    registry: CollectorRegistry = field(default_factory=lambda: CollectorRegistry(auto_describe=True))

    def _name(self, name: str) -> str:
        return f"{self.service}_{name}"

    def counter(self, name: str, documentation: str, labels: Sequence[str] = ()) -> Counter:
        return Counter(self._name(name), documentation, list(labels), namespace=NAMESPACE, registry=self.registry)

    def gauge(self, name: str, documentation: str, labels: Sequence[str] = ()) -> Gauge:
        return Gauge(self._name(name), documentation, list(labels), namespace=NAMESPACE, registry=self.registry)

    def histogram(
        self,
        name: str,
        documentation: str,
        labels: Sequence[str] = (),
        buckets: Sequence[float] = Histogram.DEFAULT_BUCKETS,
    ) -> Histogram:
        return Histogram(
            self._name(name),
            documentation,
            list(labels),
            namespace=NAMESPACE,
            registry=self.registry,
            buckets=tuple(buckets),
        )

    def value(self, name: str, labels: dict[str, str] | None = None) -> float | None:
        """Current sample value by full metric name (e.g. ``..._total``); handy in tests and status."""
        return self.registry.get_sample_value(name, labels or {})


@dataclass
class MetricsServer:
    """A running ``/metrics`` HTTP endpoint; ``port`` is the bound port (useful with port 0)."""

    host: str
    port: int
    _httpd: WSGIServer
    _thread: threading.Thread

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}/metrics"

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)


def serve_metrics_if_configured(metrics: MetricsRegistry, port: int, host: str) -> MetricsServer | None:
    """Start the metrics endpoint when a port is set; a busy port is logged, not fatal: the
    service's tape matters more than its metrics."""
    if not port:
        return None
    try:
        return start_metrics_server(metrics, port, host)
    except OSError as exc:
        log.error("metrics for %s not served: cannot listen on %s:%d (%s)", metrics.service, host, port, exc)
        return None


def start_metrics_server(metrics: MetricsRegistry, port: int, host: str = "127.0.0.1") -> MetricsServer:
    """Serve ``metrics`` on ``host:port`` in a daemon thread; port 0 picks a free port."""
    httpd, thread = start_http_server(port, addr=host, registry=metrics.registry)
    bound = int(httpd.server_address[1])
    log.info("metrics for %s on http://%s:%d/metrics", metrics.service, host, bound)
    return MetricsServer(host, bound, httpd, thread)
