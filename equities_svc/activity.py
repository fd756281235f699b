"""Trade arrival intensities: intraday U-shape, regime and phase tilts, clustered arrivals."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from synthmarket.domain import rng
from synthmarket.domain.calendar import SESSION_MINUTES
from synthmarket.domain.regimes import Regime
from synthmarket.domain.universe import SymbolSpec
from synthmarket.engine.nbbo import CURVE, liquidity_weight

# Per-minute normal horizon: annualised vol / sqrt(252 days * 390 minutes).
MINUTES_PER_YEAR = 252.0 * SESSION_MINUTES

# Mean lit+dark trades per second for a name of average liquidity, before the intraday curve.
BASE_TRADE_RATE = 0.38
# A minute never holds more prints than this per symbol (a runaway cluster is cut, not replayed).
MAX_TRADES_PER_MINUTE = 1500


@dataclass(frozen=True)
class RegimeActivity:
    """How a regime tilts the trade tape relative to a typical session (quotes: synthmarket.engine.nbbo)."""

    trade_mult: float      # scales the trade arrival rate
    branching: float       # share of trades triggered by an earlier trade (self-excitation)
    off_exchange_shift: float  # added to the off-exchange probability of every print
    sign_persistence: float    # probability a triggered trade keeps its parent's side


REGIME_ACTIVITY: dict[Regime, RegimeActivity] = {
    Regime.TREND_UP: RegimeActivity(1.05, 0.45, 0.00, 0.80),
    Regime.TREND_DOWN: RegimeActivity(1.10, 0.45, -0.02, 0.80),
    Regime.MEAN_REVERT: RegimeActivity(0.95, 0.40, 0.02, 0.60),
    # Wholesalers internalise the retail surge, so more of it prints off exchange.
    Regime.RETAIL_CHASE: RegimeActivity(1.20, 0.60, 0.10, 0.85),
    # Event spikes pull liquidity onto lit books: less off-exchange share.
    Regime.EVENT_RAMP: RegimeActivity(1.15, 0.55, -0.10, 0.85),
    # Dealers hedging around big strikes: choppy two-way flow.
    Regime.DEALER_GAMMA: RegimeActivity(1.05, 0.50, -0.03, 0.35),
    Regime.ARB_CALM: RegimeActivity(0.80, 0.35, 0.03, 0.60),
}

PHASE_TRADE_MULT = {"open": 1.0, "midday": 1.0, "power_hour": 1.0, "after_event": 1.15}
FOCUS_TRADE_MULT = 1.35
EVENT_TRADE_MULT = 1.6


def regime_activity(regime: Regime | str) -> RegimeActivity:
    return REGIME_ACTIVITY[Regime(regime)]


def minute_sigma(annual_vol: float) -> float:
    return annual_vol / math.sqrt(MINUTES_PER_YEAR)


COX_WEIGHT = 0.30


def cox_factors(seed: int, day: int, symbol: str, minutes: Sequence[int]) -> list[float]:
    """Mean-one lognormal activity shocks with memory across 1, 5 and 30 minute scales.

    Each scale is keyed by its own bucket, so the factor at any minute is computable without
    replaying the day, and neighbouring minutes share the slower components (clustered volume).
    """
    slow: dict[tuple[str, int], float] = {}

    def bucket(scale: str, index: int) -> float:
        key = (scale, index)
        if key not in slow:
            slow[key] = rng.normal(seed, day, symbol, scale, index)
        return slow[key]

    half_var = 0.5 * 3 * COX_WEIGHT**2
    return [
        math.exp(
            COX_WEIGHT * (rng.normal(seed, day, symbol, "cox1", m) + bucket("cox5", m // 5) + bucket("cox30", m // 30))
            - half_var
        )
        for m in minutes
    ]


def trade_rate_per_minute(
    spec: SymbolSpec,
    minute: int,
    regime: Regime | str,
    phase: str,
    *,
    is_focus: bool,
    is_event: bool,
    vol_ratio: float,
    move_z: float,
    cox: float,
) -> float:
    """Expected trades in one minute for one symbol.

    ``vol_ratio`` is the engine's current volatility over the name's normal volatility and
    ``move_z`` the minute's absolute move in normal-minute standard deviations: busy, moving
    markets print more (the volume-volatility relation).
    """
    act = regime_activity(regime)
    rate = BASE_TRADE_RATE * 60.0 * liquidity_weight(spec) * CURVE[minute]
    rate *= act.trade_mult * PHASE_TRADE_MULT.get(phase, 1.0)
    if is_event:
        rate *= EVENT_TRADE_MULT
    elif is_focus:
        rate *= FOCUS_TRADE_MULT
    rate *= min(3.0, max(0.4, vol_ratio)) ** 0.5
    rate *= 0.75 + 0.25 * min(4.0, move_z)
    return rate * cox


def typical_session_trades(spec: SymbolSpec, minutes: int) -> float:
    """Trades a session of ``minutes`` holds at typical activity (every tilt at its mean of about 1)."""
    return BASE_TRADE_RATE * 60.0 * liquidity_weight(spec) * sum(CURVE[:minutes])
