"""Value types the regime engine returns: session, underlying, scenario weights, coverage."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from synthmarket.domain.regimes import Regime, SessionPhase

__all__ = [
    "MAX_COVERAGE_BOOST",
    "CoverageState",
    "ScenarioWeights",
    "SessionState",
    "UnderlyingState",
]


@dataclass(frozen=True)
class SessionState:
    """Market-wide latent state at one instant. Identical for identical (ts, control)."""

    ts: int                        # epoch ms UTC
    session_phase: SessionPhase
    regime: Regime
    volatility_level: float        # multiplier on a name's normal volatility (1.0 = typical)
    liquidity_level: float         # 0..1, 1 = deep book
    quote_cleanliness: float       # 0..1, 1 = every quote fresh and tight
    focus_symbols: tuple[str, ...]
    event_symbols: tuple[str, ...]
    seed_bucket: int               # index of the regime time bucket the ts falls in
    regime_started_ms: int = 0     # when the current regime run began
    regime_ends_ms: int = 0        # when it ends (exclusive)
    minute_of_session: float = 0.0


@dataclass(frozen=True)
class UnderlyingState:
    """One symbol at one instant, driven by the session state."""

    symbol: str
    ts: int
    price: float                   # mid price, USD
    bid: float
    ask: float
    spread_bps: float
    volatility: float              # instantaneous annualised volatility
    drift_bps_per_min: float       # the regime's current drift for this name
    underlying_move_bps: float     # move over the trailing minute
    nbbo_spread_z: float           # spread versus the name's typical spread, as a z-score
    execution_iv_shock: float      # additive shock to implied vol at execution (vol points, 0.02 = 2 vols)
    atm_iv: float                  # at-the-money implied volatility (annualised)
    skew: float                    # put-skew slope: IV change per unit of log-moneyness (negative = put skew)
    is_focus: bool = False
    is_event: bool = False


@dataclass(frozen=True)
class ScenarioWeights:
    """Relative weights over the seven scenario families for one symbol at one instant."""

    symbol: str
    ts: int
    weights: Mapping[str, float]   # family id -> weight >= 0 (six public profiles + neutral_noise)
    intensity: float               # expected scenario arrivals per minute for this symbol

    @property
    def labeled_share(self) -> float:
        total = sum(self.weights.values())
        if total <= 0:
            return 0.0
        return 1.0 - self.weights.get("neutral_noise", 0.0) / total


# A missing profile's weight is multiplied by at most this factor.
MAX_COVERAGE_BOOST = 3.0


@dataclass(frozen=True)
class CoverageState:
    """Rolling per-profile hits over the coverage window, as seen by one generator."""

    now_ms: int
    window_minutes: int
    hits: Mapping[str, int] = field(default_factory=lambda: MappingProxyType({}))
    last_seen_ms: Mapping[str, int] = field(default_factory=lambda: MappingProxyType({}))
