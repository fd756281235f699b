"""One ordinary order: its size, side, venue and quote freshness, and the prints it leaves on the tape.

Sizes have a median of one or two contracts and a power-law tail with extra mass on round lots.
Buys and sells split near the touch, a fifth trade at mid. An order of ten or more contracts with
a fresh quote never trades where a classifier rule could read it (flow_svc.rules, restated in
``readable`` and kept in step by a test): such an order is filled in pieces of at most nine
contracts across venues, or, when larger, in a price-improvement auction at mid.
"""

from __future__ import annotations

import bisect
import datetime as dt
import math
from collections.abc import Callable

from options_svc import conditions, venues
from options_svc.american import bs_vega
from options_svc.legs import Draft, ScenarioContext, contract_fields
from options_svc.pricing import Quote, mid_price, quote_around, trade_iv
from synthmarket.domain import chain

VEGA_BUMP = 0.005                   # vol step of the American vega of puts in the money
MAX_PREMIUM = 200_000.0             # ordinary tickets stay small; big premium is the smart money's
COMPLEX_MAX_PREMIUM = 15_000.0      # well under the classifier's $25k floor for a multi-leg order
FRESH_MAX_MS = 1_500

# Discrete sizes 1..9 (their probabilities) and a Pareto tail from 10 contracts for the rest.
_SMALL = (0.50, 0.17, 0.065, 0.035, 0.045, 0.016, 0.01, 0.008, 0.006)
_SMALL_CUM = tuple(sum(_SMALL[:k + 1]) for k in range(len(_SMALL)))
TAIL_ALPHA = 1.25
MAX_SIZE = 2_000
_LOTS = (10, 15, 20, 25, 30, 40, 50, 75, 100, 150, 200, 250, 300, 500, 1000, 2000)

# The classifier's reading zones (flow_svc.rules.Thresholds), with a margin on moneyness.
READ_MIN_CONTRACTS = 10
HEDGE_MAX_OTM = 0.0075
RETAIL_MIN_OTM = 0.009
ACCUM_MIN_DTE = 14
VOL_SELL_MIN_OTM = 0.025
VOL_SELL_MIN_DTE = 14
_MARGIN = 0.002

SINGLE, SWEEP, COMPLEX = "single", "sweep", "complex"
ASK, BID, MID, NEAR_ASK, NEAR_BID = "ask", "bid", "mid", "near_ask", "near_bid"


def order_size(u_small: float, u_tail: float, u_lot: float) -> int:
    """Median one or two contracts; a tail P(size >= x) ~ x^-1.25 from 10 to 2,000, half of it on round lots."""
    if u_small < _SMALL_CUM[-1]:
        return bisect.bisect_right(_SMALL_CUM, u_small) + 1
    x = min(10.0 * (1.0 - u_tail) ** (-1.0 / TAIL_ALPHA), MAX_SIZE)
    if u_lot < 0.5:
        i = bisect.bisect_left(_LOTS, x)
        return _LOTS[i] if i == 0 or (i < len(_LOTS) and _LOTS[i] - x < x - _LOTS[i - 1]) else _LOTS[i - 1]
    return int(x)


class Leg:
    """One contract of an order, valued in the minute's batch (``theo``, ``am_vega``)."""

    __slots__ = ("ctx", "expiry", "strike", "right", "t", "sigma", "spot", "theo", "am_vega")

    def __init__(self, ctx: ScenarioContext, spot: float, expiry: dt.date, strike: float, right: str,
                 t: float) -> None:
        self.ctx = ctx
        self.expiry = expiry
        self.strike = strike
        self.right = right
        self.t = t
        self.spot = spot
        self.sigma = ctx.surface.iv(strike, t, ctx.event_expiry(expiry), spot)
        self.theo = 0.0
        self.am_vega: float | None = None

    def quote(self) -> tuple[Quote, float]:
        """The NBBO around the leg's value, and the vega of that value."""
        intrinsic = max(self.spot - self.strike if self.right == "C" else self.strike - self.spot, 0.0)
        vega = bs_vega(self.spot, self.strike, self.t, self.sigma)
        q = quote_around(self.theo, intrinsic, vega, self.t, self.sigma, self.ctx.terms)
        return q, (vega if self.am_vega is None else self.am_vega)


class Order:
    __slots__ = ("idx", "ts", "kind", "legs", "size", "side", "u")

    def __init__(self, idx: int, ts: int, kind: str, legs: list[Leg], size: int, side: str, u: list[float]) -> None:
        self.idx = idx
        self.ts = ts
        self.kind = kind
        self.legs = legs
        self.size = size
        self.side = side
        self.u = u


def draw(idx: int, ctx: ScenarioContext, spot: float, ts: int, expiry: dt.date, t: float, right: str,
         strike: float, u: list[float], buy_tilt: float) -> Order:
    """The order an ordinary trader sends for this contract (uniforms ``u`` decide the rest)."""
    size = order_size(u[7], u[8], u[9])
    # Before zero bids (which only the ask can take) and the auctions of large readable orders (at
    # mid): 34% at the ask, 17% at mid, 43% at the bid, 3% a tick inside each side of wide quotes.
    p_ask = 0.34 + buy_tilt
    cuts = (p_ask, p_ask + 0.03, p_ask + 0.03 + 0.17, p_ask + 0.23 + 0.03)
    side = ASK if u[10] < cuts[0] else NEAR_ASK if u[10] < cuts[1] else MID if u[10] < cuts[2] else \
        NEAR_BID if u[10] < cuts[3] else BID
    legs = [Leg(ctx, spot, expiry, strike, right, t)]
    kind = SINGLE
    if u[6] < 0.03 and size >= 3:
        kind = SWEEP
    elif u[6] < 0.06:
        kind = COMPLEX
        inc = chain.strike_increment(spot, (expiry - ctx.today).days, ctx.symbol)
        step = inc * (1 + int(u[15] * 3))
        other = "P" if right == "C" else "C"
        shape = u[14]
        if shape < 0.45:        # vertical
            far = strike + step if right == "C" else strike - step
            legs.append(Leg(ctx, spot, expiry, round(far, 4), right, t))
        elif shape < 0.85:      # straddle or strangle
            legs.append(Leg(ctx, spot, expiry, strike if shape < 0.65 else round(strike - step, 4), other, t))
        else:                   # iron condor around the strike
            legs = [Leg(ctx, spot, expiry, round(k, 4), r, t) for k, r in
                    ((strike + step, "C"), (strike + 2 * step, "C"), (strike - step, "P"), (strike - 2 * step, "P"))]
        if any(leg.strike <= 0.0 for leg in legs):
            legs, kind = legs[:1], SINGLE
    return Order(idx, ts, kind, legs, size, side, u)


def readable(side: str, dte: int, otm: float, strike: float, spot: float, event: bool) -> bool:
    """Whether a print of READ_MIN_CONTRACTS or more with a fresh quote could join a classifier
    pattern (rules 3-7 of docs/flow_footprints.md)."""
    hedge = dte <= chain.FRONT_EXPIRY_MAX_DTE and abs(otm) <= HEDGE_MAX_OTM + _MARGIN \
        and chain.is_gamma_strike(strike, spot)
    if side == chain.SIDE_BUY:
        return hedge or event or dte >= ACCUM_MIN_DTE - 1 or otm >= RETAIL_MIN_OTM - _MARGIN
    if side == chain.SIDE_SELL:
        return hedge or (otm >= VOL_SELL_MIN_OTM - _MARGIN and dte >= VOL_SELL_MIN_DTE - 1)
    return False


def _price(root: str, q: Quote, side: str) -> float:
    """Where the order trades against ``q``: at the touch, a tick inside it, or at mid; a zero bid
    is never hit (nobody sells into no bid), so those orders take the ask."""
    if q.bid <= 0.0 or side == ASK:
        return q.ask
    if side == BID:
        return q.bid
    n_ticks = (q.ask - q.bid) / chain.tick_size(root, q.bid) + 1e-9
    if side == NEAR_ASK and n_ticks >= 4:
        return chain.grid_floor(root, q.ask - 0.5 * chain.tick_size(root, q.ask - 1e-9))
    if side == NEAR_BID and n_ticks >= 4:
        return chain.grid_ceil(root, q.bid + 0.5 * chain.tick_size(root, q.bid))
    if side in (NEAR_ASK, NEAR_BID):
        return q.ask if side == NEAR_ASK else q.bid
    return mid_price(root, q.bid, q.ask)


def _intrinsic(leg: Leg) -> float:
    return max(leg.spot - leg.strike if leg.right == "C" else leg.strike - leg.spot, 0.0)


def shift_ticks(root: str, price: float, n: int) -> float:
    """``price`` moved ``n`` ticks along the grid (down stops at 0)."""
    for _ in range(abs(n)):
        if n > 0:
            price = chain.grid_ceil(root, price + chain.tick_size(root, price))
        else:
            price = max(chain.grid_floor(root, price - 0.5 * chain.tick_size(root, price - 1e-9)), 0.0)
    return price


def _affordable(size: int, price: float, limit: float) -> int:
    return max(1, min(size, int(limit / max(price * chain.CONTRACT_MULTIPLIER, 1e-9))))


def prints(order: Order, next_mleg: Callable[[str, int], str]) -> list[Draft]:
    """The drafts ``order`` leaves on the tape."""
    if order.kind == COMPLEX:
        return _complex(order, next_mleg)
    leg = order.legs[0]
    ctx = leg.ctx
    root = ctx.symbol
    q, vega = leg.quote()
    u = order.u
    if order.kind == SWEEP:
        return _sweep(order, leg, q, vega)
    price = _price(root, q, order.side)
    size = _affordable(order.size, price, MAX_PREMIUM)
    dirty = 1.0 - min(max(ctx.session.quote_cleanliness, 0.0), 1.0)
    bid: float | None = q.bid
    ask: float | None = q.ask
    if u[11] < 0.02 + 0.13 * dirty:
        # No quote on the print, or the quote of a few seconds ago; the trade is on the grid.
        price = max(chain.grid_floor(root, price + 1e-9), chain.grid_ceil(root, _intrinsic(leg)), chain.tick_size(root, 0.0))
        if u[11] < 0.004 + 0.03 * dirty:
            bid = ask = age = None
        else:
            age = 2_000 + int(28_000 * u[13])
            shift = int(u[15] * 5) - 2
            if q.bid > 0.0 and shift:
                # Never below intrinsic at the print's spot, never locked.
                bid = max(shift_ticks(root, q.bid, shift), chain.grid_ceil(root, _intrinsic(leg)))
                ask = max(shift_ticks(root, q.ask, shift), shift_ticks(root, bid, 1))
    else:
        age = min(int(-ctx.fresh_mean * math.log(1.0 - u[13])), FRESH_MAX_MS)
        side = chain.side_of(price, q.bid, q.ask, age)
        if size >= READ_MIN_CONTRACTS and side != chain.SIDE_MID:
            dte = (leg.expiry - ctx.today).days
            otm = chain.otm_frac(leg.right, leg.strike, leg.spot)
            if readable(side, dte, otm, leg.strike, leg.spot, ctx.is_event_symbol):
                return _unreadable(order, leg, q, vega, price, size, age)
    return [_draft(leg, order.ts, q, vega, price, size, venues.venue_at(u[12]), bid, ask, age or 0,
                   _single_condition(order))]


def _unreadable(order: Order, leg: Leg, q: Quote, vega: float, price: float, size: int, age: int) -> list[Draft]:
    """A readable order of ten or more: filled in pieces of at most nine across venues within a
    few milliseconds, or (larger) at mid in a price-improvement auction."""
    root = leg.ctx.symbol
    if size <= 4 * (READ_MIN_CONTRACTS - 1):
        n = math.ceil(size / (READ_MIN_CONTRACTS - 1))
        parts = [size // n + (1 if k < size % n else 0) for k in range(n)]
        places = venues.pick_venues_from(order.u[12], n)
        return [_later(leg, order.ts, k, q, vega, price, part, venue, age, chain.COND_AUTO)
                for k, (part, venue) in enumerate(zip(parts, places))]
    mid = mid_price(root, q.bid, q.ask)
    if q.bid > 0.0 and chain.side_of(mid, q.bid, q.ask, age) == chain.SIDE_MID:
        return [_draft(leg, order.ts, q, vega, mid, _affordable(size, mid, MAX_PREMIUM), venues.venue_at(order.u[12]),
                       q.bid, q.ask, age, chain.COND_SLAN)]
    return [_draft(leg, order.ts, q, vega, price, READ_MIN_CONTRACTS - 1, venues.venue_at(order.u[12]), q.bid, q.ask, age)]


def _sweep(order: Order, leg: Leg, q: Quote, vega: float) -> list[Draft]:
    """A small intermarket sweep: two to five venues within milliseconds, at one price or walking
    up (down) the book a tick, every leg under ten contracts."""
    u = order.u
    root = leg.ctx.symbol
    buy = u[14] < 0.7 or q.bid <= 0.0
    n = min(2 + int(u[15] * 4), order.size)
    total = min(order.size, n * (READ_MIN_CONTRACTS - 1))
    parts = [total // n + (1 if k < total % n else 0) for k in range(n)]
    places = venues.pick_venues_from(u[12], n)
    walk = u[9] < 0.3
    out = []
    price = q.ask if buy else q.bid
    floor = max(chain.grid_ceil(root, _intrinsic(leg)), chain.tick_size(root, 0.0))
    for k, (part, venue) in enumerate(zip(parts, places)):
        if walk and k > 0:
            price = shift_ticks(root, price, 1 if buy else -1)
            price = max(price, floor)
        out.append(_later(leg, order.ts, 3 * k, q, vega, price, part, venue, min(int(60 + 400 * u[13]), FRESH_MAX_MS),
                          chain.COND_ISOI))
    return out


def _complex(order: Order, next_mleg: Callable[[str, int], str]) -> list[Draft]:
    """A small spread, straddle or condor: every leg at mid, one complex-order id, MLEG."""
    quoted = [leg.quote() for leg in order.legs]
    ctx = order.legs[0].ctx
    root = ctx.symbol
    if any(q.bid <= 0.0 for q, _ in quoted):
        return prints(_single(order), next_mleg)
    mids = [mid_price(root, q.bid, q.ask) for q, _ in quoted]
    size = _affordable(min(order.size, 50), sum(mids), COMPLEX_MAX_PREMIUM)
    mleg = next_mleg(root, order.ts)
    venue = venues.venue_at(order.u[12])
    age = min(int(60 + 400 * order.u[13]), FRESH_MAX_MS)
    code = chain.pick_condition(_extra_uniform(order.u), conditions.SMALL_COMPLEX)
    return [_draft(leg, order.ts, q, vega, mid, size, venue, q.bid, q.ask, age, code, mleg)
            for leg, (q, vega), mid in zip(order.legs, quoted, mids)]


def _extra_uniform(u: list[float]) -> float:
    """A uniform for the sale condition: the low-order digits of the quote-age draw, independent of
    its high-order ones that set the age (no extra column, so the order's other draws stay put)."""
    return (u[13] * 9_973.0) % 1.0


# A single ordinary order: an auto-execution, or now and then a small single-leg auction (a
# price-improvement auction a broker sends a retail order to) or, for a larger one, the floor.
SINGLE_ORDER: conditions.Mix = ((0.96, chain.COND_AUTO), (1.0, chain.COND_SLAN))
LARGE_SINGLE_ORDER: conditions.Mix = ((0.8, chain.COND_AUTO), (0.93, chain.COND_SLAN), (1.0, chain.COND_SLFT))
LARGE_SINGLE_MIN = 50


def _single_condition(order: Order) -> str:
    mix = LARGE_SINGLE_ORDER if order.size >= LARGE_SINGLE_MIN else SINGLE_ORDER
    return chain.pick_condition(_extra_uniform(order.u), mix)


def _single(order: Order) -> Order:
    return Order(order.idx, order.ts, SINGLE, order.legs[:1], order.size, order.side, order.u)


def _later(leg: Leg, ts: int, delay: int, q: Quote, vega: float, price: float, size: int, venue: str, age: int,
           condition: str) -> Draft:
    """A fill ``delay`` ms after the order, against the order's quote and the spot of its own ts (at
    the order's ts when the stock moved through the option's intrinsic value meanwhile)."""
    if delay and leg.ctx.in_session(ts + delay):
        spot = leg.ctx.underlying(ts + delay).price
        intrinsic = max(spot - leg.strike if leg.right == "C" else leg.strike - spot, 0.0)
        if price >= intrinsic:
            return _draft(leg, ts + delay, q, vega, price, size, venue, q.bid, q.ask, age + delay, condition,
                          spot=spot)
    return _draft(leg, ts, q, vega, price, size, venue, q.bid, q.ask, age, condition)


def _draft(leg: Leg, ts: int, q: Quote, vega: float, price: float, size: int, venue: str, bid: float | None,
           ask: float | None, age: int, condition: str = chain.COND_AUTO, mleg: str | None = None,
           spot: float | None = None) -> Draft:
    contract, expiry_text = contract_fields(leg.ctx.symbol, leg.expiry, leg.right, leg.strike)
    iv = trade_iv(q.iv, q.theo, price, vega)
    if spot is None:
        # Every piece printed at the order's ts: its spot is the one the order read (a later piece
        # passes the spot of its own ts).
        spot = leg.spot
    return Draft(ts, leg.ctx.symbol, contract, expiry_text, leg.strike, leg.right, price, int(size), venue,
                 bid, ask, round(iv, 4), round(spot, 4), mleg, age, condition)
