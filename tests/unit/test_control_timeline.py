"""One continuous market: a preset change moves the dynamics from its instant on, never the levels."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from synthmarket.domain.calendar import trading_day
from synthmarket.domain.control import DEFAULT_CONTROL
from synthmarket.domain.control_timeline import CHANGE_LEAD_MS, ControlTimeline, TimelineBook, change_ts, describe_day
from synthmarket.domain.presets import SyntheticControlPresetId
from synthmarket.domain.universe import DEFAULT_SYMBOLS
from synthmarket.engine import get_scenario_weights, get_session_state, get_underlying_state, underlying_path

DAY = trading_day(dt.date(2026, 11, 20))
NOON = DAY.at("12:00")
EVENT_DAY = DEFAULT_CONTROL.with_update(preset_id=SyntheticControlPresetId.EVENT_DAY)
TIMELINE = ControlTimeline(DEFAULT_CONTROL, ((NOON, EVENT_DAY),))


def one_minute_moves(symbol: str, control) -> np.ndarray:
    """Absolute 1-minute log moves of ``symbol`` over the whole session."""
    marks = np.arange(DAY.open_ms, DAY.close_ms, 60_000)
    prices = underlying_path(symbol, marks, control)["price"]
    return np.abs(np.diff(np.log(prices)))


def test_the_control_in_force_follows_the_changes():
    later = EVENT_DAY.with_update(shared_seed=7)
    tl = TIMELINE.with_change(NOON + 60_000, later)
    assert tl.at(NOON - 1) == DEFAULT_CONTROL and tl.at(NOON) == EVENT_DAY and tl.at(NOON + 60_000) == later
    assert tl.latest == later
    assert tl.with_change(NOON, later).changes == ((NOON, later),)   # the newest word wins
    assert tl.between(DAY.open_ms, NOON - 1) == DEFAULT_CONTROL      # no change inside: just a control
    with pytest.raises(ValueError):
        ControlTimeline(DEFAULT_CONTROL, ((NOON, EVENT_DAY), (NOON - 1, later)))


def test_a_write_takes_effect_at_its_session_instant_plus_the_lead():
    wall = int(dt.datetime(2026, 11, 20, 17, 0, tzinfo=dt.UTC).timestamp() * 1000)
    assert change_ts("2026-11-20T17:00:00.000Z", lambda w: w) == wall + CHANGE_LEAD_MS
    assert change_ts("2026-11-20T17:00:00.000Z", lambda w: w // 2) == (wall + CHANGE_LEAD_MS) // 2
    assert change_ts(None, lambda wall: wall) is None and change_ts("not a time", lambda wall: wall) is None


@pytest.mark.parametrize("symbol", DEFAULT_SYMBOLS)
def test_a_preset_change_moves_no_price_more_than_an_ordinary_move(symbol):
    before, after = NOON - 30_000, NOON + 30_000
    move = abs(np.log(get_underlying_state(symbol, after, TIMELINE).price
                      / get_underlying_state(symbol, before, TIMELINE).price))
    ordinary = one_minute_moves(symbol, TIMELINE)
    # Tolerance: the minute across the change is within the session's 95th percentile of 1-minute moves.
    assert move <= np.quantile(ordinary, 0.95), f"{symbol}: {move:.5f} vs p95 {np.quantile(ordinary, 0.95):.5f}"
    # The same minute without stitching would jump by the gap between the two presets' paths.
    raw = abs(np.log(get_underlying_state(symbol, after, EVENT_DAY).price
                     / get_underlying_state(symbol, before, DEFAULT_CONTROL).price))
    assert raw > move


def test_before_the_change_everything_is_as_without_it():
    for symbol in ("SPY", "TSLA"):
        for ts in (DAY.open_ms, DAY.at("10:45"), NOON - 1):
            assert get_underlying_state(symbol, ts, TIMELINE) == get_underlying_state(symbol, ts, DEFAULT_CONTROL)
    assert get_session_state(NOON - 1, TIMELINE) == get_session_state(NOON - 1, DEFAULT_CONTROL)
    marks = np.arange(DAY.open_ms, NOON, 7_000)
    for key, values in underlying_path("NVDA", marks, TIMELINE).items():
        assert np.array_equal(values, underlying_path("NVDA", marks, DEFAULT_CONTROL)[key]), key


def test_after_the_change_the_new_preset_sets_the_dynamics():
    for symbol in ("SPY", "AMD"):
        a, b = NOON + 60_000, DAY.at("15:00")
        stitched = get_underlying_state(symbol, b, TIMELINE).price / get_underlying_state(symbol, a, TIMELINE).price
        new = get_underlying_state(symbol, b, EVENT_DAY).price / get_underlying_state(symbol, a, EVENT_DAY).price
        assert stitched == pytest.approx(new, rel=1e-12)
        assert get_underlying_state(symbol, b, TIMELINE).volatility == get_underlying_state(symbol, b, EVENT_DAY).volatility
    # The flow mix is the new preset's at once.
    state = get_session_state(NOON + 1_000, TIMELINE)
    assert get_scenario_weights("SPY", NOON + 1_000, TIMELINE, state).weights == \
        get_scenario_weights("SPY", NOON + 1_000, EVENT_DAY, state).weights


def test_spread_iv_and_session_levels_relax_instead_of_jumping():
    for symbol in ("SPY", "TSLA", "JPM"):
        before, after = get_underlying_state(symbol, NOON - 1_000, TIMELINE), get_underlying_state(symbol, NOON + 1_000, TIMELINE)
        # Implied volatility is held per minute: the minute of the change reads as without it.
        assert after.atm_iv == get_underlying_state(symbol, NOON + 1_000, DEFAULT_CONTROL).atm_iv
        assert after.spread_bps == pytest.approx(before.spread_bps, rel=0.3)   # one second of ordinary flicker
        late = get_underlying_state(symbol, DAY.at("15:30"), TIMELINE)
        assert late.atm_iv == pytest.approx(get_underlying_state(symbol, DAY.at("15:30"), EVENT_DAY).atm_iv, rel=1e-3)
    a, b = get_session_state(NOON - 1_000, TIMELINE), get_session_state(NOON + 1_000, TIMELINE)
    for field in ("volatility_level", "liquidity_level", "quote_cleanliness"):
        assert getattr(b, field) == pytest.approx(getattr(a, field), abs=0.02), field


def test_a_seed_change_is_a_new_market():
    new_market = DEFAULT_CONTROL.with_update(shared_seed=DEFAULT_CONTROL.shared_seed + 1)
    tl = ControlTimeline(DEFAULT_CONTROL, ((NOON, new_market),))
    after = NOON + 5_000
    assert get_underlying_state("SPY", after, tl).price == get_underlying_state("SPY", after, new_market).price


def test_the_live_book_stamps_each_stored_revision_at_its_write_plus_the_lead():
    def iso(ts: int) -> str:
        return dt.datetime.fromtimestamp(ts / 1000, dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")

    book = TimelineBook(lambda wall: wall, DEFAULT_CONTROL)
    first = DEFAULT_CONTROL.with_update(updated_at=iso(NOON - 3_600_000))
    assert book.add(first) == ControlTimeline(DEFAULT_CONTROL, ((NOON - 3_600_000 + CHANGE_LEAD_MS, first),))
    second = EVENT_DAY.with_update(updated_at=iso(NOON))
    got = book.add(second)
    assert isinstance(got, ControlTimeline) and got.at(NOON + CHANGE_LEAD_MS) == second
    assert got.at(NOON + CHANGE_LEAD_MS - 1) == first
    # An entry without a time (written by hand) stands for the whole timeline.
    assert book.add(EVENT_DAY) == EVENT_DAY


def test_a_days_timeline_reads_as_one_line():
    tl = TIMELINE.with_change(NOON + 3_600_000 + 1_500, EVENT_DAY.with_update(shared_seed=7))
    assert describe_day(tl, DAY.open_ms, DAY.close_ms) == \
        "balanced_demo/seed 20260101@09:30 event_day/seed 20260101@12:00 event_day/seed 7@13:00:01"
    assert describe_day(DEFAULT_CONTROL, DAY.open_ms, DAY.close_ms) == "balanced_demo/seed 20260101@09:30"
