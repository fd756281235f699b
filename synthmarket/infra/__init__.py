"""Infrastructure shared by the service shells: NATS, KV, streams, metrics, processes and the ingest loop."""
