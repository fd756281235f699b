"""The implied-volatility surface and the option NBBO on the Penny Interval Program grid.

Values come from the American model (``options_svc.american``). A quote is a whole number of ticks
wide around the model value: the dollar width a market maker shows grows with the option's price and
vega (so with tenor), on thinner names, in the first minutes of the session and where the regime
widens quotes (thin books, dirty quotes, wide stock spreads); near-term at-the-money SPY and QQQ
options come out one or two cents wide. The bid never sits below intrinsic value (it is rounded up
to the grid) and is 0 for a worthless wing; the ask is at least one tick.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from options_svc.american import american_price, bs_price, bs_vega
from synthmarket.domain.chain import (
    PENNY_EVERY_PRICE_ROOTS,
    PENNY_PROGRAM_ROOTS,
    TICK_BREAK,
    grid_ceil,
    grid_floor,
    tick_size,
)
from synthmarket.domain.regimes import Regime, SessionPhase
from synthmarket.domain.session import SessionState, UnderlyingState
from synthmarket.domain.universe import symbol_spec

__all__ = ["MAX_IV", "MIN_IV", "Quote", "QuoteTerms", "Surface", "bs_price", "make_quote", "mid_price",
           "print_vega", "quote_around", "quote_terms", "regime_name", "surface_for", "trade_iv"]

MIN_IV = 0.05
MAX_IV = 4.0
_ONE_MONTH = 30.0 / 365.0
_MIN_T = 0.5 / (365.0 * 24.0)      # half an hour: the floor used for 0DTE pricing near the close

# Short-dated vol lift per regime: front expiries richer in event/retail regimes, a mild
# contango (front cheaper) in calm ones.
_FRONT_LIFT: dict[str, float] = {
    Regime.RETAIL_CHASE.value: 0.25,
    Regime.EVENT_RAMP.value: 0.20,
    Regime.TREND_DOWN.value: 0.12,
    Regime.DEALER_GAMMA.value: 0.08,
    Regime.TREND_UP.value: 0.0,
    Regime.MEAN_REVERT.value: -0.04,
    Regime.ARB_CALM.value: -0.06,
}


# Regime ids by member (or by value): ``.value`` on an enum member is a Python-level descriptor,
# and the regime's name is read for every quote surface and scenario choice.
_REGIME_NAMES: dict = {r: r.value for r in Regime}


def regime_name(regime: Regime | str) -> str:
    """The regime's id string, for a Regime member or anything with a ``value`` (else ``str``)."""
    name = _REGIME_NAMES.get(regime)
    if name is None:
        name = regime.value if hasattr(regime, "value") else str(regime)
    return name


@dataclass(frozen=True)
class Surface:
    """IV surface parameters for one name at one instant."""

    spot: float
    atm_iv: float
    long_iv: float          # where the term structure settles beyond ~6 months
    skew: float             # IV per unit of (tenor-normalised) log-moneyness
    curvature: float
    front_lift: float
    event_move: float       # implied one-day event move (0 when no pending event)

    def iv(self, strike: float, t_years: float, event_expiry: bool = False, spot: float | None = None) -> float:
        """The vol of ``strike`` at tenor ``t_years`` (moneyness against ``spot``, default the
        surface's own)."""
        # Comparisons, not min/max: this runs for every leg, and the builtins cost more than the sum.
        t = t_years if t_years >= _MIN_T else _MIN_T
        front = 1.0 + self.front_lift * math.exp(-t / (10.0 / 365.0))
        w_long = 1.0 - math.exp(-t / 0.5)
        atm = (1.0 - w_long) * self.atm_iv * front + w_long * self.long_iv
        # Short tenors see the same strike as further out in standard deviations.
        scale = math.sqrt(_ONE_MONTH / (t if t >= 1.0 / 365.0 else 1.0 / 365.0))
        if scale > 3.0:
            scale = 3.0
        # tanh keeps the wings flat far out without a kink (a kink would break convexity).
        m = 0.6 * math.tanh(math.log(strike / (spot or self.spot)) * scale / 0.6)
        sigma = atm + self.skew * m + self.curvature * m * m
        if event_expiry and self.event_move > 0.0:
            sigma = math.sqrt(sigma * sigma + self.event_move * self.event_move / t)
        return MAX_IV if sigma > MAX_IV else (sigma if sigma >= MIN_IV else MIN_IV)


def surface_for(ul: UnderlyingState, session: SessionState, pending_event: bool | None = None) -> Surface:
    """The IV surface implied by the underlying and session state.

    ``pending_event`` says whether the name still has its event ahead; by default an event
    symbol outside the after_event phase does.
    """
    spec = symbol_spec(ul.symbol)
    regime = regime_name(session.regime)
    if pending_event is None:
        pending_event = ul.symbol in session.event_symbols and session.session_phase != SessionPhase.AFTER_EVENT
    # An earnings-like move is worth a few daily standard deviations; after the event it is gone.
    event_move = 2.5 * ul.atm_iv / math.sqrt(252.0) if pending_event else 0.0
    skew = max(min(ul.skew, 0.05), -0.35)
    curvature = 0.12 + 0.3 * abs(skew) + (0.08 if regime == Regime.RETAIL_CHASE.value else 0.0)
    return Surface(
        spot=ul.price,
        atm_iv=max(ul.atm_iv, MIN_IV),
        long_iv=max(spec.annual_vol * 1.02, MIN_IV),
        skew=skew,
        curvature=curvature,
        front_lift=_FRONT_LIFT.get(regime, 0.0),
        event_move=event_move,
    )


class Quote(NamedTuple):
    """An option NBBO. A named tuple: one is built for every priced print, at a quarter of the
    cost of a frozen dataclass."""

    bid: float              # 0.0 when nobody bids (a worthless wing); never below intrinsic otherwise
    ask: float
    iv: float               # the vol the quote is centred on
    theo: float             # model value before rounding

    @property
    def width(self) -> float:
        return round(self.ask - self.bid, 2)


class QuoteTerms(NamedTuple):
    """What sets the width of a name's option quotes at one instant."""

    root: str
    scale: float            # the name's and the moment's multiplier on the dollar width


# Dollar width per dollar of option value and per vol point of vega, before the multipliers:
# SPY at the money is a cent wide on the 0DTE, one or two on the weekly, three to five a month out.
WIDTH_PER_DOLLAR = 0.0015
WIDTH_PER_VEGA_POINT = 0.025
_OPEN_WIDEN = 1.0           # the first minutes quote this much wider, fading over ~8 minutes


def quote_terms(ul: UnderlyingState, session: SessionState) -> QuoteTerms:
    """Width multiplier of ``ul``'s option quotes: thin names, thin books, dirty quotes, wide stock
    spreads (the regime's) and the open all widen them."""
    spec = symbol_spec(ul.symbol)
    name = 0.4 + 0.75 * spec.typical_spread_bps + (0.0 if spec.sector == "index_etf" else 0.5)
    z = max(min(ul.nbbo_spread_z, 4.0), -1.5)
    regime_mult = 1.0 + 0.25 * z
    liquidity_mult = 1.6 - 0.6 * min(max(session.liquidity_level, 0.0), 1.0)
    clean_mult = 1.3 - 0.3 * min(max(session.quote_cleanliness, 0.0), 1.0)
    open_mult = 1.0 + _OPEN_WIDEN * math.exp(-max(session.minute_of_session, 0.0) / 8.0)
    return QuoteTerms(ul.symbol, max(name * regime_mult * liquidity_mult * clean_mult * open_mult, 0.3))


def quote_around(theo: float, intrinsic: float, vega: float, t_years: float, sigma: float,
                 terms: QuoteTerms) -> Quote:
    """The NBBO a market maker shows around ``theo``: a whole number of ticks on the grid, the bid not
    below intrinsic (rounded up), 0 when the option is worth less than about half a tick."""
    root = terms.root
    width = terms.scale * (WIDTH_PER_DOLLAR * theo + WIDTH_PER_VEGA_POINT * 0.01 * vega) \
        * (1.0 + 1.5 * math.sqrt(max(t_years, 0.0)))
    if root in PENNY_EVERY_PRICE_ROOTS:
        return _penny_quote(theo, intrinsic, width, sigma)
    tick = tick_size(root, theo)
    n = max(1, int(width / tick + 0.5))
    low = theo - 0.5 * n * tick
    bid = grid_floor(root, low + 0.5 * tick_size(root, low)) if low > -0.5 * tick else 0.0
    ask = grid_ceil(root, bid + n * tick)
    if ask < theo:
        ask = grid_ceil(root, theo)
    if intrinsic > 0.0:
        floor = grid_ceil(root, intrinsic)
        if bid < floor:
            bid = floor
            ask = max(ask, grid_ceil(root, bid + tick_size(root, bid)))
    return Quote(max(bid, 0.0), max(ask, tick_size(root, 0.0)), sigma, theo)


def _penny_quote(theo: float, intrinsic: float, width: float, sigma: float) -> Quote:
    """``quote_around`` on a grid of pennies at every price (SPY, QQQ, IWM), in whole cents."""
    n = max(1, int(width / 0.01 + 0.5))
    low = theo * 100.0 - 0.5 * n
    bid = math.floor(low + 0.5 + 1e-7) if low > -0.5 else 0
    ask = bid + n
    if ask < theo * 100.0 - 1e-7:
        ask = math.ceil(theo * 100.0 - 1e-7)
    if intrinsic > 0.0:
        floor = math.ceil(intrinsic * 100.0 - 1e-7)
        if bid < floor:
            bid = floor
            ask = max(ask, bid + 1)
    return Quote(max(bid, 0) / 100.0, max(ask, 1) / 100.0, sigma, theo)


def quotes_around(theo: np.ndarray, intrinsic: np.ndarray, vega: np.ndarray, t_years: np.ndarray,
                  scale: np.ndarray, roots: list[str]) -> tuple[list[float], list[float]]:
    """``quote_around``'s (bid, ask) for arrays of legs (each of its root, at its ``QuoteTerms.scale``),
    the same floats."""
    width = scale * (WIDTH_PER_DOLLAR * theo + WIDTH_PER_VEGA_POINT * 0.01 * vega) * (1.0 + 1.5 * np.sqrt(t_years))
    penny = np.array([root in PENNY_EVERY_PRICE_ROOTS for root in roots])
    bid, ask = _grid_quotes(theo, intrinsic, width, np.array([root in PENNY_PROGRAM_ROOTS for root in roots]))
    penny_bid, penny_ask = _penny_quotes(theo, intrinsic, width)
    return np.where(penny, penny_bid, bid).tolist(), np.where(penny, penny_ask, ask).tolist()


def _penny_quotes(theo: np.ndarray, intrinsic: np.ndarray, width: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``quote_around``'s (bid, ask) on a grid of pennies at every price, in whole cents until the end."""
    n = np.maximum(np.floor(width / 0.01 + 0.5).astype(np.int64), 1)
    low = theo * 100.0 - 0.5 * n
    bid = np.where(low > -0.5, np.floor(low + 0.5 + 1e-7), 0.0).astype(np.int64)
    ask = bid + n
    theo_cents = theo * 100.0 - 1e-7
    ask = np.where(ask < theo_cents, np.ceil(theo_cents).astype(np.int64), ask)
    floor = np.ceil(intrinsic * 100.0 - 1e-7).astype(np.int64)
    lift = (intrinsic > 0.0) & (bid < floor)
    bid = np.where(lift, floor, bid)
    ask = np.where(lift, np.maximum(ask, bid + 1), ask)
    return np.maximum(bid, 0) / 100.0, np.maximum(ask, 1) / 100.0


def _grid_quotes(theo: np.ndarray, intrinsic: np.ndarray, width: np.ndarray,
                 penny_program: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``quote_around``'s (bid, ask) on the Penny Interval Program grid of each element's root."""
    low_tick, high_tick = np.where(penny_program, 1, 5), np.where(penny_program, 5, 10)

    def cents(price: np.ndarray) -> np.ndarray:          # ``tick_size`` in cents
        return np.where(price < TICK_BREAK, low_tick, high_tick)

    def grid_floor(price: np.ndarray) -> np.ndarray:
        tick = cents(price)
        return (np.floor(price / (tick / 100.0) + 1e-7).astype(np.int64) * tick) / 100.0

    def grid_ceil(price: np.ndarray) -> np.ndarray:
        tick = cents(price)
        return (np.ceil(price / (tick / 100.0) - 1e-7).astype(np.int64) * tick) / 100.0

    tick = cents(theo) / 100.0
    n = np.maximum(np.floor(width / tick + 0.5).astype(np.int64), 1)
    low = theo - 0.5 * n * tick
    bid = np.where(low > -0.5 * tick, grid_floor(low + 0.5 * (cents(low) / 100.0)), 0.0)
    ask = grid_ceil(bid + n * tick)
    ask = np.where(ask < theo, grid_ceil(theo), ask)
    floor = grid_ceil(intrinsic)
    lift = (intrinsic > 0.0) & (bid < floor)
    bid = np.where(lift, floor, bid)
    ask = np.where(lift, np.maximum(ask, grid_ceil(bid + cents(bid) / 100.0)), ask)
    return np.maximum(bid, 0.0), np.maximum(ask, low_tick / 100.0)


def make_quote(root: str, right: str, spot: float, strike: float, t_years: float, sigma: float,
               terms: QuoteTerms) -> Quote:
    """The NBBO around the American value of one contract."""
    theo = american_price(right, spot, strike, t_years, sigma)
    intrinsic = spot - strike if right == "C" else strike - spot
    return quote_around(theo, intrinsic, bs_vega(spot, strike, t_years, sigma), t_years, sigma, terms)


def mid_price(root: str, bid: float, ask: float) -> float:
    """The price of a mid print: the grid price nearest the middle of the quote that lies inside its
    mid band, else half-way between the two grid prices around the middle (the half tick of a
    one-tick quote, where mid and complex prints trade)."""
    middle = 0.5 * (bid + ask)
    below = grid_floor(root, middle + 1e-9)
    above = grid_ceil(root, middle - 1e-9)
    lo, hi = bid + 0.25 * (ask - bid) + 1e-9, ask - 0.25 * (ask - bid) - 1e-9
    # The nearer of the two first; at equal distance the one below.
    nearer, farther = (above, below) if abs(above - middle) < abs(below - middle) else (below, above)
    if lo < nearer < hi:
        return nearer
    if lo < farther < hi:
        return farther
    return round(0.5 * (below + above), 3)


def trade_iv(iv: float, theo: float, price: float, vega: float) -> float:
    """The model vol at which the American value equals the trade price: one Newton step from the
    quote's vol with the American vega (the price sits within a few ticks of the value), kept
    inside the surface's bounds."""
    if vega <= 1e-9 or price == theo:
        return iv
    return min(max(iv + (price - theo) / vega, MIN_IV), MAX_IV)


def print_vega(right: str, spot: float, strike: float, t_years: float, sigma: float, theo: float) -> float:
    """The American vega for ``trade_iv``: analytic for calls and out-of-the-money puts (whose
    early-exercise value barely moves with vol), one more valuation for puts in the money."""
    if right == "C" or strike <= spot:
        return bs_vega(spot, strike, t_years, sigma)
    h = 0.005
    return (american_price("P", spot, strike, t_years, sigma + h) - theo) / h
