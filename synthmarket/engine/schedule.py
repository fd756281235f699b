"""The day's regime schedule: a Markov-like chain over 1-minute buckets with irregular dwell times."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from synthmarket.domain import rng
from synthmarket.domain.calendar import SESSION_MINUTES
from synthmarket.domain.presets import PresetSpec
from synthmarket.domain.regimes import REGIME_IDS, Regime
from synthmarket.engine.events import EventSlot

N_REGIMES = len(REGIME_IDS)
REGIMES: tuple[Regime, ...] = tuple(Regime(r) for r in REGIME_IDS)
IDX = {r: i for i, r in enumerate(REGIMES)}

POWER_HOUR_MINUTES = 60       # the last hour before the day's close (13:00 on an early close)
OPEN_MIN_MINUTES = 30
OPEN_MAX_MINUTES = 45

# Gamma dwell times: shape below 2 keeps run lengths clearly irregular (CV ~ 0.7).
DWELL_SHAPE = 1.6
MIN_DWELL = 4
MAX_RUNS = 200
# A regime seen in the last two runs is less likely to come straight back: days wander.
RECENT_PENALTY = 0.5
BIAS_DWELL_POWER = 0.3

# Mean dwell relative to the preset's mean: event ramps and chases burn out faster.
DWELL_FACTOR = {
    Regime.TREND_UP: 1.0, Regime.TREND_DOWN: 0.9, Regime.MEAN_REVERT: 1.1, Regime.RETAIL_CHASE: 0.8,
    Regime.EVENT_RAMP: 0.8, Regime.DEALER_GAMMA: 1.0, Regime.ARB_CALM: 1.2,
}

# Phase tilts on the probability of entering a regime.
_OPEN_TILT = {
    Regime.TREND_UP: 1.4, Regime.TREND_DOWN: 1.4, Regime.MEAN_REVERT: 0.8, Regime.RETAIL_CHASE: 1.6,
    Regime.EVENT_RAMP: 1.0, Regime.DEALER_GAMMA: 0.6, Regime.ARB_CALM: 0.4,
}
_MIDDAY_TILT = {
    Regime.TREND_UP: 1.0, Regime.TREND_DOWN: 1.0, Regime.MEAN_REVERT: 1.3, Regime.RETAIL_CHASE: 0.8,
    Regime.EVENT_RAMP: 1.0, Regime.DEALER_GAMMA: 0.9, Regime.ARB_CALM: 1.5,
}
_POWER_TILT = {
    Regime.TREND_UP: 1.1, Regime.TREND_DOWN: 1.1, Regime.MEAN_REVERT: 0.9, Regime.RETAIL_CHASE: 1.1,
    Regime.EVENT_RAMP: 0.8, Regime.DEALER_GAMMA: 2.2, Regime.ARB_CALM: 0.7,
}


@dataclass(frozen=True)
class RegimeRun:
    index: int
    start: int            # first session minute of the run
    end: int              # exclusive
    regime: Regime
    trend_sign: int       # direction of a trend or chase run (+1 / -1)
    trend_strength: float  # 0.6 .. 1.4, scales the run's drift


def _phase_tilt(minute: int, open_minutes: int, close_minute: int) -> dict[Regime, float]:
    if minute < open_minutes:
        return _OPEN_TILT
    if minute >= close_minute - POWER_HOUR_MINUTES:
        return _POWER_TILT
    return _MIDDAY_TILT


def _event_tilt(minute: int, slots: tuple[EventSlot, ...]) -> tuple[float, float]:
    """(event_ramp tilt, trend tilt) from the distance to the nearest scheduled event."""
    ramp, trend = 0.3, 1.0
    for slot in slots:
        ahead = slot.minute - minute
        if 5 <= ahead <= 60:
            ramp = max(ramp, 4.0)
        elif 0 <= ahead < 5:
            ramp = max(ramp, 2.0)
        elif -20 <= ahead < 0:
            trend = 1.5   # post-gap follow-through
            ramp = max(ramp, 0.8)
    return ramp, trend


def open_minutes(seed: int, ordinal: int) -> int:
    """Length of the opening phase for the day (30-45 minutes)."""
    span = OPEN_MAX_MINUTES - OPEN_MIN_MINUTES + 1
    return OPEN_MIN_MINUTES + int(rng.uniform(seed, ordinal, "open-minutes") * span)


def transition_weights(prev: tuple[Regime, ...], minute: int, open_len: int, close_minute: int, spec: PresetSpec,
                       slots: tuple[EventSlot, ...]) -> np.ndarray:
    """Unnormalised probabilities of the next regime given recent ones, phase, events and preset."""
    tilt = _phase_tilt(minute, open_len, close_minute)
    ramp, trend = _event_tilt(minute, slots)
    w = np.empty(N_REGIMES)
    for i, r in enumerate(REGIMES):
        bias = spec.regime_bias.get(r.value, 1.0)
        x = bias * tilt[r]
        if r is Regime.EVENT_RAMP:
            x *= ramp
        elif r in (Regime.TREND_UP, Regime.TREND_DOWN):
            x *= trend
        if prev and r is prev[-1]:
            x = 0.0
        elif r in prev[-3:-1]:
            # A preset's favoured regimes shake off the recency penalty: the day keeps returning.
            x *= RECENT_PENALTY ** (1.0 / max(bias, 1.0))
        w[i] = x
    return w


def build_runs(seed: int, ordinal: int, spec: PresetSpec, open_len: int, close_minute: int,
               slots: tuple[EventSlot, ...]) -> tuple[RegimeRun, ...]:
    """The day's regime runs, covering minutes 0..SESSION_MINUTES exactly once.

    ``close_minute`` is the day's real close (SESSION_MINUTES, or 210 on an early close): power
    hour's tilt applies in the hour before it. The grid past an early close is never read.
    """
    # One fixed-size batch of draws per day (not per preset) so presets tilt the same dice.
    gen = rng.generator(seed, ordinal, "regime-chain")
    dwell_draws = gen.standard_gamma(DWELL_SHAPE, size=MAX_RUNS)
    choice_draws = gen.random(MAX_RUNS)
    sign_draws = gen.random(MAX_RUNS)
    strength_draws = gen.random(MAX_RUNS)

    runs: list[RegimeRun] = []
    history: tuple[Regime, ...] = ()
    minute = 0
    i = 0
    while minute < SESSION_MINUTES:
        w = transition_weights(history, minute, open_len, close_minute, spec, slots)
        cdf = np.cumsum(w)
        k = int(np.searchsorted(cdf, choice_draws[i] * cdf[-1], side="right"))
        regime = REGIMES[min(k, N_REGIMES - 1)]
        # A favoured regime also lingers a little (bias 3 -> 1.4x dwell), so a preset shows in airtime.
        mean = spec.mean_regime_minutes * DWELL_FACTOR[regime] * spec.regime_bias.get(regime.value, 1.0) ** BIAS_DWELL_POWER
        dwell = max(MIN_DWELL, int(round(dwell_draws[i] * mean / DWELL_SHAPE)))
        end = min(SESSION_MINUTES, minute + dwell)
        if SESSION_MINUTES - end < MIN_DWELL:
            end = SESSION_MINUTES
        if regime is Regime.TREND_UP:
            sign = 1
        elif regime is Regime.TREND_DOWN:
            sign = -1
        else:
            sign = 1 if sign_draws[i] < 0.6 else -1
        runs.append(RegimeRun(i, minute, end, regime, sign, 0.6 + 0.8 * float(strength_draws[i])))
        history = history + (regime,)
        minute = end
        i += 1
    return tuple(runs)


def regime_index_by_minute(runs: tuple[RegimeRun, ...]) -> tuple[np.ndarray, np.ndarray]:
    """Per-minute regime index and run index arrays (length SESSION_MINUTES)."""
    reg = np.empty(SESSION_MINUTES, dtype=np.int8)
    run_of = np.empty(SESSION_MINUTES, dtype=np.int16)
    for run in runs:
        reg[run.start:run.end] = IDX[run.regime]
        run_of[run.start:run.end] = run.index
    return reg, run_of
