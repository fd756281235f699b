"""Stylized facts of the synthetic price paths (fixed seeds, pooled measures stated per test)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from synthmarket.domain.calendar import SESSION_MINUTES, trading_day
from synthmarket.domain.control import SyntheticControlState
from synthmarket.domain.presets import SyntheticControlPresetId as Preset
from synthmarket.domain.regimes import Regime
from synthmarket.domain.universe import DEFAULT_SYMBOLS, UNIVERSE
from synthmarket.engine.regime_engine import get_session_state, get_underlying_state, underlying_path

DAY = trading_day(dt.date(2026, 11, 24))
SEEDS = tuple(range(5100, 5110))
MINUTE = 60_000
MINUTE_TS = DAY.open_ms + np.arange(SESSION_MINUTES + 1) * MINUTE


def acf(x: np.ndarray, lag: int) -> float:
    x = x - x.mean()
    return float((x[:-lag] * x[lag:]).sum() / (x * x).sum())


@pytest.fixture(scope="module")
def returns() -> dict[tuple[int, str], np.ndarray]:
    """1-minute log returns of ``price`` over a full balanced_demo session: 10 seeds x 20 symbols."""
    out = {}
    for seed in SEEDS:
        control = SyntheticControlState(shared_seed=seed)
        for sym in DEFAULT_SYMBOLS:
            out[seed, sym] = np.diff(np.log(underlying_path(sym, MINUTE_TS, control)["price"]))
    return out


def test_heavy_tails(returns):
    # Each symbol-day standardised by its own std, then pooled (200 series x 390 returns).
    z = np.concatenate([(r - r.mean()) / r.std() for r in returns.values()])
    pooled = float(np.mean(z**4) - 3.0)
    per_day = [float(np.mean(((r - r.mean()) / r.std()) ** 4) - 3.0) for r in returns.values()]
    assert pooled >= 4.0, f"pooled excess kurtosis {pooled:.1f} (bound 4)"
    assert np.median(per_day) >= 4.0, f"median per symbol-day excess kurtosis {np.median(per_day):.1f} (bound 4)"


def test_no_linear_autocorrelation(returns):
    # Lag-1 ACF averaged over the 200 symbol-days must stay within +-0.1 (single days are noisy
    # with fat tails); at least 80% of single symbol-days are inside +-0.15.
    rho = np.array([acf(r, 1) for r in returns.values()])
    assert abs(rho.mean()) < 0.1, rho.mean()
    assert np.mean(np.abs(rho) < 0.15) >= 0.8
    assert abs(np.mean([acf(r, 5) for r in returns.values()])) < 0.05


def test_volatility_clusters(returns):
    # Mean ACF of |r| over lags 1-10, averaged over symbol-days, above 0.08.
    clustering = np.mean([np.mean([acf(np.abs(r), k) for k in range(1, 11)]) for r in returns.values()])
    assert clustering > 0.08, clustering


def test_intraday_u_shape(returns):
    # Mean |r| (relative to each day's mean) in the first and last 30 minutes vs 12:00-14:00.
    rel = np.array([np.abs(r) / np.abs(r).mean() for r in returns.values()])
    first, mid, last = rel[:, :30].mean(), rel[:, 150:270].mean(), rel[:, -30:].mean()
    assert first > 1.5 * mid, (first, mid)
    assert last > 1.1 * mid, (last, mid)
    control = SyntheticControlState(shared_seed=SEEDS[0])
    spread_open = np.mean([underlying_path(s, MINUTE_TS[:15], control)["spread_bps"].mean() for s in DEFAULT_SYMBOLS])
    spread_mid = np.mean([underlying_path(s, MINUTE_TS[150:270], control)["spread_bps"].mean() for s in DEFAULT_SYMBOLS])
    assert spread_open > 1.3 * spread_mid, "spreads are wider at the open"


def test_spreads_are_realistic():
    control = SyntheticControlState(shared_seed=SEEDS[1])
    for sym in DEFAULT_SYMBOLS:
        path = underlying_path(sym, MINUTE_TS, control)
        ratio = np.median(path["spread_bps"]) / UNIVERSE[sym].typical_spread_bps
        assert 0.6 < ratio < 2.0, (sym, ratio)
        assert np.all(path["ask"] > path["bid"])
    spy = underlying_path("SPY", MINUTE_TS, control)["spread_bps"]
    bac = underlying_path("BAC", MINUTE_TS, control)["spread_bps"]
    assert np.median(spy) < 1.0 < np.median(bac) < 10.0


def _drifts_by_regime(preset: Preset) -> dict[Regime, list[float]]:
    out: dict[Regime, list[float]] = {r: [] for r in Regime}
    for seed in SEEDS:
        control = SyntheticControlState(shared_seed=seed, preset_id=preset)
        spy = underlying_path("SPY", MINUTE_TS, control)["price"]
        for m in range(0, SESSION_MINUTES, 2):
            state = get_session_state(int(MINUTE_TS[m]), control)
            out[state.regime].append(float(np.log(spy[m + 1] / spy[m])))
    return out


def test_trends_drift_and_calm_is_quiet():
    moves = _drifts_by_regime(Preset.BALANCED_DEMO)
    up, down = np.mean(moves[Regime.TREND_UP]), np.mean(moves[Regime.TREND_DOWN])
    assert up > 0 > down, (up, down)
    calm = np.std(moves[Regime.ARB_CALM])
    chase = np.std(moves[Regime.RETAIL_CHASE])
    assert calm < chase, "arb_calm is quieter than retail_chase"


def test_options_facing_fields_follow_the_regime():
    shocks: dict[Regime, list[float]] = {r: [] for r in Regime}
    skews: dict[Regime, list[float]] = {r: [] for r in Regime}
    for seed in SEEDS[:5]:
        control = SyntheticControlState(shared_seed=seed)
        for m in range(0, SESSION_MINUTES, 3):
            ts = int(MINUTE_TS[m]) + 17_000
            state = get_session_state(ts, control)
            for sym in state.focus_symbols:
                u = get_underlying_state(sym, ts, control, state)
                shocks[state.regime].append(u.execution_iv_shock)
                skews[state.regime].append(u.skew)
    assert np.mean(shocks[Regime.RETAIL_CHASE]) > 0.015 and np.mean(shocks[Regime.EVENT_RAMP]) > 0.01
    assert np.mean(shocks[Regime.ARB_CALM]) < 0.002
    assert np.mean(skews[Regime.TREND_DOWN]) < np.mean(skews[Regime.TREND_UP]) < 0


def test_event_premium_then_crush():
    control = SyntheticControlState(shared_seed=SEEDS[2], preset_id=Preset.EVENT_DAY)
    listed = [set(get_session_state(int(MINUTE_TS[m]), control).event_symbols) for m in range(SESSION_MINUTES)]
    # Scheduled news only: names the catalyst calendar keeps listed all session have no gap today.
    names = sorted(set.union(*listed) - set.intersection(*listed))
    for name in names:
        path = underlying_path(name, MINUTE_TS, control)
        r = np.abs(np.diff(np.log(path["price"])))
        gap = int(np.argmax(r)) + 1
        before, after = path["atm_iv"][gap - 3], path["atm_iv"][min(gap + 5, SESSION_MINUTES)]
        assert before > UNIVERSE[name].annual_vol * 0.9, "IV carries an event premium before the event"
        assert after < 0.85 * before, "IV is crushed after the event"
