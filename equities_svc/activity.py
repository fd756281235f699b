"""Trade and quote arrival intensities: intraday U-shape, regime and phase tilts, clustered arrivals."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from synthmarket.domain import rng
from synthmarket.domain.calendar import SESSION_MINUTES
from synthmarket.domain.regimes import Regime
from synthmarket.domain.universe import SymbolSpec

# Per-minute normal horizon: annualised vol / sqrt(252 days * 390 minutes).
MINUTES_PER_YEAR = 252.0 * SESSION_MINUTES

# Mean lit+dark trades per second for a name of average liquidity, before the intraday curve.
BASE_TRADE_RATE = 0.38
# Mean NBBO changes per second for a name of average liquidity at midday.
BASE_QUOTE_RATE = 0.75
# A minute never holds more prints than this per symbol (a runaway cluster is cut, not replayed).
MAX_TRADES_PER_MINUTE = 1500
MAX_QUOTES_PER_MINUTE = 600


@dataclass(frozen=True)
class RegimeActivity:
    """How a regime tilts the tape relative to a typical session."""

    trade_mult: float      # scales the trade arrival rate
    quote_mult: float      # scales the NBBO update rate
    branching: float       # share of trades triggered by an earlier trade (self-excitation)
    off_exchange_shift: float  # added to the off-exchange probability of every print
    sign_persistence: float    # probability a triggered trade keeps its parent's side
    focus_spread_mult: float   # extra quote width on focus / event names


REGIME_ACTIVITY: dict[Regime, RegimeActivity] = {
    Regime.TREND_UP: RegimeActivity(1.05, 1.00, 0.45, 0.00, 0.80, 1.00),
    Regime.TREND_DOWN: RegimeActivity(1.10, 1.05, 0.45, -0.02, 0.80, 1.00),
    Regime.MEAN_REVERT: RegimeActivity(0.95, 1.05, 0.40, 0.02, 0.60, 1.00),
    # Wholesalers internalise the retail surge, so more of it prints off exchange.
    Regime.RETAIL_CHASE: RegimeActivity(1.20, 1.20, 0.60, 0.10, 0.85, 1.15),
    # Event spikes pull liquidity onto lit books: less off-exchange share, wider quotes on the name.
    Regime.EVENT_RAMP: RegimeActivity(1.15, 1.25, 0.55, -0.10, 0.85, 1.20),
    # Dealers hedging around big strikes: choppy two-way flow and a flickering NBBO.
    Regime.DEALER_GAMMA: RegimeActivity(1.05, 1.70, 0.50, -0.03, 0.35, 1.00),
    Regime.ARB_CALM: RegimeActivity(0.80, 0.70, 0.35, 0.03, 0.60, 1.00),
}

PHASE_QUOTE_MULT = {"open": 1.35, "midday": 1.0, "power_hour": 1.15, "after_event": 1.25}
PHASE_TRADE_MULT = {"open": 1.0, "midday": 1.0, "power_hour": 1.0, "after_event": 1.15}
FOCUS_TRADE_MULT = 1.35
EVENT_TRADE_MULT = 1.6
FOCUS_QUOTE_MULT = 1.3


def regime_activity(regime: Regime | str) -> RegimeActivity:
    return REGIME_ACTIVITY[Regime(regime)]


def intraday_curve(minute: np.ndarray | float) -> np.ndarray | float:
    """Relative activity by minute of session: heavy at the open, lighter at midday, up into the close.

    The first 30 minutes average ~1.9x and the last 30 ~2.3x the midday level. The engine's
    volatility already peaks at the open and trade rates follow it (square root), which tips the
    product into the familiar inverse J (Wood, McInish & Ord 1985); the close carries its own
    ramp into the closing auction.
    """
    m = np.asarray(minute, dtype=float)
    return 0.7 + 1.3 * np.exp(-m / 20.0) + 1.8 * np.exp(-(SESSION_MINUTES - 1 - m) / 20.0)


# The curve at each session minute, read once per symbol-minute by the rate functions below.
_CURVE: tuple[float, ...] = tuple(np.asarray(intraday_curve(np.arange(SESSION_MINUTES))).tolist())


def liquidity_weight(spec: SymbolSpec) -> float:
    """Tighter-spread names trade more often (SPY prints far more than BAC per second)."""
    return min(1.8, max(0.6, (1.0 / spec.typical_spread_bps) ** 0.4))


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
    rate = BASE_TRADE_RATE * 60.0 * liquidity_weight(spec) * _CURVE[minute]
    rate *= act.trade_mult * PHASE_TRADE_MULT.get(phase, 1.0)
    if is_event:
        rate *= EVENT_TRADE_MULT
    elif is_focus:
        rate *= FOCUS_TRADE_MULT
    rate *= min(3.0, max(0.4, vol_ratio)) ** 0.5
    rate *= 0.75 + 0.25 * min(4.0, move_z)
    return rate * cox


def quote_rate_per_minute(
    spec: SymbolSpec,
    minute: int,
    regime: Regime | str,
    phase: str,
    *,
    is_focus: bool,
    cleanliness: float,
) -> float:
    """Expected NBBO changes in one minute for one symbol.

    Depends only on the session state (not the price path), so the quote in force at the start
    of any minute can be rebuilt from the previous minute alone.
    """
    act = regime_activity(regime)
    rate = BASE_QUOTE_RATE * 60.0 * liquidity_weight(spec) * _CURVE[minute] ** 0.5
    rate *= act.quote_mult * PHASE_QUOTE_MULT.get(phase, 1.0)
    if is_focus:
        rate *= FOCUS_QUOTE_MULT
    # A dirty quote environment updates less often: quotes go stale rather than flicker.
    rate *= 0.55 + 0.45 * min(1.0, max(0.0, cleanliness))
    return rate
