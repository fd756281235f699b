"""Scenario weights and intensity: regime mixes, placement rules, presets, profile weights, coverage."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from synthmarket.domain.calendar import SESSION_MINUTES, trading_day
from synthmarket.domain.control import SyntheticControlState
from synthmarket.domain.presets import SyntheticControlPresetId as Preset
from synthmarket.domain.profiles import NEUTRAL_NOISE, PUBLIC_PROFILE_IDS
from synthmarket.domain.regimes import Regime, SessionPhase
from synthmarket.domain.universe import DEFAULT_SYMBOLS
from synthmarket.engine.regime_engine import get_scenario_weights, get_session_state

DAY = trading_day(dt.date(2026, 11, 24))
SEEDS = tuple(range(7700, 7720))
MINUTE = 60_000


def day_weights(seed: int, preset: Preset = Preset.BALANCED_DEMO, step: int = 1):
    control = SyntheticControlState(preset_id=preset, shared_seed=seed)
    for m in range(0, SESSION_MINUTES, step):
        state = get_session_state(DAY.open_ms + m * MINUTE + 30_000, control)
        yield m, state, {s: get_scenario_weights(s, state.ts, control, state) for s in DEFAULT_SYMBOLS}


def test_every_category_can_appear_within_any_20_minutes_in_balanced_demo():
    # For each of 20 seeds and every 20-minute window of the session, each public family has a
    # positive weight on some symbol at some minute of the window. Probing the first event name
    # and the first other name of each minute is enough to find it (and keeps the test fast).
    for seed in SEEDS:
        control = SyntheticControlState(shared_seed=seed)
        positive = np.zeros((SESSION_MINUTES, len(PUBLIC_PROFILE_IDS)), dtype=bool)
        for m in range(SESSION_MINUTES):
            state = get_session_state(DAY.open_ms + m * MINUTE + 30_000, control)
            probes = state.event_symbols[:1] + tuple(s for s in DEFAULT_SYMBOLS if s not in state.event_symbols)[:1]
            weights = [get_scenario_weights(s, state.ts, control, state) for s in probes]
            positive[m] = [any(w.weights[f] > 0 for w in weights) for f in PUBLIC_PROFILE_IDS]
        for start in range(SESSION_MINUTES - 19):
            covered = positive[start:start + 20].any(axis=0)
            assert covered.all(), (seed, start, [f for f, c in zip(PUBLIC_PROFILE_IDS, covered) if not c])


def test_every_public_family_keeps_weight_in_every_regime():
    seen: dict[Regime, np.ndarray] = {r: np.zeros(len(PUBLIC_PROFILE_IDS), dtype=bool) for r in Regime}
    for seed in SEEDS[:6]:
        for _, state, weights in day_weights(seed, step=4):
            if not state.event_symbols:
                continue
            seen[state.regime] |= [any(w.weights[f] > 0 for w in weights.values()) for f in PUBLIC_PROFILE_IDS]
            for sym, w in weights.items():
                # Placement rules of the flow footprints: event_driven lives on event symbols only,
                # directional / retail / hedge scenarios stay off them; the rest is always possible.
                on_event = sym in state.event_symbols
                assert (w.weights["event_driven"] > 0) == on_event
                for fam in ("institutional_directional", "retail_whale", "hedge_reactive"):
                    assert (w.weights[fam] > 0) == (not on_event)
                assert w.weights["vol_seller"] > 0 and w.weights["arbitrage"] > 0
    for regime, flags in seen.items():
        assert flags.all(), (regime, flags)


def test_neutral_noise_is_usually_the_largest_family():
    shares, largest = [], []
    for seed in SEEDS[:5]:
        for _, _, weights in day_weights(seed, step=5):
            for w in weights.values():
                shares.append(w.weights[NEUTRAL_NOISE])
                largest.append(max(w.weights, key=w.weights.get) == NEUTRAL_NOISE)
    assert 0.35 <= np.mean(shares) <= 0.55, np.mean(shares)
    assert np.mean(largest) >= 0.9, np.mean(largest)


@pytest.mark.parametrize("regime,family", [
    (Regime.RETAIL_CHASE, "retail_whale"),
    (Regime.DEALER_GAMMA, "hedge_reactive"),
    (Regime.ARB_CALM, "arbitrage"),
    (Regime.TREND_DOWN, "institutional_directional"),
])
def test_regime_headline_family_leads_on_focus_names(regime, family):
    found = 0
    for seed in SEEDS:
        for _, state, weights in day_weights(seed, step=6):
            if state.regime is not regime:
                continue
            for sym in state.focus_symbols:
                if sym in state.event_symbols:
                    continue
                public = {f: weights[sym].weights[f] for f in PUBLIC_PROFILE_IDS}
                assert max(public, key=public.get) == family, (seed, state.ts, sym, public)
                found += 1
    assert found >= 10


def test_event_day_family_bias_and_labeled_intensity():
    state = next(s for _, s, _ in day_weights(SEEDS[0], step=10) if s.event_symbols)
    name = state.event_symbols[0]
    balanced = get_scenario_weights(name, state.ts, SyntheticControlState(shared_seed=SEEDS[0]), state)
    event_day = get_scenario_weights(name, state.ts, SyntheticControlState(shared_seed=SEEDS[0],
                                                                           preset_id=Preset.EVENT_DAY), state)
    ratio = lambda w: w.weights["event_driven"] / w.weights["vol_seller"]  # noqa: E731
    assert ratio(event_day) == pytest.approx(1.5 * ratio(balanced), rel=1e-9)   # family_bias event_driven 1.5
    assert event_day.labeled_share > balanced.labeled_share                      # labeled_intensity 1.15
    assert event_day.intensity == pytest.approx(1.15 * balanced.intensity, rel=1e-9)


def test_intensity_is_thicker_at_the_open_power_hour_and_on_focus_names():
    by_phase: dict[SessionPhase, list[float]] = {p: [] for p in SessionPhase}
    focus, other = [], []
    for seed in SEEDS[:5]:
        for _, state, weights in day_weights(seed, step=3):
            for sym, w in weights.items():
                by_phase[state.session_phase].append(w.intensity)
                (focus if sym in state.focus_symbols else other).append(w.intensity)
    midday = np.mean(by_phase[SessionPhase.MIDDAY])
    assert np.mean(by_phase[SessionPhase.OPEN]) > 1.4 * midday
    assert np.mean(by_phase[SessionPhase.POWER_HOUR]) > 1.1 * midday
    assert np.mean(focus) > 1.5 * np.mean(other)
