"""The coverage boost's curve, point by point: grace, convexity, the hits divisor, the cap, the window.

The documented rule (synthmarket/engine/coverage_boost.py): a profile missing for a share m of the
window gets 1 + (MAX - 1) * x^1.5 / (1 + hits) with x = (m - 0.25) / 0.75 clipped to [0, 1]. Each
case below is worked by hand from that rule, so changing a constant, an operator or a fallback in
the function changes at least one of them.
"""

from __future__ import annotations

from types import MappingProxyType

import pytest

from synthmarket.domain.control import DEFAULT_CONTROL
from synthmarket.domain.session import MAX_COVERAGE_BOOST, CoverageState
from synthmarket.engine.coverage_boost import coverage_boost

NOW = 1_800_000_000_000
MINUTE = 60_000
ARB = "arbitrage"


def _state(window: int = 20, *, missing_min: float | None = None, hits: int = 0, now: int = NOW) -> CoverageState:
    last = {} if missing_min is None else {ARB: now - int(missing_min * MINUTE)}
    return CoverageState(now, window, MappingProxyType({ARB: hits} if hits else {}), MappingProxyType(last))


def _expected(share_missing: float, hits: int = 0) -> float:
    x = min(1.0, (share_missing - 0.25) / 0.75)
    return 1.0 if x <= 0.0 else 1.0 + (MAX_COVERAGE_BOOST - 1.0) * x ** 1.5 / (1 + hits)


@pytest.mark.parametrize(("missing_min", "hits"), [(5, 0), (6, 0), (10, 0), (15, 0), (19, 0), (20, 0),
                                                   (15, 1), (20, 1), (40, 1), (20, 3)])
def test_the_boost_follows_the_documented_curve(missing_min, hits):
    got = coverage_boost(ARB, _state(missing_min=missing_min, hits=hits), DEFAULT_CONTROL)
    assert got == pytest.approx(_expected(missing_min / 20, hits), rel=1e-12)


def test_a_profile_missing_exactly_the_whole_window_gets_the_whole_boost():
    assert coverage_boost(ARB, _state(missing_min=20), DEFAULT_CONTROL) == MAX_COVERAGE_BOOST
    assert coverage_boost(ARB, _state(missing_min=20 - 1 / MINUTE), DEFAULT_CONTROL) < MAX_COVERAGE_BOOST


def test_a_small_boost_is_not_rounded_up():
    # Just past the grace period the boost is barely above one.
    got = coverage_boost(ARB, _state(missing_min=5.5), DEFAULT_CONTROL)
    assert 1.0 < got < 1.05


def test_the_window_comes_from_the_state_and_falls_back_to_the_control():
    ten = DEFAULT_CONTROL.with_update(coverage_window_minutes=10)
    # 10 minutes missing: half of the state's 20-minute window; the whole of the control's 10 when the
    # state carries no window (0), and the state's own 1-minute window when it says so.
    assert coverage_boost(ARB, _state(20, missing_min=10), ten) == pytest.approx(_expected(0.5))
    assert coverage_boost(ARB, _state(0, missing_min=10), ten) == MAX_COVERAGE_BOOST
    assert coverage_boost(ARB, _state(1, missing_min=0.5), ten) == pytest.approx(_expected(0.5))


def test_never_seen_is_missing_the_whole_window_unless_it_has_hits():
    never = CoverageState(NOW, 20)
    assert coverage_boost(ARB, never, DEFAULT_CONTROL) == MAX_COVERAGE_BOOST
    hits_only = CoverageState(NOW, 20, MappingProxyType({ARB: 1}), MappingProxyType({}))
    assert coverage_boost(ARB, hits_only, DEFAULT_CONTROL) == 1.0


def test_each_profile_reads_its_own_entries():
    other = CoverageState(NOW, 20, MappingProxyType({"vol_seller": 5}),
                          MappingProxyType({"vol_seller": NOW, ARB: NOW - 20 * MINUTE}))
    assert coverage_boost(ARB, other, DEFAULT_CONTROL) == MAX_COVERAGE_BOOST
    assert coverage_boost("vol_seller", other, DEFAULT_CONTROL) == 1.0


def test_a_last_sighting_in_the_future_counts_as_just_seen():
    assert coverage_boost(ARB, _state(missing_min=-3), DEFAULT_CONTROL) == 1.0
