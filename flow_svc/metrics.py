"""The flow service's Prometheus metrics."""

from __future__ import annotations

from dataclasses import dataclass

from prometheus_client import Counter, Gauge, Histogram

from synthmarket.infra.metrics import MetricsRegistry


@dataclass
class FlowMetrics:
    prints_consumed: Counter
    prints_rejected: Counter
    equity_updates: Counter
    events_published: Counter
    events_duplicate: Counter
    publish_errors: Counter
    events_dropped: Counter
    classifier_errors: Counter
    publish_queue: Gauge
    lag_ms: Gauge
    open_clusters: Gauge
    replayed_events: Counter
    event_lag: Histogram

    @classmethod
    def create(cls, registry: MetricsRegistry) -> FlowMetrics:
        return cls(
            prints_consumed=registry.counter("prints_consumed", "Option prints read from NATS"),
            prints_rejected=registry.counter("prints_rejected", "Messages that did not decode as OptionPrint"),
            equity_updates=registry.counter("equity_updates", "Equity trades and quotes read for context"),
            events_published=registry.counter(
                "events_published", "Smart-money events stored in JetStream", ["profile_id"]
            ),
            events_duplicate=registry.counter(
                "events_duplicate", "Publishes JetStream dropped as duplicates (same event id)"
            ),
            publish_errors=registry.counter("publish_errors", "Failed publish attempts (retried)"),
            events_dropped=registry.counter(
                "events_dropped", "Oldest unpublished events dropped while the publish queue was full"
            ),
            classifier_errors=registry.counter("classifier_errors", "Prints or flushes the classifier failed on"),
            publish_queue=registry.gauge("publish_queue", "Events waiting to be published"),
            lag_ms=registry.gauge("lag_ms", "Session-clock now minus the newest print's ts (ms of tape time)"),
            open_clusters=registry.gauge("open_clusters", "Clusters the classifier holds open"),
            replayed_events=registry.counter(
                "replayed_events", "Events of the session so far published at start (the stream lacked them)"
            ),
            event_lag=registry.histogram(
                "event_lag_seconds", "Session time from a live event's last print to its publication",
                buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 30.0, 120.0),
            ),
        )
