"""Ordinary option flow: the small two-sided retail and market-maker trades that are most of a real tape.

A real session prints about 6 M US option trades, most of them one or two contracts between retail
and market makers; sweeps and blocks of the smart-money families are a small share of the prints.
This module samples that tape: each name trades at its share of a real day (``REAL_DAY_TRADES``)
times ``scale`` (the knob: about 1/40 of a real day by default, ~75k prints; every distribution is the
same at any scale), shaped by the intraday U, the regime, focus and event names and a slow random mood.
Orders are near the money and short-dated (0DTE and weeklies on SPY, QQQ and IWM), sized with a
median of one or two contracts and a heavy tail, bought and sold near the touch or at mid, on
venues by market share; a few are small ISO sweeps or complex orders. Every order of ten or more
contracts trades where no classifier rule can read it (see ``orders.py``).

A minute of every name is drawn at once, and all its contracts are valued and quoted in one array pass.
"""

from __future__ import annotations

import bisect
import datetime as dt
import itertools
import math
from collections.abc import Callable, Sequence
from functools import lru_cache
from typing import Any, NamedTuple

import numpy as np

from options_svc import arrivals, orders, pricing
from options_svc.american import american_prices, bs_vegas
from options_svc.desk import Desk, Order, Spots, Tape
from options_svc.legs import Draft, ScenarioContext, listed_expiries
from options_svc.pricing import regime_name
from options_svc.scenario_rng import ScenarioRng
from synthmarket.domain import chain, rng
from synthmarket.domain.calendar import MS_PER_MINUTE, SESSION_MINUTES, TradingDay
from synthmarket.domain.regimes import Regime

# Option trades of each name on a typical regular session (rough 2024-25 magnitudes; the US total is
# ~6 M a day and these twenty names carry about half of it, SPY alone over a tenth).
REAL_DAY_TRADES: dict[str, int] = {
    "SPY": 700_000, "QQQ": 350_000, "IWM": 120_000, "TSLA": 300_000, "NVDA": 330_000, "AAPL": 160_000,
    "AMD": 100_000, "AMZN": 100_000, "META": 90_000, "MSFT": 70_000, "GOOGL": 70_000, "PLTR": 120_000,
    "COIN": 60_000, "AVGO": 60_000, "NFLX": 40_000, "JPM": 30_000, "BAC": 25_000, "XOM": 20_000,
    "UNH": 35_000, "WMT": 20_000,
}
DEFAULT_SCALE = 1.0 / 40.0          # the sample of a real day the tape carries
PRINTS_PER_ORDER = 1.25             # splits, sweeps and complex orders print more than once
ORDINARY_SUBTYPE = "ordinary_flow"  # the hidden label of these prints (family neutral_noise)
_TAG_ORDINARY = 0x4F5244494E415259
_COLUMNS = 16                       # uniforms drawn per order

REGIME_ACTIVITY: dict[str, float] = {
    Regime.TREND_UP.value: 1.1, Regime.TREND_DOWN.value: 1.2, Regime.MEAN_REVERT.value: 0.9,
    Regime.RETAIL_CHASE.value: 1.35, Regime.EVENT_RAMP.value: 1.15, Regime.DEALER_GAMMA.value: 1.05,
    Regime.ARB_CALM.value: 0.8,
}
# Chasing and rallying tapes lean to the ask.
BUY_TILT: dict[str, float] = {
    Regime.RETAIL_CHASE.value: 0.06, Regime.TREND_UP.value: 0.03, Regime.EVENT_RAMP.value: 0.03,
    Regime.TREND_DOWN.value: 0.02,
}


def _u_raw(m: float) -> float:
    return 0.75 + 1.5 * math.exp(-m / 30.0) + 0.5 * math.exp(-(SESSION_MINUTES - m) / 35.0)


_U_MEAN = sum(_u_raw(m + 0.5) for m in range(SESSION_MINUTES)) / SESSION_MINUTES


def intraday_shape(minute: float) -> float:
    """Volume by time of day, mean 1 over the session: heavy at the open, raised into the close."""
    return _u_raw(minute) / _U_MEAN


# ---------------------------------------------------------------------------------------------
# Contract choice


def _expiry_weight(rank: int, dte: int, daily: bool) -> float:
    """How much of a name's flow an expiry takes: the front dominates (0DTE on the daily names)."""
    if daily:
        if dte == 0:
            return 0.42
        if dte <= 7:
            return 0.30 * math.exp(-(dte - 1) / 2.5) / 1.9
        if dte <= 14:
            return 0.014
        if dte <= 45:
            return 0.02
        return 0.012 if dte <= 120 else 0.006
    if rank == 0:
        return 0.38
    if rank == 1:
        return 0.17
    if dte <= 30:
        return 0.06
    if dte <= 60:
        return 0.05
    return 0.025 if dte <= 180 else 0.012


class Listing(NamedTuple):
    """A name's listed expiries on one day, with what an order reads of each."""

    expiries: tuple[dt.date, ...]
    cumulative: tuple[float, ...]       # the share of flow up to each expiry
    close_ms: tuple[int, ...]           # when each stops trading
    dte: tuple[int, ...]


@lru_cache(maxsize=512)
def expiry_table(symbol: str, today: dt.date) -> Listing:
    """Listed expiries of ``symbol`` on ``today``, the cumulative share of flow up to each, their
    closes and days to expiry."""
    exps = listed_expiries(symbol, today, 0, 1000)
    daily = symbol in chain.DAILY_EXPIRY_ROOTS
    dte = tuple((e - today).days for e in exps)
    weights = [_expiry_weight(rank, days, daily) for rank, days in enumerate(dte)]
    total = sum(weights)
    return Listing(exps, tuple(c / total for c in itertools.accumulate(weights)),
                   tuple(chain.expiry_close_ms(e) for e in exps), dte)


def pick_strike(symbol: str, vol: float, spot: float, dte: int, t_years: float, right: str, u_dist: float,
                u_itm: float) -> float:
    """A listed strike near the money: the distance in standard deviations (at ``vol``, the name's
    at-the-money vol floored at 5%, over the time left, at least half an hour) is exponential with
    mean 0.55, three in four out of the money."""
    # Comparisons rather than min and max, which parse keyword arguments on every call (same values).
    sd = vol * math.sqrt(_HALF_HOUR if t_years < _HALF_HOUR else t_years)
    z = -0.55 * math.log(1.0 - u_dist)
    if z > 4.0:
        z = 4.0
    if u_itm < 0.25:
        z = -z
    target = spot * math.exp(z * sd if right == "C" else -z * sd)
    inc = _increment(int(spot), dte, symbol)
    steps = round(target / inc)
    return round((steps if steps >= 1 else 1) * inc, 4)


@lru_cache(maxsize=4096)
def _increment(price_band: int, dte: int, symbol: str) -> float:
    """``chain.strike_increment``, remembered: it changes only where spot crosses a whole dollar band
    edge (25, 150, 300, 400), so a band of one dollar answers for every spot inside it."""
    return chain.strike_increment(price_band + 0.5, dte, symbol)


_HALF_HOUR = 0.5 / (252 * 6.5)


# ---------------------------------------------------------------------------------------------
# The flow of one minute


Context = Callable[[str, int, int], ScenarioContext]     # (symbol, ts, scenario key)


class OrdinaryFlow:
    """Draws the ordinary orders of ``symbols`` a minute at a time and prices them in one batch."""

    def __init__(self, symbols: Sequence[str], scale: float = DEFAULT_SCALE, start_ts: int = 0) -> None:
        self.symbols = tuple(symbols)
        self.scale = float(scale)
        self._keys = [rng.stable_str_key(s) for s in self.symbols]
        # Each name's orders in an average minute, before the minute's shape, regime, vol and mood.
        self._base = [REAL_DAY_TRADES.get(s, 20_000) * self.scale / SESSION_MINUTES / PRINTS_PER_ORDER
                      for s in self.symbols]
        self._rng = _MinuteRng(self._keys)
        self._mleg_seq = 0
        self._until = int(start_ts)

    def until(self, t1: int, seed: int, day_at: Callable[[int], TradingDay], session_at: Callable[[int], Any],
              context: Context, spots: Spots) -> list[tuple[int, int, Draft]]:
        """The prints of every session minute that starts before ``t1`` and was not drawn yet (a
        minute is drawn whole, so the tape does not depend on where steps fall; a start inside a
        minute keeps that minute's prints from the start on). A draw's prints are never older than
        the minute, and may run a few ms past it."""
        out: list[tuple[int, int, Draft]] = []
        while self.scale > 0.0 and self._until < t1:
            td = day_at(self._until)
            start = max(self._until, td.open_ms)
            if start >= t1:
                self._until = start
                break
            minute = td.open_ms + (start - td.open_ms) // MS_PER_MINUTE * MS_PER_MINUTE
            end = min(minute + MS_PER_MINUTE, td.close_ms)
            prints = self.minute(seed, minute, end, session_at(minute), context, spots)
            if start > minute:
                # A fill a few ms after an order near the end of the minute belongs to this minute's
                # draw; a piece that would print after the close prints at its order's ts, so only a
                # start inside the minute drops prints.
                prints = [p for p in prints if start <= p[0] < td.close_ms]
            out += prints
            self._until = end
        return out

    def rates_per_minute(self, session, seed: int, ts: int) -> list[float]:
        """Expected orders of each name per minute at ``ts``."""
        shape = intraday_shape(session.minute_of_session)
        activity = REGIME_ACTIVITY.get(regime_name(session.regime), 1.0)
        vol = math.sqrt(max(session.volatility_level, 0.1))
        focus, event = session.focus_symbols, session.event_symbols
        mood = arrivals.mood
        out = []
        for symbol, sym_key, base in zip(self.symbols, self._keys, self._base):
            rate = base * shape * activity * (vol * mood(seed, sym_key, ts))
            if symbol in focus:
                rate *= 1.5
            if symbol in event:
                rate *= 2.0
            out.append(rate)
        return out

    def minute(self, seed: int, start: int, end: int, session, context: Context,
               spots: Spots) -> list[tuple[int, int, Draft]]:
        """Every ordinary print of the orders sent in [start, end) (one session minute) as (ts, symbol
        index, draft)."""
        span = end - start
        tape = Tape(session, BUY_TILT.get(regime_name(session.regime), 0.0))
        book: list[Order] = []
        keys = self._rng.keys(seed, start // MS_PER_MINUTE)
        for idx, (symbol, key, rate) in enumerate(zip(self.symbols, keys, self.rates_per_minute(session, seed, start))):
            g = self._rng.keyed(key)
            n = int(g.poisson(rate * span / MS_PER_MINUTE))
            if n:
                # The name's surface, quote terms and calendar of the minute; each order reads its own spot.
                desk = Desk(idx, context(symbol, start, 0), spots, tape)
                book += _orders(desk, g.random((n, _COLUMNS)).tolist(), start, span)
        if not book:
            return []
        _value(book)
        out: list[tuple[int, int, Draft]] = []
        append = out.append
        prints = orders.prints
        next_mleg = self._next_mleg
        for order in book:
            idx = order.desk.idx
            for d in prints(order, next_mleg):
                append((d.ts, idx, d))
        return out

    def _next_mleg(self, symbol: str, ts: int) -> str:
        self._mleg_seq += 1
        return f"b-{symbol}-{ts}-{self._mleg_seq}"


class _MinuteRng:
    """The generator of each name's minute, ``rng.generator(seed, _TAG_ORDINARY, sym_key, minute)``: the
    key folded from the name's part of it (kept per seed) and the minute, for every name at once."""

    def __init__(self, sym_keys: Sequence[int]) -> None:
        self._sym_keys = tuple(sym_keys)
        self._seed: int | None = None
        self._prefixes = np.zeros(0, np.uint64)
        self._rng = ScenarioRng()

    def keys(self, seed: int, minute_key: int) -> list[int]:
        """The Philox key of every name in minute ``minute_key``."""
        if seed != self._seed:
            self._prefixes = np.array([rng.mix(seed, _TAG_ORDINARY, k) for k in self._sym_keys], np.uint64)
            self._seed = seed
        return rng.fold(self._prefixes, minute_key).tolist()

    def keyed(self, key: int) -> np.random.Generator:
        """The generator keyed ``key``; it invalidates the previous one."""
        return self._rng.keyed_by(key)


def _orders(desk: Desk, rows: list[list[float]], start: int, span: int) -> list[Order]:
    """The orders of one name in one minute, one per row of uniforms (none for an expiry that has
    stopped trading)."""
    ctx = desk.ctx
    root = desk.root
    expiries, cumulative, close_ms, dtes = expiry_table(root, ctx.today)
    last = len(expiries) - 1
    vol = max(ctx.ul.atm_iv, 0.05)
    drift = ctx.ul.drift_bps_per_min
    call_share = 0.56 + (0.05 if drift > 0 else -0.05 if drift < 0 else 0.0)
    times = _arrivals(rows, start, span)
    sizes = [orders.order_size(u[7], u[8], u[9]) for u in rows]
    # Later pieces of sweeps and of large orders read the spot of their own ts: read those too.
    desk.read_spots(times, orders.later_times(rows, times, sizes))
    spot_at = desk.spot_at
    draw = orders.draw
    book = []
    for u, ts, size in zip(rows, times, sizes):
        k = bisect.bisect_right(cumulative, u[2])
        if k > last:
            k = last
        close = close_ms[k]
        if close > ts:
            spot = spot_at[ts]
            t = (close - ts) / chain.MS_PER_YEAR
            right = "C" if u[3] < call_share else "P"
            dte = dtes[k]
            strike = pick_strike(root, vol, spot, dte, t, right, u[4], u[5])
            book.append(draw(desk, ts, spot, expiries[k], dte, t, right, strike, size, u))
    return book


# ---------------------------------------------------------------------------------------------
# Valuation and quotes of a minute's legs, in arrays (``american_prices``, ``bs_vegas``,
# ``quotes_around``: the scalar functions element by element).


def _value(book: list[Order]) -> None:
    """Value and quote every leg of ``book`` (every T > 0): puts in the money get their American vega
    from a second valuation in the same pass."""
    legs, rights, spots, strikes, times, sigmas, scales, roots = zip(*[
        (leg, leg.right, order.spot, leg.strike, order.t, leg.sigma, order.desk.terms.scale, order.desk.root)
        for order in book for leg in order.legs])
    put = np.array([right == "P" for right in rights])
    spot = np.array(spots)
    strike = np.array(strikes)
    t = np.array(times)
    sigma = np.array(sigmas)
    itm = np.flatnonzero(put & (strike > spot))
    values = american_prices(np.concatenate((put, put[itm])), np.concatenate((spot, spot[itm])),
                             np.concatenate((strike, strike[itm])), np.concatenate((t, t[itm])),
                             np.concatenate((sigma, sigma[itm] + orders.VEGA_BUMP)))
    n = len(legs)
    theo = values[:n]
    vega = bs_vegas(spot, strike, t, sigma)
    am_vega = vega.copy()
    am_vega[itm] = (values[n:] - theo[itm]) / orders.VEGA_BUMP
    intrinsic = np.maximum(np.where(put, strike - spot, spot - strike), 0.0)
    bid, ask = pricing.quotes_around(theo, intrinsic, vega, t, np.array(scales), list(roots))
    for leg, value, leg_bid, leg_ask, leg_vega in zip(legs, theo.tolist(), bid, ask, am_vega.tolist()):
        leg.theo, leg.bid, leg.ask, leg.vega = value, leg_bid, leg_ask, leg_vega


def _arrivals(rows: list[list[float]], start: int, span: int) -> list[int]:
    """Arrival times in [start, start + span) (whole ms), ascending: two in five orders follow a burst
    a second or two after a few anchors of the minute (a quote move sets off several traders), the
    rest are spread out."""
    anchors = (0.17 * span, 0.52 * span, 0.83 * span)
    last = span - 1
    out = []
    for u in rows:
        u_at = u[1]
        if u[0] < 0.4:
            anchor = int(u_at * 3)
            offset = anchors[anchor] + (u_at * 3 - anchor) * 2_500.0
        else:
            offset = u_at * span
        out.append(start + int(last if last < offset else offset))     # min(offset, last), without the call
    out.sort()
    return out
