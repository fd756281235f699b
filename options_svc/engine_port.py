"""The part of the regime engine an options generator reads (the shared library's engine by default)."""

from __future__ import annotations

from typing import Any, Protocol

from synthmarket import engine
from synthmarket.domain.control_timeline import Control


class Engine(Protocol):
    """The part of the regime engine the generator reads."""

    def get_session_state(self, ts: int, control: Control, symbols: Any = None) -> Any: ...

    def get_underlying_state(self, symbol: str, ts: int, control: Control,
                             session_state: Any = None, symbols: Any = None) -> Any: ...

    def get_scenario_weights(self, symbol: str, ts: int, control: Control,
                             session_state: Any = None, symbols: Any = None) -> Any: ...

    def get_coverage_boost(self, profile_id: str, coverage_state: Any, control: Control) -> float: ...


def default_engine() -> Engine:
    return engine
