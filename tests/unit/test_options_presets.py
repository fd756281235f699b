"""The option tape's "must show" figures on every preset, each within its real range.

Two hours of each preset's session (10:30-12:30, the default ordinary-flow sample; the ordinary
flow's distributions are the same at any scale, tests/unit/test_options_tape.py) through the offline
loop and the classifier, plus SPY's engine ATM IV over whole sessions. The real ranges are
MARKET_FACTS, "Options microstructure and volatility"; bench/options_facts.py prints the full-day
table.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from bench.options_facts import figures, session_tape
from synthmarket.domain.calendar import trading_day
from synthmarket.domain.control import DEFAULT_CONTROL
from synthmarket.domain.presets import SyntheticControlPresetId
from synthmarket.engine import underlying_path

DAY = trading_day(dt.date(2026, 11, 18))
START_MINUTE, MINUTES = 60, 120
PRESETS = list(SyntheticControlPresetId)


@pytest.fixture(scope="module", params=PRESETS, ids=lambda p: p.value)
def facts(request) -> tuple[SyntheticControlPresetId, dict[str, float]]:
    preset = request.param
    return preset, figures(*session_tape(preset.value, DAY, 20260101, START_MINUTE, MINUTES))


def test_prints_are_small_and_smart_money_is_a_minority_of_prints_but_most_of_the_premium(facts):
    preset, f = facts
    assert f["median size"] in (1.0, 2.0), (preset, f)
    # Tolerance: events explain 2-25% of prints (real: a small minority) and at least twice that
    # share of the premium, not all of it (institutional flow: few prints, much premium).
    assert 0.02 <= f["labelled prints"] <= 0.25, (preset, f)
    assert 2 * f["labelled prints"] <= f["labelled premium"] <= 0.95, (preset, f)
    # $1M+ prints are rare: 10-250 a day on the 20-name universe (counted per day from two hours).
    per_day = f["$1M+ prints"] * 390 / MINUTES
    assert 10 <= per_day <= 250, (preset, per_day)


def test_venues_are_uneven(facts):
    preset, f = facts
    # Tolerance: the largest venue 10-16%, the smallest under 1%, the largest 5x the smallest or more.
    assert 0.10 <= f["venue largest"] <= 0.16 and f["venue smallest"] < 0.01 and f["venue ratio"] >= 5, (preset, f)


def test_near_term_atm_index_quotes_are_mostly_one_tick(facts):
    preset, f = facts
    # Tolerance: one cent wide at least 60% of the time (real: one or two cents, mostly one).
    assert f["SPY/QQQ ATM 1c time"] >= 0.6, (preset, f)


def test_no_print_below_intrinsic_and_no_zero_price(facts):
    preset, f = facts
    assert f["below intrinsic"] == 0 and f["zero price"] == 0, (preset, f)


def _spy_sessions(preset: SyntheticControlPresetId) -> list[dict[str, np.ndarray]]:
    marks = np.arange(DAY.open_ms, DAY.close_ms, 60_000)
    return [underlying_path("SPY", marks, DEFAULT_CONTROL.with_update(preset_id=preset, shared_seed=seed))
            for seed in (1, 2, 3, 4)]


@pytest.mark.parametrize("preset", PRESETS, ids=lambda p: p.value)
def test_index_atm_iv_moves_a_point_or_two(preset):
    ranges = [100 * (p["atm_iv"].max() - p["atm_iv"].min()) for p in _spy_sessions(preset)]
    # Tolerance: the median session's ATM IV range 0.5-4 vol points (VIX: a point or two on an
    # ordinary day).
    assert 0.5 <= float(np.median(ranges)) <= 4.0, (preset, ranges)


def test_index_atm_iv_moves_against_the_price():
    corrs = [np.corrcoef(np.diff(np.log(p["price"][::30])), np.diff(p["atm_iv"][::30]))[0, 1]
             for preset in PRESETS for p in _spy_sessions(preset)]
    # Tolerance: over the 20 sessions (5 presets x 4 seeds) 30-minute IV changes correlate with
    # returns below -0.1 on the median session (SPX/VIX: -0.7 to -0.8 daily). Per preset the calm
    # dealer_day sessions are weaker (docs/market_facts.md).
    assert float(np.median(corrs)) < -0.1, corrs
