"""synthmarket shared library: control schema, presets, settings, subjects and deterministic RNG."""

__version__ = "0.1.0"
