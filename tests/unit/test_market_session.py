"""The whole flow on a virtual clock: coverage of every category, operator weights, burstiness.

Runs the options generator and the classifier together (the offline loop without equities) and
judges only what a viewer of the public tape sees: smart-money events per public profile.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter

import numpy as np
import pytest

from flow_svc.reasons import REPEAT_PREFIX
from options_svc.generator import OptionsGenerator
from synthmarket.domain.calendar import trading_day
from synthmarket.domain.control import DEFAULT_CONTROL, SyntheticControlState, SyntheticProfileWeightMap
from synthmarket.domain.marketdata import SmartMoneyEvent
from synthmarket.domain.profiles import FAMILY_IDS, PUBLIC_PROFILE_IDS
from synthmarket.domain.universe import DEFAULT_SYMBOLS
from synthmarket.engine.regime_engine import get_scenario_weights
from synthmarket_cli.offline import SimulationSpec, run_session

WEEK = [dt.date(2026, 11, 16) + dt.timedelta(days=d) for d in range(5)]  # Monday..Friday
MINUTE = 60_000


def flow_events(control: SyntheticControlState, date: dt.date, start_minute: int, minutes: int) -> list[SmartMoneyEvent]:
    day = trading_day(date)
    start = day.open_ms + start_minute * MINUTE
    end = min(day.close_ms, start + minutes * MINUTE)
    # Without the ordinary flow: it never makes an event (tests/unit/test_options_tape.py), so the
    # events are the same, at a fifth of the cost; without open interest, which no decision reads.
    spec = SimulationSpec(control, day, start, end, DEFAULT_SYMBOLS, with_equities=False, ordinary_scale=0.0,
                          open_interest=False)
    # Only events decided inside the window count: a viewer watching these minutes saw them.
    return [e for step in run_session(spec) for e in step.events if e.ts < end]


def test_every_public_profile_appears_in_a_20_minute_window_for_99_of_100_samples():
    # 100 (seed, weekday, start-time) samples spread over the whole session with default controls.
    misses: dict[int, set[str]] = {}
    for i in range(100):
        control = DEFAULT_CONTROL.with_update(shared_seed=1000 + i)
        start_minute = (i * 37) % 371  # 09:30 .. 15:40, so every window fits before the close
        seen = {e.profile_id for e in flow_events(control, WEEK[i % 5], start_minute, 20)}
        if missing := set(PUBLIC_PROFILE_IDS) - seen:
            misses[i] = missing
    assert len(misses) <= 1, f"samples missing a profile: {misses}"


def _profile_counts(control: SyntheticControlState, seeds: tuple[int, ...], minutes: int) -> Counter:
    counts: Counter = Counter()
    for k, seed in enumerate(seeds):
        ctl = control.with_update(shared_seed=seed)
        # Patterns, not their repeat hits: a weight sets how often a profile's scenarios occur.
        events = flow_events(ctl, WEEK[(k * 2) % 5], 60, minutes)
        counts.update(e.profile_id for e in events if not e.reason.startswith(REPEAT_PREFIX))
    return counts


@pytest.fixture(scope="module")
def baseline_counts() -> Counter:
    return _profile_counts(DEFAULT_CONTROL, (11, 12), 120)


@pytest.mark.parametrize("profile", PUBLIC_PROFILE_IDS)
def test_raising_one_profile_to_high_raises_its_frequency_without_silencing_others(profile, baseline_counts):
    weights = SyntheticProfileWeightMap({profile: 1.6})
    raised = _profile_counts(DEFAULT_CONTROL.with_update(profile_weights=weights), (11, 12), 120)
    ratio = raised[profile] / max(baseline_counts[profile], 1)
    # Tolerance: a 1.6 weight must show as at least 1.3x more events over 2 x 120 minutes.
    assert ratio >= 1.3, f"{profile}: {baseline_counts[profile]} -> {raised[profile]} events ({ratio:.2f}x)"
    assert all(raised[p] > 0 for p in PUBLIC_PROFILE_IDS), f"a profile disappeared: {dict(raised)}"


def test_without_coverage_assist_no_boost_is_applied_and_shares_follow_the_weights():
    control = DEFAULT_CONTROL.with_update(coverage_assist=False, shared_seed=21)
    day = trading_day(WEEK[4])
    start, end = day.open_ms, day.open_ms + 180 * MINUTE
    gen = OptionsGenerator(control, DEFAULT_SYMBOLS, start_ts=start, ordinary_scale=0.0, open_interest=False)
    expected = Counter()
    realised = Counter()
    for t0 in range(start, end, 1_000):
        gen.step(t0, t0 + 1_000)
        for rec in gen.pop_scenarios():
            realised[rec.family] += 1
            weights = get_scenario_weights(rec.symbol, rec.ts, control, None, DEFAULT_SYMBOLS).weights
            for fam in FAMILY_IDS:
                expected[fam] += weights[fam]
        gen.pop_labels()
    assert gen.boosts_applied == 0
    total = sum(realised.values())
    assert total > 1_000
    for fam in FAMILY_IDS:
        share, want = realised[fam] / total, expected[fam] / total
        # Tolerance: within 4 percentage points of the engine's own weights (no hidden coverage push).
        assert abs(share - want) < 0.04, f"{fam}: realised {share:.3f} vs weights {want:.3f}"


@pytest.fixture(scope="module")
def session_events() -> list[list[SmartMoneyEvent]]:
    return [flow_events(DEFAULT_CONTROL.with_update(shared_seed=seed), WEEK[4], 0, 390) for seed in (5, 6)]


def test_smart_money_events_are_bursty_not_rhythmic(session_events):
    for events in session_events:
        stamps = np.array(sorted(e.ts for e in events), dtype=float)
        gaps = np.diff(stamps)
        cv = gaps.std() / gaps.mean()
        # Clustered arrivals: a Poisson tape has CV 1, a metronome 0.
        assert cv > 1.0, f"inter-arrival CV {cv:.2f}"

        # The rhythm of the patterns themselves: a repeat hit follows its pattern's own prints, and
        # with them the day's slow swings in intensity, which are not a scripted rhythm.
        stamps = np.array(sorted(e.ts for e in events if not e.reason.startswith(REPEAT_PREFIX)), dtype=float)
        counts = np.bincount(((stamps - stamps[0]) // 10_000).astype(int)).astype(float)
        power = np.abs(np.fft.rfft(counts - counts.mean())) ** 2
        freqs = np.fft.rfftfreq(len(counts), d=10.0)
        # Periods from 20 s to 30 min: the band a scripted burst rhythm would live in.
        band = (freqs >= 1 / 1800) & (freqs <= 1 / 20)
        peak_share = power[band].max() / power[band].sum()
        # Tolerance: no single period carries more than 3% of the band's power (a fixed rhythm
        # puts a large fraction of the power into one frequency).
        assert peak_share < 0.03, f"one period dominates: {peak_share:.3f} of the power"
