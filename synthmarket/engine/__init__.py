"""The pure, deterministic regime engine: session, underlying, scenario weights and coverage boost at any ts.

No I/O and no clock: time, control and universe are arguments. ``regime_svc`` serves it over gRPC;
the ingest services and the offline runner call it in-process, so every process agrees.
"""

from synthmarket.engine.regime_engine import (
    OutsideSessionError,
    RegimeEngine,
    clear_caches,
    engine_for,
    get_coverage_boost,
    get_scenario_weights,
    get_session_state,
    get_underlying_state,
    underlying_path,
)

__all__ = [
    "OutsideSessionError",
    "RegimeEngine",
    "clear_caches",
    "engine_for",
    "get_coverage_boost",
    "get_scenario_weights",
    "get_session_state",
    "get_underlying_state",
    "underlying_path",
]
