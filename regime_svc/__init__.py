"""regime_svc: the single source of session state (pure engine + gRPC server)."""
