"""Black-Scholes prices, the implied-volatility surface and the option NBBO on a penny grid.

Prices sit on a penny grid everywhere (all universe names are penny-program names). Quotes are
symmetric around the penny-rounded theoretical value and at least two ticks wide, so a mid
print is always a grid price strictly inside the mid band, and put-call parity of two mid
prints holds within their half-spreads.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from typing import NamedTuple

from synthmarket.domain.chain import RISK_FREE_RATE
from synthmarket.domain.regimes import Regime, SessionPhase
from synthmarket.domain.session import SessionState, UnderlyingState
from synthmarket.domain.universe import symbol_spec

TICK = 0.01
MIN_IV = 0.05
MAX_IV = 4.0
_SQRT2 = math.sqrt(2.0)
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


def norm_cdf(x: float) -> float:
    return 0.5 * (1.0 + math.erf(x / _SQRT2))


def bs_price(right: str, spot: float, strike: float, t_years: float, sigma: float,
             r: float = RISK_FREE_RATE) -> float:
    """European Black-Scholes price with q = 0; at T = 0 the intrinsic value."""
    if t_years <= 0.0 or sigma <= 0.0:
        intrinsic = spot - strike if right == "C" else strike - spot
        return max(intrinsic, 0.0)
    vol_t = sigma * math.sqrt(t_years)
    d1 = (math.log(spot / strike) + (r + 0.5 * sigma * sigma) * t_years) / vol_t
    d2 = d1 - vol_t
    disc = strike * math.exp(-r * t_years)
    if right == "C":
        return spot * norm_cdf(d1) - disc * norm_cdf(d2)
    return disc * norm_cdf(-d2) - spot * norm_cdf(-d1)


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

    def iv(self, strike: float, t_years: float, event_expiry: bool = False) -> float:
        t = max(t_years, _MIN_T)
        front = 1.0 + self.front_lift * math.exp(-t / (10.0 / 365.0))
        w_long = 1.0 - math.exp(-t / 0.5)
        atm = (1.0 - w_long) * self.atm_iv * front + w_long * self.long_iv
        # Short tenors see the same strike as further out in standard deviations.
        scale = min(math.sqrt(_ONE_MONTH / max(t, 1.0 / 365.0)), 3.0)
        # tanh keeps the wings flat far out without a kink (a kink would break convexity).
        m = 0.6 * math.tanh(math.log(strike / self.spot) * scale / 0.6)
        sigma = atm + self.skew * m + self.curvature * m * m
        if event_expiry and self.event_move > 0.0:
            sigma = math.sqrt(sigma * sigma + self.event_move * self.event_move / t)
        return min(max(sigma, MIN_IV), MAX_IV)


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

    bid: float
    ask: float
    iv: float               # the vol the quote is centred on
    theo: float             # model value before rounding

    @property
    def mid(self) -> float:
        return round((self.bid + self.ask) / 2.0, 2)

    @property
    def width(self) -> float:
        return round(self.ask - self.bid, 2)


def spread_fraction(ul: UnderlyingState, session: SessionState) -> float:
    """Option half-spread as a fraction of price: wider for thin names, thin books, dirty quotes."""
    spec = symbol_spec(ul.symbol)
    base = 0.006 + 0.004 * spec.typical_spread_bps
    z = max(min(ul.nbbo_spread_z, 4.0), -1.5)
    regime_mult = 1.0 + 0.25 * z
    liquidity_mult = 1.6 - 0.6 * min(max(session.liquidity_level, 0.0), 1.0)
    clean_mult = 1.3 - 0.3 * min(max(session.quote_cleanliness, 0.0), 1.0)
    return max(base * regime_mult * liquidity_mult * clean_mult, 0.002)


def make_quote(right: str, spot: float, strike: float, t_years: float, sigma: float,
               half_frac: float) -> Quote:
    """A symmetric penny NBBO around the model value: at least one tick either side."""
    theo = bs_price(right, spot, strike, t_years, sigma)
    centre = max(round(theo, 2), TICK)
    half_ticks = max(1, int(round((theo * half_frac + 0.004) / TICK)))
    half_ticks = min(half_ticks, max(1, int(centre / TICK) - 1)) if centre > 2 * TICK else 1
    bid, ask = _penny_book(centre, half_ticks)
    return Quote(bid, ask, sigma, theo)


# Centres sit on the penny grid and half-widths are a few ticks, so the same pairs come back all
# session long; each saves two decimal roundings (the bulk of a quote's cost after the model).
@lru_cache(maxsize=8192)
def _penny_book(centre: float, half_ticks: int) -> tuple[float, float]:
    """(bid, ask) half_ticks either side of centre, on the penny grid; bid floored at 0."""
    bid = round(centre - half_ticks * TICK, 2)
    ask = round(centre + half_ticks * TICK, 2)
    if bid <= 0.0:
        bid, ask = 0.0, round(ask, 2)
    return bid, ask
