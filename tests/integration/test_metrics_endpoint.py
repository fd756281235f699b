"""The metrics endpoint: served when configured, and a busy port never takes a service down."""

from __future__ import annotations

import logging
import socket
import urllib.request

import pytest

from synthmarket.infra.embedded_nats import free_port
from synthmarket.infra.metrics import MetricsRegistry, serve_metrics_if_configured

pytestmark = pytest.mark.integration


def test_no_port_means_no_endpoint():
    assert serve_metrics_if_configured(MetricsRegistry("probe_svc"), 0, "127.0.0.1") is None


def test_a_configured_port_serves_the_registry():
    registry = MetricsRegistry("probe_svc")
    registry.counter("pings", "Pings seen").inc(3)
    server = serve_metrics_if_configured(registry, free_port(), "127.0.0.1")
    assert server is not None
    try:
        body = urllib.request.urlopen(server.url, timeout=5).read().decode()
        assert "synthmarket_probe_svc_pings_total 3.0" in body
    finally:
        server.stop()


def test_a_busy_port_is_logged_and_the_service_carries_on(caplog):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with caplog.at_level(logging.ERROR, logger="synthmarket.infra.metrics"):
            assert serve_metrics_if_configured(MetricsRegistry("probe_svc"), port, "127.0.0.1") is None
    assert any(f"127.0.0.1:{port}" in r.getMessage() for r in caplog.records)
