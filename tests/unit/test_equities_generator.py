"""EquitiesGenerator contract: ordering, determinism, step-size independence, ids, grids, quote consistency."""

from __future__ import annotations

import datetime as dt
import re

import numpy as np
import pytest

from equities_svc.generator import BLOCK_MINUTES, EquitiesGenerator
from synthmarket import engine
from synthmarket.domain.calendar import MS_PER_MINUTE, trading_day
from synthmarket.domain.control import SyntheticControlState
from synthmarket.domain.marketdata import EQUITY_TRADE_CONDITIONS, NBBO_EXEMPT_CONDITIONS, EquityQuote, EquityTrade
from synthmarket.domain.presets import SyntheticControlPresetId
from synthmarket.domain.universe import UnknownSymbolError
from tests.support import tapestats

DAY = trading_day(dt.date(2026, 11, 24))       # a Tuesday
FRIDAY = trading_day(dt.date(2026, 11, 20))
SYMBOLS = ("SPY", "AAPL", "NVDA", "BAC")
CONTROL = SyntheticControlState(shared_seed=424242)
ID_RE = re.compile(r"^e-([A-Z]+)-(\d+)-(\d+)$")


def run(gen: EquitiesGenerator, start: int, end: int, step: int | list[int]) -> list:
    out: list = []
    t0, i = start, 0
    while t0 < end:
        width = step if isinstance(step, int) else step[i % len(step)]
        t1 = min(end, t0 + width)
        part = gen.step(t0, t1)
        assert all(t0 <= r.ts < t1 for r in part), "every record lies in [t0, t1)"
        out.extend(part)
        t0, i = t1, i + 1
    return out


@pytest.fixture(scope="module")
def opening_tape() -> list:
    """The first 12 minutes (crosses two block boundaries), in one step."""
    gen = EquitiesGenerator(CONTROL, SYMBOLS, start_ts=DAY.open_ms)
    return gen.step(DAY.open_ms, DAY.open_ms + 12 * MS_PER_MINUTE)


def test_records_are_ts_ordered_with_quotes_before_trades(opening_tape: list) -> None:
    ts = [r.ts for r in opening_tape]
    assert ts == sorted(ts)
    trades = [r for r in opening_tape if isinstance(r, EquityTrade)]
    quotes = [r for r in opening_tape if isinstance(r, EquityQuote)]
    assert len(trades) > 500 and len(quotes) > 500
    # Every symbol has its opening NBBO at the open, before any trade of that symbol.
    for sym in SYMBOLS:
        first = next(r for r in opening_tape if r.symbol == sym)
        assert isinstance(first, EquityQuote) and first.ts == DAY.open_ms


def test_same_inputs_same_output(opening_tape: list) -> None:
    again = EquitiesGenerator(CONTROL, SYMBOLS, start_ts=DAY.open_ms).step(
        DAY.open_ms, DAY.open_ms + 12 * MS_PER_MINUTE
    )
    assert again == opening_tape
    other_seed = EquitiesGenerator(CONTROL.with_update(shared_seed=1), SYMBOLS, start_ts=DAY.open_ms).step(
        DAY.open_ms, DAY.open_ms + 12 * MS_PER_MINUTE
    )
    assert other_seed != opening_tape


@pytest.mark.parametrize("step", [1_000, 250, 7_333, [90_000, 1, 17, 4_321, 61_000]])
def test_output_does_not_depend_on_step_size(opening_tape: list, step) -> None:
    gen = EquitiesGenerator(CONTROL, SYMBOLS, start_ts=DAY.open_ms)
    assert run(gen, DAY.open_ms, DAY.open_ms + 12 * MS_PER_MINUTE, step) == opening_tape


BLOCK_MS = BLOCK_MINUTES * MS_PER_MINUTE


def test_random_access_mid_session_matches_replay_from_open() -> None:
    start = DAY.at("11:02") + 17_345
    end = start + 3 * BLOCK_MS
    fresh = EquitiesGenerator(CONTROL, SYMBOLS, start_ts=start).step(start, end)
    warm = EquitiesGenerator(CONTROL, SYMBOLS, start_ts=start - BLOCK_MS)
    warm.step(start - BLOCK_MS, start)
    assert len(fresh) > 100
    assert run(warm, start, end, 2_500) == fresh


@pytest.mark.parametrize("block_minutes", [1, 7, 60])
def test_output_does_not_depend_on_block_length(opening_tape: list, block_minutes: int) -> None:
    # Draws are keyed per minute, so how many minutes are built together changes nothing.
    gen = EquitiesGenerator(CONTROL, SYMBOLS, start_ts=DAY.open_ms, block_minutes=block_minutes)
    assert run(gen, DAY.open_ms, DAY.open_ms + 12 * MS_PER_MINUTE, 60_000) == opening_tape


def test_block_length_must_be_positive() -> None:
    with pytest.raises(ValueError, match="block_minutes"):
        EquitiesGenerator(CONTROL, SYMBOLS, start_ts=DAY.open_ms, block_minutes=0)


def test_trade_ids_unique_and_deterministic(opening_tape: list) -> None:
    trades = [r for r in opening_tape if isinstance(r, EquityTrade)]
    ids = [t.id for t in trades]
    assert len(set(ids)) == len(ids)
    for t in trades:
        m = ID_RE.match(t.id)
        assert m and m.group(1) == t.symbol and int(m.group(2)) == t.ts
    # Several prints in one ms are numbered 0, 1, 2...
    assert any(t.id.endswith("-1") for t in trades)


def test_no_records_outside_regular_sessions() -> None:
    gen = EquitiesGenerator(CONTROL, SYMBOLS, start_ts=DAY.open_ms - 3_600_000)
    assert gen.step(DAY.open_ms - 3_600_000, DAY.open_ms) == []
    assert gen.step(DAY.close_ms, DAY.close_ms + 3_600_000) == []
    saturday = trading_day(dt.date(2026, 11, 20)).open_ms + 86_400_000
    assert gen.step(saturday, saturday + 6 * 3_600_000) == []
    assert gen.step(DAY.open_ms + 10, DAY.open_ms + 10) == []


def test_step_across_a_weekend_covers_both_sessions_only() -> None:
    monday = trading_day(dt.date(2026, 11, 23))
    gen = EquitiesGenerator(CONTROL, ("AAPL",), start_ts=FRIDAY.close_ms - 60_000)
    recs = gen.step(FRIDAY.close_ms - 60_000, monday.open_ms + 60_000)
    fri = [r for r in recs if r.ts < FRIDAY.close_ms]
    mon = [r for r in recs if r.ts >= monday.open_ms]
    assert fri and mon and len(fri) + len(mon) == len(recs)


def test_quotes_on_tick_grid_ask_above_bid_round_lot_sizes(opening_tape: list) -> None:
    quotes = [r for r in opening_tape if isinstance(r, EquityQuote)]
    bids = np.array([q.bid for q in quotes])
    asks = np.array([q.ask for q in quotes])
    assert np.all(asks > bids)
    assert np.all(tapestats.on_grid(bids, 0.01)) and np.all(tapestats.on_grid(asks, 0.01))
    assert all(q.bid_size % 100 == 0 and q.ask_size % 100 == 0 and q.bid_size > 0 for q in quotes)


def test_quotes_follow_the_engine_price_path(opening_tape: list) -> None:
    for sym in SYMBOLS:
        qs = [r for r in opening_tape if isinstance(r, EquityQuote) and r.symbol == sym]
        ts = np.array([q.ts for q in qs])
        path = engine.underlying_path(sym, ts, CONTROL, symbols=SYMBOLS)
        mid = np.array([(q.bid + q.ask) / 2 for q in qs])
        half = np.array([(q.ask - q.bid) / 2 for q in qs])
        outside_ticks = (np.abs(mid - path["price"]) - half) * 100
        # The NBBO brackets the engine's mid (half a tick of rounding allowed) at its anchors; between
        # them the quote walks a tick at a time, a few ticks behind a fast path at most.
        # Measure: share of quotes bracketing it, first 12 minutes (the most volatile). Bound >= 0.95.
        assert np.mean(outside_ticks <= 0.51) >= 0.95, sym
        assert outside_ticks.max() <= 10.0, sym


def test_trades_priced_against_the_quote_in_force(opening_tape: list) -> None:
    trades = [r for r in opening_tape if isinstance(r, EquityTrade)]
    for sym in SYMBOLS:
        cols = tapestats.columns(opening_tape, sym)
        lit = ~cols.t_off
        assert np.all(tapestats.on_grid(cols.t_price[lit], 0.01)), "lit prints on the penny grid"
        assert np.all(tapestats.on_grid(cols.t_price, 0.0001)), "TRF prints on the 1/100 cent grid"
        bid, ask, has = tapestats.in_force_quotes(cols)
        assert has.all(), "the opening NBBO precedes every trade"
        outside = (cols.t_price < bid - 1e-9) | (cols.t_price > ask + 1e-9)
        cond = np.array([t.condition for t in trades if t.symbol == sym])
        # Documented exceptions only, each carrying its condition.
        assert set(cond[outside]) <= NBBO_EXEMPT_CONDITIONS, set(cond[outside])
    assert all((t.venue == "FINRA_TRF") == t.off_exchange for t in trades)
    assert {t.condition for t in trades} <= set(EQUITY_TRADE_CONDITIONS)
    sub_penny = [t for t in trades if t.off_exchange and not tapestats.on_grid(np.array([t.price]), 0.01)[0]]
    assert sub_penny, "midpoint crosses and wholesaler fills print at sub-penny prices"


def test_set_control_changes_what_is_not_yet_emitted() -> None:
    gen = EquitiesGenerator(CONTROL, SYMBOLS, start_ts=DAY.open_ms)
    first = gen.step(DAY.open_ms, DAY.open_ms + 60_000)
    gen.set_control(CONTROL)    # same control: nothing rebuilt
    assert gen.step(DAY.open_ms, DAY.open_ms + 60_000) == first
    quiet = CONTROL.with_update(preset_id=SyntheticControlPresetId.QUIET_RANGE)
    gen.set_control(quiet)
    assert gen.control is quiet
    later = gen.step(DAY.at("10:00"), DAY.at("10:05"))
    expected = EquitiesGenerator(quiet, SYMBOLS, start_ts=DAY.at("10:00")).step(DAY.at("10:00"), DAY.at("10:05"))
    assert later == expected
    assert gen.cursor == DAY.at("10:05")


def test_unknown_symbol_rejected() -> None:
    with pytest.raises(UnknownSymbolError):
        EquitiesGenerator(CONTROL, ("NOPE",), start_ts=DAY.open_ms)
