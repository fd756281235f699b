"""equities_svc: lit and off-exchange trades and quotes driven by the shared session state."""
