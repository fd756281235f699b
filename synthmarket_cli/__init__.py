"""The command line: `synthmarket up`, `status`, `simulate` and the offline runner (the only place that wires services together)."""
