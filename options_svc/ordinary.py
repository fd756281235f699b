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

A minute of every name is drawn at once, and all its contracts are valued in one array pass.
"""

from __future__ import annotations

import bisect
import datetime as dt
import itertools
import math
from collections.abc import Callable, Sequence
from functools import lru_cache
from typing import Any

import numpy as np

from options_svc import arrivals, orders
from options_svc.american import american_prices
from options_svc.legs import Draft, ScenarioContext, listed_expiries
from options_svc.orders import Order
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


@lru_cache(maxsize=512)
def expiry_table(symbol: str, today: dt.date) -> tuple[tuple[dt.date, ...], tuple[float, ...]]:
    """Listed expiries of ``symbol`` on ``today`` and the cumulative share of flow up to each."""
    exps = listed_expiries(symbol, today, 0, 1000)
    daily = symbol in chain.DAILY_EXPIRY_ROOTS
    weights = [_expiry_weight(rank, (e - today).days, daily) for rank, e in enumerate(exps)]
    total = sum(weights)
    return exps, tuple(c / total for c in itertools.accumulate(weights))


def pick_strike(ctx: ScenarioContext, spot: float, expiry: dt.date, t_years: float, right: str, u_dist: float,
                u_itm: float) -> float:
    """A listed strike near the money: the distance in standard deviations (of the time left, at
    least half an hour's) is exponential with mean 0.55, three in four out of the money."""
    sd = max(ctx.ul.atm_iv, 0.05) * math.sqrt(max(t_years, _HALF_HOUR))
    z = min(-0.55 * math.log(1.0 - u_dist), 4.0)
    if u_itm < 0.25:
        z = -z
    target = spot * math.exp(z * sd if right == "C" else -z * sd)
    inc = _increment(spot, (expiry - ctx.today).days, ctx.symbol)
    return round(max(round(target / inc), 1) * inc, 4)


@lru_cache(maxsize=4096)
def _increment_at(price_band: int, dte: int, symbol: str) -> float:
    return chain.strike_increment(price_band + 0.5, dte, symbol)


def _increment(spot: float, dte: int, symbol: str) -> float:
    """``chain.strike_increment``, remembered: it changes only where spot crosses a whole dollar band
    edge (25, 150, 300, 400), so a band of one dollar answers for every spot inside it."""
    return _increment_at(int(spot), dte, symbol)


_HALF_HOUR = 0.5 / (252 * 6.5)


# ---------------------------------------------------------------------------------------------
# The flow of one minute


Context = Callable[[str, int, int], ScenarioContext]     # (symbol, ts, scenario key)
Spots = Callable[[str, list[int]], list[float]]          # (symbol, ascending ts) -> the spot at each


class OrdinaryFlow:
    """Draws the ordinary orders of ``symbols`` a minute at a time and prices them in one batch."""

    def __init__(self, symbols: Sequence[str], scale: float = DEFAULT_SCALE, start_ts: int = 0) -> None:
        self.symbols = tuple(symbols)
        self.scale = float(scale)
        self._keys = [rng.stable_str_key(s) for s in self.symbols]
        self._rng = ScenarioRng()
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
            # A fill a few ms after an order near the end of the minute belongs to this minute's draw.
            out.extend(p for p in self.minute(seed, minute, end, session_at(minute), context, spots)
                       if start <= p[0] < td.close_ms)
            self._until = end
        return out

    def rate_per_minute(self, symbol: str, session, seed: int, sym_key: int, ts: int) -> float:
        """Expected orders of ``symbol`` per minute at ``ts``."""
        base = REAL_DAY_TRADES.get(symbol, 20_000) * self.scale / SESSION_MINUTES / PRINTS_PER_ORDER
        rate = base * intraday_shape(session.minute_of_session) * REGIME_ACTIVITY.get(regime_name(session.regime), 1.0)
        rate *= math.sqrt(max(session.volatility_level, 0.1)) * arrivals.mood(seed, sym_key, ts)
        if symbol in session.focus_symbols:
            rate *= 1.5
        if symbol in session.event_symbols:
            rate *= 2.0
        return rate

    def minute(self, seed: int, start: int, end: int, session, context: Context,
               spots: Spots) -> list[tuple[int, int, Draft]]:
        """Every ordinary print of the orders sent in [start, end) (one session minute) as (ts, symbol
        index, draft)."""
        minute_key = start // MS_PER_MINUTE
        regime = regime_name(session.regime)
        buy_tilt = BUY_TILT.get(regime, 0.0)
        book: list[Order] = []
        for idx, (symbol, sym_key) in enumerate(zip(self.symbols, self._keys)):
            g = self._rng.keyed(seed, _TAG_ORDINARY, sym_key, minute_key)
            n = int(g.poisson(self.rate_per_minute(symbol, session, seed, sym_key, start) * (end - start)
                              / MS_PER_MINUTE))
            if n == 0:
                continue
            u = g.random((n, _COLUMNS))
            offsets = np.sort(_offsets(u[:, 0], u[:, 1], end - start))
            # The name's surface, quote terms and calendar of the minute; each order reads its own spot.
            ctx = context(symbol, start, 0)
            exps, cumulative = expiry_table(symbol, ctx.today)
            times = [start + int(offset) for offset in offsets.tolist()]
            for row, ts, at_ts in zip(u.tolist(), times, spots(symbol, times)):
                expiry = exps[min(bisect.bisect_right(cumulative, row[2]), len(exps) - 1)]
                order = self._order(idx, ctx, ts, at_ts, expiry, row, buy_tilt)
                if order is not None:
                    book.append(order)
        if not book:
            return []
        legs = [leg for order in book for leg in order.legs]
        put = np.array([leg.right == "P" for leg in legs])
        spot = np.array([leg.spot for leg in legs])
        strike = np.array([leg.strike for leg in legs])
        t = np.array([leg.t for leg in legs])
        sigma = np.array([leg.sigma for leg in legs])
        # Puts in the money get their American vega from a second valuation in the same pass.
        itm = np.flatnonzero(put & (strike > spot))
        values = american_prices(np.concatenate((put, put[itm])), np.concatenate((spot, spot[itm])),
                                 np.concatenate((strike, strike[itm])), np.concatenate((t, t[itm])),
                                 np.concatenate((sigma, sigma[itm] + orders.VEGA_BUMP))).tolist()
        theo = values[:len(legs)]
        bumped = dict(zip(itm.tolist(), values[len(legs):]))
        for i, leg in enumerate(legs):
            leg.theo = theo[i]
            if i in bumped:
                leg.am_vega = (bumped[i] - theo[i]) / orders.VEGA_BUMP
        out: list[tuple[int, int, Draft]] = []
        for order in book:
            out.extend((d.ts, order.idx, d) for d in orders.prints(order, self._next_mleg))
        return out

    def _next_mleg(self, symbol: str, ts: int) -> str:
        self._mleg_seq += 1
        return f"b-{symbol}-{ts}-{self._mleg_seq}"

    @staticmethod
    def _order(idx: int, ctx: ScenarioContext, ts: int, spot: float, expiry: dt.date, u: list[float],
               buy_tilt: float) -> Order | None:
        t = chain.years_to_expiry(ts, expiry)
        if t <= 0.0:
            return None
        drift = ctx.ul.drift_bps_per_min
        right = "C" if u[3] < 0.56 + (0.05 if drift > 0 else -0.05 if drift < 0 else 0.0) else "P"
        strike = pick_strike(ctx, spot, expiry, t, right, u[4], u[5])
        return orders.draw(idx, ctx, spot, ts, expiry, t, right, strike, u, buy_tilt)


def _offsets(u_kind: np.ndarray, u_at: np.ndarray, span: int) -> np.ndarray:
    """Arrival offsets in [0, span): two in five orders follow a burst a second or two after a
    few anchors of the minute (a quote move sets off several traders), the rest are spread out."""
    anchors = np.floor(u_at * 3).astype(int)
    burst = (np.array([0.17, 0.52, 0.83]) * span)[anchors] + (u_at * 3 - anchors) * 2_500.0
    spread = u_at * span
    return np.minimum(np.where(u_kind < 0.4, burst, spread), span - 1)
