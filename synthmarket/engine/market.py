"""Market-wide arrays of one day: phases, volatility, liquidity, quote cleanliness, the market factor."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from synthmarket.domain import rng
from synthmarket.domain.calendar import SESSION_MINUTES, session_minutes
from synthmarket.domain.presets import PresetSpec, SyntheticControlPresetId, preset_spec
from synthmarket.domain.regimes import Regime, SessionPhase
from synthmarket.engine.events import EventSlot, event_slots
from synthmarket.engine.schedule import (
    POWER_HOUR_MINUTES,
    REGIMES,
    RegimeRun,
    build_runs,
    open_minutes,
    regime_index_by_minute,
)

PHASES: tuple[SessionPhase, ...] = (
    SessionPhase.OPEN, SessionPhase.MIDDAY, SessionPhase.POWER_HOUR, SessionPhase.AFTER_EVENT,
)
PH_OPEN, PH_MIDDAY, PH_POWER, PH_AFTER = range(4)

MINUTES_PER_YEAR = 252 * SESSION_MINUTES
MARKET_ANNUAL_VOL = 0.15   # the market factor is in SPY units (beta 1)
T_NU = 4.0                 # Student-t degrees of freedom of 1-minute innovations
T_CLIP = 12.0
# Persistent log-volatility factor of the day (volatility clustering).
LOGVOL_SD = 0.45
LOGVOL_PHI = 0.985


def _by_regime(table: dict[Regime, float]) -> np.ndarray:
    return np.array([table[r] for r in REGIMES])


# Level of each regime; smoothed over a few minutes so transitions are not a cliff.
REGIME_VOL = _by_regime({
    Regime.TREND_UP: 1.05, Regime.TREND_DOWN: 1.2, Regime.MEAN_REVERT: 0.9, Regime.RETAIL_CHASE: 1.35,
    Regime.EVENT_RAMP: 1.15, Regime.DEALER_GAMMA: 0.95, Regime.ARB_CALM: 0.7,
})
REGIME_LIQUIDITY = _by_regime({
    Regime.TREND_UP: 0.76, Regime.TREND_DOWN: 0.7, Regime.MEAN_REVERT: 0.84, Regime.RETAIL_CHASE: 0.5,
    Regime.EVENT_RAMP: 0.58, Regime.DEALER_GAMMA: 0.74, Regime.ARB_CALM: 0.94,
})
REGIME_CLEAN = _by_regime({
    Regime.TREND_UP: 0.86, Regime.TREND_DOWN: 0.8, Regime.MEAN_REVERT: 0.9, Regime.RETAIL_CHASE: 0.62,
    Regime.EVENT_RAMP: 0.7, Regime.DEALER_GAMMA: 0.85, Regime.ARB_CALM: 0.97,
})
# Mean-reversion speed per minute towards the level where the run began (pinning, chop).
REGIME_KAPPA = _by_regime({
    Regime.TREND_UP: 0.0, Regime.TREND_DOWN: 0.0, Regime.MEAN_REVERT: 0.08, Regime.RETAIL_CHASE: 0.0,
    Regime.EVENT_RAMP: 0.0, Regime.DEALER_GAMMA: 0.12, Regime.ARB_CALM: 0.03,
})
# Share of the previous minute's shock given back this minute (an MA(1) term). Dealers long gamma
# sell what just rallied and buy what just fell, so consecutive 1-minute returns change sign more
# often; in trends and chases short gamma and momentum traders push the other way and part of the
# shock carries on (negative values). Over a session the two roughly cancel, so 1-minute returns
# stay close to unpredictable on average while the regimes feel different.
REGIME_REVERSAL = _by_regime({
    Regime.TREND_UP: -0.12, Regime.TREND_DOWN: -0.12, Regime.MEAN_REVERT: 0.0, Regime.RETAIL_CHASE: -0.05,
    Regime.EVENT_RAMP: 0.0, Regime.DEALER_GAMMA: 0.2, Regime.ARB_CALM: 0.0,
})
# Market drift in units of the market's per-minute sigma.
TREND_DRIFT_SIGMA = 0.09


def u_shape(minutes: np.ndarray) -> np.ndarray:
    """Intraday volatility seasonality, normalised to mean 1 over the session (high open, raised close)."""
    def raw(m: np.ndarray) -> np.ndarray:
        return 0.75 + 1.5 * np.exp(-m / 30.0) + 0.5 * np.exp(-(SESSION_MINUTES - m) / 35.0)

    return raw(minutes) / np.mean(raw(np.arange(SESSION_MINUTES) + 0.5))


def smooth(x: np.ndarray, alpha: float) -> np.ndarray:
    """Causal exponential smoothing (x[0] as the start)."""
    values = x.tolist()
    out = []
    acc = values[0]
    for v in values:
        acc = acc + alpha * (v - acc)
        out.append(acc)
    return np.array(out)


def ar1(innov: np.ndarray, phi: float, start: float) -> np.ndarray:
    out = []
    acc = start
    for e in innov.tolist():
        acc = phi * acc + e
        out.append(acc)
    return np.array(out)


def student_t(gen: np.random.Generator, size: int) -> np.ndarray:
    """Unit-variance Student-t draws (clipped far out so one draw cannot wreck a day)."""
    z = gen.standard_t(T_NU, size=size) / math.sqrt(T_NU / (T_NU - 2.0))
    return np.clip(z, -T_CLIP, T_CLIP)


@dataclass(frozen=True)
class MarketDay:
    ordinal: int
    seed: int
    spec: PresetSpec
    open_minutes: int
    slots: tuple[EventSlot, ...]
    runs: tuple[RegimeRun, ...]
    regime_idx: np.ndarray       # int8[390]
    run_of: np.ndarray           # int16[390]
    phase: np.ndarray            # int8[390]
    vol_level: np.ndarray        # float[391]: session volatility multiplier at each minute mark
    liquidity: np.ndarray        # float[391]
    cleanliness: np.ndarray      # float[391]
    kappa: np.ndarray            # float[390]
    reversal: np.ndarray         # float[390], share of the previous minute's shock given back
    market_sigma: np.ndarray     # float[390]: per-minute sigma of the market factor (log units)
    market_drift: np.ndarray     # float[390]
    market_log: np.ndarray       # float[391]: cumulative market factor, 0 at the open
    regime_vol: np.ndarray       # float[390]: smoothed regime volatility level


def _phases(open_len: int, close_minute: int, slots: tuple[EventSlot, ...]) -> np.ndarray:
    phase = np.full(SESSION_MINUTES, PH_MIDDAY, dtype=np.int8)
    phase[:open_len] = PH_OPEN
    phase[close_minute - POWER_HOUR_MINUTES:] = PH_POWER
    for slot in slots:
        phase[slot.minute:min(SESSION_MINUTES, slot.minute + slot.after_minutes)] = PH_AFTER
    return phase


def _market_factor(seed: int, ordinal: int, runs: tuple[RegimeRun, ...], sigma: np.ndarray,
                   kappa: np.ndarray, reversal: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-minute drift and the cumulative market factor (log, 0 at the open).

    Student-t innovations scaled by the session volatility, drift in trends (and a mild lift in
    chases), a pull towards the run's starting level in dealer_gamma / mean_revert, and part of
    the previous minute's shock given back where dealers hedge against the move.
    """
    drift = np.zeros(SESSION_MINUTES)
    for run in runs:
        if run.regime in (Regime.TREND_UP, Regime.TREND_DOWN):
            drift[run.start:run.end] = run.trend_sign * run.trend_strength * TREND_DRIFT_SIGMA
        elif run.regime is Regime.RETAIL_CHASE:
            drift[run.start:run.end] = 0.4 * run.trend_strength * TREND_DRIFT_SIGMA
    drift = drift * sigma
    z = student_t(rng.generator(seed, ordinal, "market-returns"), SESSION_MINUTES)
    levels = [0.0]
    run_starts = {run.start for run in runs}
    acc = anchor = shock = 0.0
    for m, (d, s, e, k, rev) in enumerate(zip(drift.tolist(), sigma.tolist(), z.tolist(), kappa.tolist(),
                                              reversal.tolist())):
        if m in run_starts:
            anchor = acc
        acc = acc + d + s * e - k * (acc - anchor) - rev * shock
        shock = s * e
        levels.append(acc)
    return drift, np.array(levels)


@lru_cache(maxsize=64)
def market_day(ordinal: int, seed: int, preset_id: SyntheticControlPresetId) -> MarketDay:
    """The day's market-wide arrays, on the full 390-minute grid whatever the day's length.

    On an early close the schedule follows the real close: events happen before it and power
    hour is the hour up to it. The minutes after it are computed but never read: the engine
    answers only inside the session and the generators stop at the close.
    """
    spec = preset_spec(preset_id)
    close_minute = session_minutes(dt.date.fromordinal(ordinal))
    open_len = open_minutes(seed, ordinal)
    slots = event_slots(seed, ordinal, spec.events_per_session, close_minute)
    runs = build_runs(seed, ordinal, spec, open_len, close_minute, slots)
    reg, run_of = regime_index_by_minute(runs)
    phase = _phases(open_len, close_minute, slots)

    minutes = np.arange(SESSION_MINUTES + 1, dtype=float)
    reg_ext = np.append(reg, reg[-1])
    # Slowly varying log-volatility factor: the day's own clustering on top of regime levels.
    gen = rng.generator(seed, ordinal, "market-vol")
    h0 = LOGVOL_SD * float(gen.standard_normal())
    h = ar1(LOGVOL_SD * math.sqrt(1 - LOGVOL_PHI**2) * gen.standard_normal(SESSION_MINUTES + 1), LOGVOL_PHI, h0)
    regime_vol = smooth(REGIME_VOL[reg_ext], 0.3)
    vol_level = spec.volatility_mult * u_shape(minutes) * regime_vol * np.exp(h - 0.5 * LOGVOL_SD**2)

    after = np.append(phase, phase[-1]) == PH_AFTER
    open_drag = 1.0 - 0.4 * np.exp(-minutes / 12.0)
    liquidity = smooth(REGIME_LIQUIDITY[reg_ext], 0.3) * open_drag * np.where(after, 0.88, 1.0)
    liquidity = np.clip(liquidity * np.exp(-0.25 * np.maximum(h, 0.0)), 0.05, 1.0)

    noise = rng.generator(seed, ordinal, "market-clean").standard_normal(SESSION_MINUTES + 1)
    clean = smooth(REGIME_CLEAN[reg_ext], 0.3) * (1.0 - 0.3 * np.exp(-minutes / 10.0))
    clean = clean * np.where(after, 0.85, 1.0) - 0.1 * np.maximum(h, 0.0) + 0.025 * noise
    clean = np.clip(clean, 0.05, 1.0)

    sigma = MARKET_ANNUAL_VOL / math.sqrt(MINUTES_PER_YEAR) * vol_level[:SESSION_MINUTES]
    kappa = REGIME_KAPPA[reg]
    reversal = REGIME_REVERSAL[reg]
    drift, mlog = _market_factor(seed, ordinal, runs, sigma, kappa, reversal)
    return MarketDay(
        ordinal=ordinal, seed=seed, spec=spec, open_minutes=open_len, slots=slots, runs=runs,
        regime_idx=reg, run_of=run_of, phase=phase, vol_level=vol_level, liquidity=liquidity,
        cleanliness=clean, kappa=kappa, reversal=reversal, market_sigma=sigma, market_drift=drift, market_log=mlog,
        regime_vol=regime_vol[:SESSION_MINUTES],
    )
