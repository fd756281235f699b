"""Regime engine API: session bounds, symbols, scalar/vector agreement, random access, coverage boost."""

from __future__ import annotations

import dataclasses
import datetime as dt
import math

import numpy as np
import pytest

from synthmarket import engine
from synthmarket.domain.calendar import EXCHANGE_TZ, SESSION_MINUTES, trading_day
from synthmarket.domain.control import SyntheticControlState, SyntheticProfileWeightMap
from synthmarket.domain.presets import SyntheticControlPresetId
from synthmarket.domain.profiles import FAMILY_IDS, PUBLIC_PROFILE_IDS
from synthmarket.domain.regimes import Regime, SessionPhase
from synthmarket.domain.session import MAX_COVERAGE_BOOST, CoverageState
from synthmarket.domain.universe import DEFAULT_SYMBOLS, UnknownSymbolError
from synthmarket.engine.regime_engine import (
    OutsideSessionError,
    get_coverage_boost,
    get_scenario_weights,
    get_session_state,
    get_underlying_state,
    underlying_path,
)

DAY = trading_day(dt.date(2026, 11, 24))  # a Tuesday
CONTROL = SyntheticControlState(shared_seed=424242)
MINUTE = 60_000


def at(minute: float) -> int:
    return DAY.open_ms + int(minute * MINUTE)


SATURDAY_NOON = int(dt.datetime(2026, 11, 28, 12, 0, tzinfo=EXCHANGE_TZ).timestamp() * 1000)


@pytest.mark.parametrize("ts", [DAY.open_ms - 1, DAY.close_ms + 1, DAY.open_ms - 3 * 3_600_000, SATURDAY_NOON])
def test_timestamps_outside_the_session_raise(ts):
    with pytest.raises(OutsideSessionError, match="outside the regular session"):
        get_session_state(ts, CONTROL)
    with pytest.raises(OutsideSessionError):
        get_underlying_state("AAPL", ts, CONTROL)
    with pytest.raises(OutsideSessionError):
        underlying_path("AAPL", np.array([at(10), ts]), CONTROL)
    assert issubclass(OutsideSessionError, ValueError)


def test_session_bounds_are_inclusive_of_open_and_close():
    first = get_session_state(DAY.open_ms, CONTROL)
    last = get_session_state(DAY.close_ms, CONTROL)
    assert first.session_phase is SessionPhase.OPEN and first.minute_of_session == 0.0
    assert last.session_phase in (SessionPhase.POWER_HOUR, SessionPhase.AFTER_EVENT)
    assert last.minute_of_session == SESSION_MINUTES
    assert get_underlying_state("SPY", DAY.close_ms, CONTROL).price > 0


def test_unknown_symbols_raise():
    with pytest.raises(UnknownSymbolError):
        get_underlying_state("ZZZZ", at(30), CONTROL)
    with pytest.raises(UnknownSymbolError):
        get_scenario_weights("ZZZZ", at(30), CONTROL)
    with pytest.raises(UnknownSymbolError):
        underlying_path("ZZZZ", np.array([at(30)]), CONTROL)
    with pytest.raises(UnknownSymbolError):
        get_session_state(at(30), CONTROL, symbols=("AAPL", "ZZZZ"))


def test_session_state_fields_are_in_range_over_the_day():
    for minute in range(0, SESSION_MINUTES, 7):
        s = get_session_state(at(minute + 0.5), CONTROL)
        assert isinstance(s.regime, Regime) and isinstance(s.session_phase, SessionPhase)
        assert 0.0 < s.liquidity_level <= 1.0 and 0.0 < s.quote_cleanliness <= 1.0
        assert 0.1 < s.volatility_level < 6.0
        assert 2 <= len(s.focus_symbols) <= 5 and len(set(s.focus_symbols)) == len(s.focus_symbols)
        assert set(s.focus_symbols) <= set(DEFAULT_SYMBOLS) and set(s.event_symbols) <= set(DEFAULT_SYMBOLS)
        assert s.regime_started_ms <= s.ts < s.regime_ends_ms
        assert s.seed_bucket == s.ts // MINUTE


def test_custom_symbol_universe_is_respected_and_deterministic():
    universe = ("SPY", "QQQ", "TSLA", "NVDA", "AMD", "COIN", "PLTR")
    seen_events: set[str] = set()
    for minute in range(0, SESSION_MINUTES, 5):
        s = get_session_state(at(minute), CONTROL, symbols=universe)
        assert set(s.focus_symbols) <= set(universe) and set(s.event_symbols) <= set(universe)
        assert s == get_session_state(at(minute), CONTROL, universe)   # positional form too
        seen_events |= set(s.event_symbols)
    assert seen_events, "a balanced_demo day puts its scheduled events on names of the universe"


def test_control_metadata_does_not_change_results_but_preset_and_seed_do():
    ts = at(200.25)
    base = (get_session_state(ts, CONTROL), get_underlying_state("NVDA", ts, CONTROL))
    touched = CONTROL.with_update(updated_at="2026-11-24T15:00:00Z", updated_by="ops@example.com")
    assert (get_session_state(ts, touched), get_underlying_state("NVDA", ts, touched)) == base
    other_seed = CONTROL.with_update(shared_seed=CONTROL.shared_seed + 1)
    assert get_underlying_state("NVDA", ts, other_seed).price != base[1].price
    other_preset = CONTROL.with_update(preset_id=SyntheticControlPresetId.QUIET_RANGE)
    assert get_underlying_state("NVDA", ts, other_preset) != base[1]


def test_underlying_state_is_consistent():
    for minute in (0.02, 1, 33.3, 150, 389.9):
        for sym in ("SPY", "BAC", "NFLX", "COIN"):
            u = get_underlying_state(sym, at(minute), CONTROL)
            assert u.bid < u.price < u.ask or (u.ask - u.bid) == pytest.approx(0.01)
            assert u.ask > u.bid
            assert round(u.bid * 100) == pytest.approx(u.bid * 100, abs=1e-6)   # penny ticks
            assert round(u.ask * 100) == pytest.approx(u.ask * 100, abs=1e-6)
            assert u.spread_bps > 0 and u.volatility > 0 and u.atm_iv > 0
            assert u.skew < 0                                   # put skew
            assert u.execution_iv_shock >= 0


def test_vectorised_path_matches_the_scalar_api_exactly():
    rng = np.random.default_rng(7)
    ts = np.sort(DAY.open_ms + rng.integers(0, SESSION_MINUTES * MINUTE + 1, size=400))
    ts = np.concatenate([[DAY.open_ms, DAY.close_ms], ts])
    for sym in ("SPY", "TSLA", "BAC"):
        path = underlying_path(sym, ts, CONTROL)
        for i, t in enumerate(ts):
            u = get_underlying_state(sym, int(t), CONTROL)
            for key in ("price", "bid", "ask", "spread_bps", "volatility", "drift_bps_per_min",
                        "underlying_move_bps", "nbbo_spread_z", "execution_iv_shock", "atm_iv", "skew"):
                assert path[key][i] == getattr(u, key), (sym, int(t), key)
            assert bool(path["is_focus"][i]) == u.is_focus and bool(path["is_event"][i]) == u.is_event


def test_session_state_passed_in_gives_the_same_underlying():
    ts = at(123.4)
    s = get_session_state(ts, CONTROL)
    for sym in DEFAULT_SYMBOLS:
        assert get_underlying_state(sym, ts, CONTROL, s) == get_underlying_state(sym, ts, CONTROL)
        assert get_scenario_weights(sym, ts, CONTROL, s) == get_scenario_weights(sym, ts, CONTROL)


def test_prices_move_continuously_within_a_minute():
    ts = at(200) + np.arange(0, 60_001, 250)
    px = underlying_path("AAPL", ts, CONTROL)["price"]
    steps = np.abs(np.diff(np.log(px)))
    assert len(np.unique(px)) > 200, "the price moves every quarter second inside the minute"
    assert steps.max() < 0.002, "no sub-second jump above 20 bps outside scheduled events"


def test_random_access_cold_equals_walking_the_day():
    late = at(371.77)
    engine.clear_caches()
    cold = (get_session_state(late, CONTROL), [get_underlying_state(s, late, CONTROL) for s in DEFAULT_SYMBOLS],
            get_scenario_weights("TSLA", late, CONTROL))
    engine.clear_caches()
    for second in range(0, int((late - DAY.open_ms) / 1000), 30):
        get_session_state(DAY.open_ms + second * 1000, CONTROL)
        get_underlying_state("TSLA", DAY.open_ms + second * 1000, CONTROL)
    walked = (get_session_state(late, CONTROL), [get_underlying_state(s, late, CONTROL) for s in DEFAULT_SYMBOLS],
              get_scenario_weights("TSLA", late, CONTROL))
    assert walked == cold


def test_focus_symbols_are_stable_within_a_regime_run():
    by_run: dict[int, tuple[tuple[str, ...], Regime]] = {}
    for minute in range(SESSION_MINUTES):
        s = get_session_state(at(minute), CONTROL)
        prior = by_run.setdefault(s.regime_started_ms, (s.focus_symbols, s.regime))
        assert prior == (s.focus_symbols, s.regime)
    assert len(by_run) >= 6


def test_scenario_weights_shape_and_profile_weights():
    ts = at(250)
    w = get_scenario_weights("MSFT", ts, CONTROL)
    assert tuple(w.weights) == FAMILY_IDS
    assert math.isclose(sum(w.weights.values()), 1.0, rel_tol=1e-12)
    assert all(v >= 0 for v in w.weights.values()) and w.intensity > 0
    heavy = CONTROL.with_update(profile_weights=SyntheticProfileWeightMap({"arbitrage": 1.6, "vol_seller": 0.6}))
    h = get_scenario_weights("MSFT", ts, heavy)
    ratio = lambda x, fam: x.weights[fam] / x.weights["institutional_directional"]  # noqa: E731
    assert ratio(h, "arbitrage") == pytest.approx(1.6 * ratio(w, "arbitrage"), rel=1e-9)
    assert ratio(h, "vol_seller") == pytest.approx(0.6 * ratio(w, "vol_seller"), rel=1e-9)


def _coverage(now: int, window: int, hits=None, last=None) -> CoverageState:
    return CoverageState(now_ms=now, window_minutes=window, hits=hits or {}, last_seen_ms=last or {})


def test_coverage_boost_bounded_monotone_and_off_switch():
    now = at(300)
    off = CONTROL.with_update(coverage_assist=False)
    for window in (10, 20, 30):
        previous = 1.0
        for missing_min in range(3 * window):
            cov = _coverage(now, window, last={"arbitrage": now - missing_min * MINUTE})
            b = get_coverage_boost("arbitrage", cov, CONTROL)
            assert 1.0 <= b <= MAX_COVERAGE_BOOST
            assert b >= previous, "boost grows with how long the profile has been missing"
            previous = b
            assert get_coverage_boost("arbitrage", cov, off) == 1.0
        assert previous == MAX_COVERAGE_BOOST
    never = _coverage(now, 20)
    for pid in PUBLIC_PROFILE_IDS:
        assert get_coverage_boost(pid, never, CONTROL) == MAX_COVERAGE_BOOST
        assert get_coverage_boost(pid, never, off) == 1.0
    assert get_coverage_boost("neutral_noise", never, CONTROL) == 1.0
    fresh = _coverage(now, 20, hits={"vol_seller": 4}, last={"vol_seller": now - 30_000})
    assert get_coverage_boost("vol_seller", fresh, CONTROL) == 1.0


def test_state_objects_are_frozen():
    s = get_session_state(at(10), CONTROL)
    with pytest.raises(dataclasses.FrozenInstanceError):
        s.regime = Regime.ARB_CALM  # type: ignore[misc]


def test_state_objects_are_the_ones_their_constructors_build():
    # The engine fills its states without calling the dataclass __init__ (it is the hot path):
    # each must still hold exactly its declared fields, in order, and equal a normal construction.
    session = get_session_state(at(42.5), CONTROL)
    states = [
        session,
        get_underlying_state("NVDA", at(42.5), CONTROL),
        get_scenario_weights("NVDA", at(42.5), CONTROL, session),
    ]
    for state in states:
        names = [f.name for f in dataclasses.fields(state)]
        assert list(vars(state)) == names, type(state).__name__
        rebuilt = type(state)(**{n: getattr(state, n) for n in names})
        assert rebuilt == state and repr(rebuilt) == repr(state)
