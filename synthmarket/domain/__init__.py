"""The market vocabulary every service shares: control, presets, regimes, universe, calendar, chain, records."""
