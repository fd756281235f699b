"""An early close (13:00 New York) ends the whole market at 13:00: engine, phases, events and both tapes."""

from __future__ import annotations

import datetime as dt

import pytest

from equities_svc.generator import EquitiesGenerator
from options_svc.generator import OptionsGenerator
from synthmarket.domain.calendar import EXCHANGE_TZ, trading_day
from synthmarket.domain.control import SyntheticControlState
from synthmarket.domain.presets import SyntheticControlPresetId as Preset
from synthmarket.domain.regimes import SessionPhase
from synthmarket.engine.market import market_day
from synthmarket.engine.regime_engine import OutsideSessionError, get_session_state

HALF = trading_day(dt.date(2026, 11, 27))      # the day after Thanksgiving: 09:30-13:00
FULL = trading_day(dt.date(2026, 11, 24))
MINUTE = 60_000
SEEDS = (7, 424242, 20260101)


def test_the_half_day_is_210_minutes_and_the_engine_stops_at_its_close():
    assert dt.datetime.fromtimestamp(HALF.close_ms / 1000, EXCHANGE_TZ).time() == dt.time(13, 0)
    control = SyntheticControlState(shared_seed=7)
    last = get_session_state(HALF.close_ms, control)
    assert last.minute_of_session == 210
    with pytest.raises(OutsideSessionError, match="outside the regular session"):
        get_session_state(HALF.close_ms + 1, control)
    for m in range(0, 210, 5):
        assert get_session_state(HALF.open_ms + m * MINUTE, control).regime_ends_ms <= HALF.close_ms


@pytest.mark.parametrize("preset", [Preset.BALANCED_DEMO, Preset.EVENT_DAY, Preset.DEALER_DAY])
@pytest.mark.parametrize("seed", SEEDS)
def test_power_hour_is_the_hour_before_the_early_close(preset, seed):
    control = SyntheticControlState(preset_id=preset, shared_seed=seed)
    phases = [get_session_state(HALF.open_ms + m * MINUTE, control).session_phase for m in range(210)]
    assert SessionPhase.POWER_HOUR not in phases[:150]
    assert set(phases[150:]) <= {SessionPhase.POWER_HOUR, SessionPhase.AFTER_EVENT}
    assert SessionPhase.POWER_HOUR in phases[150:]


@pytest.mark.parametrize("preset", [Preset.BALANCED_DEMO, Preset.EVENT_DAY])
@pytest.mark.parametrize("seed", SEEDS)
def test_every_event_of_a_half_day_happens_before_its_close(preset, seed):
    half = market_day(HALF.ordinal, seed, preset)
    full = market_day(FULL.ordinal, seed, preset)
    # A 210-minute session holds its share of a full session's events (event_day: 3 of 6).
    assert len(half.slots) == round(len(full.slots) * 210 / 390)
    assert all(20 <= slot.minute < 200 for slot in half.slots), half.slots
    # On a full day they spread over the whole session, past the half day's close.
    assert max(slot.minute for slot in full.slots) > 210


def test_the_equity_tape_ends_at_the_early_close():
    # 20-minute blocks do not divide the 210-minute session: the last block is cut by the close.
    gen = EquitiesGenerator(SyntheticControlState(shared_seed=7), ("SPY", "AAPL"), start_ts=HALF.open_ms,
                            block_minutes=20)
    records = gen.step(HALF.open_ms, HALF.open_ms + 400 * MINUTE)
    assert records
    assert max(r.ts for r in records) < HALF.close_ms
    assert max(r.ts for r in records) > HALF.close_ms - MINUTE


def test_the_option_tape_ends_at_the_early_close():
    control = SyntheticControlState(preset_id=Preset.EVENT_DAY, shared_seed=7)
    gen = OptionsGenerator(control, ("SPY", "AAPL", "NVDA", "TSLA", "JPM"), start_ts=HALF.open_ms + 150 * MINUTE)
    prints = []
    for t0 in range(HALF.open_ms + 150 * MINUTE, HALF.open_ms + 400 * MINUTE, 30_000):
        prints += gen.step(t0, t0 + 30_000)
    assert prints
    assert max(p.ts for p in prints) < HALF.close_ms
