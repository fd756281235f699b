"""Coverage debt tracking, boost application and the arrival process."""

from __future__ import annotations

import math
import statistics

from options_svc import arrivals
from options_svc.coverage import CoverageTracker, boosted_weights
from synthmarket import engine
from synthmarket.domain.control import DEFAULT_CONTROL, SyntheticProfileWeightMap
from synthmarket.domain.profiles import FAMILY_IDS, PUBLIC_PROFILE_IDS

MIN = 60_000


def test_tracker_counts_public_profiles_over_a_rolling_window():
    tr = CoverageTracker(10)
    tr.record(0, "arbitrage")
    tr.record(5 * MIN, "arbitrage")
    tr.record(6 * MIN, "neutral_noise")          # noise never counts
    tr.record(7 * MIN, "vol_seller")
    assert tr.hits(8 * MIN)["arbitrage"] == 2
    assert tr.hits(12 * MIN) == {**dict.fromkeys(PUBLIC_PROFILE_IDS, 0), "arbitrage": 1, "vol_seller": 1}
    state = tr.state(16 * MIN)
    assert state.hits["arbitrage"] == 0 and state.hits["vol_seller"] == 1
    assert state.last_seen_ms["arbitrage"] == 5 * MIN and state.window_minutes == 10
    assert "neutral_noise" not in state.hits


def test_missing_profiles_are_boosted_only_with_coverage_assist():
    tr = CoverageTracker(20)
    for k in range(30):
        tr.record(20 * MIN + k * 20_000, "institutional_directional")
    weights = {f: 1.0 / len(FAMILY_IDS) for f in FAMILY_IDS}
    state = tr.state(30 * MIN)
    on, applied = boosted_weights(weights, state, DEFAULT_CONTROL, engine.get_coverage_boost)
    assert applied == 5, "the five profiles absent from the window are boosted"
    assert on["institutional_directional"] == weights["institutional_directional"]
    assert all(on[p] > weights[p] for p in PUBLIC_PROFILE_IDS if p != "institutional_directional")
    assert on["neutral_noise"] == weights["neutral_noise"]

    def forbidden(*_args):
        raise AssertionError("no boost may be asked for with coverage assist off")

    off, applied = boosted_weights(weights, state, DEFAULT_CONTROL.with_update(coverage_assist=False), forbidden)
    assert applied == 0 and off == weights


def test_hawkes_arrivals_cluster_and_keep_their_mean_rate():
    state = arrivals.HawkesState(at_ms=0)
    ts: list[int] = []
    for b in range(6 * 360):   # six hours of 10 s buckets at 2 arrivals per minute
        ts += arrivals.bucket_arrivals(7, 99, b, b * 10_000, (b + 1) * 10_000, 2.0, 0.5, state)
    rate = len(ts) / 360.0
    gaps = [b - a for a, b in zip(ts, ts[1:])]
    cv = statistics.pstdev(gaps) / statistics.mean(gaps)
    assert 1.6 <= rate <= 2.4, f"mean rate {rate:.2f}/min vs 2.0 (tolerance 20%)"
    assert cv > 1.1, f"self-excitation makes gaps over-dispersed, CV {cv:.2f}"
    assert ts == sorted(ts)


def test_arrivals_do_not_depend_on_how_time_is_sliced():
    a_state, b_state = arrivals.HawkesState(at_ms=0), arrivals.HawkesState(at_ms=0)
    a = arrivals.bucket_arrivals(1, 2, 0, 0, 10_000, 30.0, 0.4, a_state)
    b = arrivals.bucket_arrivals(1, 2, 0, 0, 10_000, 30.0, 0.4, b_state)
    assert a == b and math.isclose(a_state.excitation, b_state.excitation)


def test_profile_weight_lift_of_the_arrival_rate():
    w = {"event_driven": 0.6, "vol_seller": 0.1, "neutral_noise": 0.3}
    assert arrivals.profile_rate_multiplier(w, SyntheticProfileWeightMap()) == 1.0
    up = arrivals.profile_rate_multiplier(w, SyntheticProfileWeightMap({"event_driven": 1.6}))
    down = arrivals.profile_rate_multiplier(w, SyntheticProfileWeightMap({"event_driven": 0.6}))
    assert up == 1.0 / (0.6 / 1.6 + 0.4) and down < 1.0 < up
