"""synthmarket shared library: domain vocabulary, the pure regime engine, settings, names, wire and infra.

It imports no service and not the command line (import-linter contracts in pyproject.toml keep it so).
"""

__version__ = "0.1.0"
