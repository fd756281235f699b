"""The command line: `synthmarket up`, `status`, `simulate` and the offline runner.

The only place that wires several services together; nothing imports it.
"""
