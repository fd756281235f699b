"""Options see the equity market they trade against (issue 12 part 4).

``synthmarket.engine.nbbo_at.quote_at`` is the quote equities_svc publishes as in force at any ts; every
option print's ``underlying_price`` lies inside it, and option values move with it by their delta.
"""

from __future__ import annotations

import bisect
import datetime as dt

import numpy as np
import pytest

from equities_svc.generator import EquitiesGenerator
from options_svc.generator import OptionsGenerator
from synthmarket.domain import chain
from synthmarket.domain.calendar import MS_PER_MINUTE, trading_day
from synthmarket.domain.control import SyntheticControlState
from synthmarket.domain.control_timeline import ControlTimeline
from synthmarket.domain.marketdata import EquityQuote
from synthmarket.domain.universe import DEFAULT_SYMBOLS
from synthmarket.engine import nbbo_at

DAY = trading_day(dt.date(2026, 11, 20))
CONTROL = SyntheticControlState(shared_seed=20260101)


def _published(control: SyntheticControlState | ControlTimeline, symbols: tuple[str, ...], start: int, end: int,
               block_minutes: int = 5) -> dict[str, tuple[list[int], list[float], list[float]]]:
    """Each symbol's published quotes (ts, bid, ask) over [start, end), from a live-sized generator."""
    out: dict[str, tuple[list[int], list[float], list[float]]] = {s: ([], [], []) for s in symbols}
    for r in EquitiesGenerator(control, symbols, start_ts=start, block_minutes=block_minutes).step(start, end):
        if isinstance(r, EquityQuote):
            ts, bid, ask = out[r.symbol]
            ts.append(r.ts)
            bid.append(r.bid)
            ask.append(r.ask)
    return out


def _in_force(quotes: tuple[list[int], list[float], list[float]], ts: int) -> tuple[float, float]:
    i = bisect.bisect_right(quotes[0], ts) - 1
    assert i >= 0
    return quotes[1][i], quotes[2][i]


# A preset change at 12:15:01.234 (the engine's control timeline) as well as a plain control.
CHANGED = ControlTimeline(CONTROL, ((DAY.at("12:15") + 1_234, CONTROL.with_update(preset_id="retail_chase")),))


@pytest.mark.parametrize(("symbols", "start_hhmm", "control"), [
    (DEFAULT_SYMBOLS[:6], "09:30", CONTROL), (("NFLX", "BAC", "SPY"), "12:07", CONTROL),
    (("TSLA", "QQQ"), "12:07", CHANGED),
])
def test_quote_at_is_the_published_quote_in_force(symbols, start_hhmm, control) -> None:
    start = DAY.at(start_hhmm)
    end = start + 25 * MS_PER_MINUTE
    published = _published(control, symbols, start - MS_PER_MINUTE if start > DAY.open_ms else start, end)
    rng = np.random.default_rng(5)
    for sym in symbols:
        q_ts = published[sym][0]
        probes = [t for t in q_ts if t >= start] + [t - 1 for t in q_ts if t > start] + \
            rng.integers(start, end, 300).tolist()
        for ts in probes:
            assert nbbo_at.quote_at(sym, ts, control, symbols) == _in_force(published[sym], ts), (sym, ts)


def test_quote_at_covers_the_close_and_refuses_outside_the_session() -> None:
    last = _published(CONTROL, ("AAPL",), DAY.close_ms - MS_PER_MINUTE, DAY.close_ms)["AAPL"]
    assert nbbo_at.quote_at("AAPL", DAY.close_ms, CONTROL, ("AAPL",)) == (last[1][-1], last[2][-1])
    with pytest.raises(ValueError, match="outside"):
        nbbo_at.quote_at("AAPL", DAY.close_ms + 1, CONTROL)


def test_mids_read_in_one_pass_are_quote_ats_mids() -> None:
    # Across a chunk edge (10:45 starts a new 15-minute chunk), at the open and at the close.
    for start in (DAY.open_ms, DAY.at("10:44"), DAY.close_ms - 30_000):
        times = sorted(start + (k * 7_919) % 90_000 for k in range(60) if start + (k * 7_919) % 90_000 <= DAY.close_ms)
        for symbol in ("SPY", "BAC"):
            expected = [(b + a) / 2.0 for b, a in (nbbo_at.quote_at(symbol, t, CONTROL) for t in times)]
            assert nbbo_at.mids_at(symbol, times, CONTROL) == expected
    assert nbbo_at.mids_at("SPY", [], CONTROL) == []


def test_every_option_print_underlying_price_inside_the_equity_nbbo() -> None:
    start, end = DAY.open_ms, DAY.open_ms + 60 * MS_PER_MINUTE
    published = _published(CONTROL, DEFAULT_SYMBOLS, start, end, block_minutes=15)
    prints = OptionsGenerator(CONTROL, DEFAULT_SYMBOLS, start_ts=start).step(start, end)
    assert len(prints) > 1_000
    outside = []
    for p in prints:
        bid, ask = _in_force(published[p.underlying], p.ts)
        if not bid - 1e-9 <= p.underlying_price <= ask + 1e-9:
            outside.append((p.id, p.underlying_price, bid, ask))
    # Measure: prints of the first hour (20 names) whose underlying_price lies outside the equity
    # NBBO in force at their ts (ISO sweep legs and later legs included). Bound: none.
    assert not outside, outside[:5]


def test_option_values_move_with_the_underlying_by_their_delta() -> None:
    gen = OptionsGenerator(CONTROL, DEFAULT_SYMBOLS, start_ts=DAY.at("11:00"))
    checked = 0
    for sym in ("SPY", "AAPL", "NVDA"):
        t0 = DAY.at("11:00") + 7_000
        ctx0 = gen.scenario_context(sym, t0)
        expiry = next(e for e in chain.expiries(sym, ctx0.today) if (e - ctx0.today).days >= 7)
        strike = chain.nearest_strike(ctx0.ul.price, (expiry - ctx0.today).days, sym)
        for dt_ms in (400, 1_500, 9_000, 25_000):      # inside one minute: the surface holds still
            ctx1 = gen.scenario_context(sym, t0 + dt_ms)
            s0, s1 = ctx0.ul.price, ctx1.ul.price
            # The spot is the published equity mid at each instant.
            assert s0 == sum(nbbo_at.quote_at(sym, t0, CONTROL)) / 2 and s1 == sum(nbbo_at.quote_at(sym, t0 + dt_ms, CONTROL)) / 2
            if s1 == s0:
                continue
            for right in ("C", "P"):
                theo0 = ctx0.quote(t0, s0, expiry, strike, right).theo
                theo1 = ctx1.quote(t0 + dt_ms, s1, expiry, strike, right).theo
                h = 0.01 * s0
                delta = (ctx0.quote(t0, s0 + h, expiry, strike, right).theo
                         - ctx0.quote(t0, s0 - h, expiry, strike, right).theo) / (2 * h)
                # Measure: change of the option's model value against delta x the change of the
                # equity mid. Tolerance: 15% of the predicted move plus a tenth of a cent (gamma,
                # seconds of theta).
                predicted = delta * (s1 - s0)
                assert abs((theo1 - theo0) - predicted) <= 0.15 * abs(predicted) + 0.001, (sym, right, dt_ms)
                checked += 1
    assert checked >= 8
