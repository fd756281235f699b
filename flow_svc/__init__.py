"""flow_svc: the smart-money classifier and its NATS service."""
