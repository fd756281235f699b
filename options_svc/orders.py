"""One ordinary order: its size, side, venue and quote freshness, and the prints it leaves on the tape.

Sizes have a median of one or two contracts and a power-law tail with extra mass on round lots.
Buys and sells split near the touch, a fifth trade at mid. An order of ten or more contracts with
a fresh quote never trades where a classifier rule could read it (flow_svc.rules, restated in
``readable`` and kept in step by a test): such an order is filled in pieces of at most nine
contracts across venues, or, when larger, in a price-improvement auction at mid.

Orders are drawn a minute at a time (``options_svc.ordinary``), which values and quotes every leg of
the minute in one array pass before the orders here turn into prints; what every order of one name
reads in that minute sits on its ``Desk`` (``options_svc.desk``).
"""

from __future__ import annotations

import bisect
import datetime as dt
import math
from collections.abc import Callable

from options_svc import conditions, venues
from options_svc.desk import Desk, Leg, Order
from options_svc.legs import Draft, contract_fields
from options_svc.pricing import mid_price, trade_iv
from synthmarket.domain import chain

VEGA_BUMP = 0.005                   # vol step of the American vega of puts in the money
MAX_PREMIUM = 200_000.0             # ordinary tickets stay small; big premium is the smart money's
COMPLEX_MAX_PREMIUM = 15_000.0      # well under the classifier's $25k floor for a multi-leg order
FRESH_MAX_MS = 1_500
SWEEP_GAP_MS = 3                    # between a sweep's venues
MAX_PIECES = 4                      # a readable order is split into at most this many prints
SWEEP_MIN_SIZE = 3                  # the smallest order split into pieces (a sweep)

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
_SIDES = (ASK, NEAR_ASK, MID, NEAR_BID, BID)         # in the order of ``Desk.side_cuts``


def order_size(u_small: float, u_tail: float, u_lot: float) -> int:
    """Median one or two contracts; a tail P(size >= x) ~ x^-1.25 from 10 to 2,000, half of it on round lots."""
    if u_small < _SMALL_CUM[-1]:
        return bisect.bisect_right(_SMALL_CUM, u_small) + 1
    x = min(10.0 * (1.0 - u_tail) ** (-1.0 / TAIL_ALPHA), MAX_SIZE)
    if u_lot < 0.5:
        i = bisect.bisect_left(_LOTS, x)
        return _LOTS[i] if i == 0 or (i < len(_LOTS) and _LOTS[i] - x < x - _LOTS[i - 1]) else _LOTS[i - 1]
    return int(x)


def fill_delays(u: list[float], size: int) -> range:
    """Delays (ms) after an order of ``size`` contracts at which its later pieces may print (a sweep's
    venues, or the pieces of a readable order): their spots are read with the order's."""
    if _is_sweep(u, size):
        return range(SWEEP_GAP_MS, SWEEP_GAP_MS * _sweep_venues(u, size), SWEEP_GAP_MS)
    return range(1, MAX_PIECES) if size >= READ_MIN_CONTRACTS else range(0)


def later_times(rows: list[list[float]], times: list[int], sizes: list[int]) -> list[int]:
    """When the later pieces of the orders of uniforms ``rows`` sent at ``times`` may print (``fill_delays``)."""
    # Most orders are too small to be split: skip them without a call.
    return [ts + d for u, ts, size in zip(rows, times, sizes) if size >= SWEEP_MIN_SIZE for d in fill_delays(u, size)]


def _is_sweep(u: list[float], size: int) -> bool:
    return u[6] < 0.03 and size >= SWEEP_MIN_SIZE


def _sweep_venues(u: list[float], size: int) -> int:
    return min(2 + int(u[15] * 4), size)


def draw(desk: Desk, ts: int, spot: float, expiry: dt.date, dte: int, t: float, right: str, strike: float,
         size: int, u: list[float]) -> Order:
    """The order of ``size`` contracts an ordinary trader sends for this contract (uniforms ``u``
    decide the rest)."""
    side = _SIDES[bisect.bisect_right(desk.side_cuts, u[10])]
    kind = SINGLE if u[6] >= 0.06 else SWEEP if _is_sweep(u, size) else COMPLEX
    # No comprehension on the path of nearly every order: each would cost a closure.
    if kind == COMPLEX:
        legs = _complex_legs(desk, spot, dte, t, right, strike, u)
        if len(legs) == 1:
            kind = SINGLE
    else:
        legs = [Leg(strike, right, desk.sigma(strike, t, dte, spot))]
    return Order(desk, ts, spot, expiry, dte, t, kind, legs, size, side, u)


def _complex_legs(desk: Desk, spot: float, dte: int, t: float, right: str, strike: float,
                  u: list[float]) -> list[Leg]:
    """The legs of a complex order on ``strike``, or only its first when a strike would not be positive."""
    contracts = _complex_contracts(desk.root, spot, dte, right, strike, u)
    if any(k <= 0.0 for k, _ in contracts):
        contracts = contracts[:1]
    return [Leg(k, r, desk.sigma(k, t, dte, spot)) for k, r in contracts]


def _complex_contracts(root: str, spot: float, dte: int, right: str, strike: float,
                       u: list[float]) -> list[tuple[float, str]]:
    """(strike, right) of each leg of a vertical, straddle, strangle or iron condor on ``strike``."""
    step = chain.strike_increment(spot, dte, root) * (1 + int(u[15] * 3))
    shape = u[14]
    if shape < 0.45:        # vertical
        far = strike + step if right == "C" else strike - step
        return [(strike, right), (round(far, 4), right)]
    if shape < 0.85:        # straddle or strangle
        return [(strike, right), (strike if shape < 0.65 else round(strike - step, 4), "P" if right == "C" else "C")]
    # iron condor around the strike
    return [(round(k, 4), r) for k, r in
            ((strike + step, "C"), (strike + 2 * step, "C"), (strike - step, "P"), (strike - 2 * step, "P"))]


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


def _price(root: str, leg: Leg, side: str) -> float:
    """Where the order trades against the leg's quote: at the touch, a tick inside it, or at mid; a
    zero bid is never hit (nobody sells into no bid), so those orders take the ask."""
    if leg.bid <= 0.0 or side == ASK:
        return leg.ask
    if side == BID:
        return leg.bid
    n_ticks = (leg.ask - leg.bid) / chain.tick_size(root, leg.bid) + 1e-9
    if side == NEAR_ASK and n_ticks >= 4:
        return chain.grid_floor(root, leg.ask - 0.5 * chain.tick_size(root, leg.ask - 1e-9))
    if side == NEAR_BID and n_ticks >= 4:
        return chain.grid_ceil(root, leg.bid + 0.5 * chain.tick_size(root, leg.bid))
    if side in (NEAR_ASK, NEAR_BID):
        return leg.ask if side == NEAR_ASK else leg.bid
    return mid_price(root, leg.bid, leg.ask)


def _intrinsic(order: Order, leg: Leg, spot: float | None = None) -> float:
    """The leg's intrinsic value at ``spot`` (default the order's)."""
    s = order.spot if spot is None else spot
    return max(s - leg.strike if leg.right == "C" else leg.strike - s, 0.0)


def shift_ticks(root: str, price: float, n: int) -> float:
    """``price`` moved ``n`` ticks along the grid (down stops at 0)."""
    for _ in range(abs(n)):
        if n > 0:
            price = chain.grid_ceil(root, price + chain.tick_size(root, price))
        else:
            price = max(chain.grid_floor(root, price - 0.5 * chain.tick_size(root, price - 1e-9)), 0.0)
    return price


def _affordable(size: int, price: float, limit: float) -> int:
    if size == 1:           # half the orders: one contract is always affordable
        return 1
    # max(1, min(size, int(limit / max(cost, 1e-9)))) in comparisons: the builtins parse keywords per call.
    cost = price * chain.CONTRACT_MULTIPLIER
    n = int(limit / (1e-9 if cost < 1e-9 else cost))
    if size < n:
        n = size
    return 1 if n < 1 else n


def prints(order: Order, next_mleg: Callable[[str, int], str]) -> list[Draft]:
    """The drafts ``order`` leaves on the tape."""
    if order.kind == COMPLEX:
        return _complex(order, next_mleg)
    leg = order.legs[0]
    if order.kind == SWEEP:
        return _sweep(order, leg)
    desk = order.desk
    price = _price(desk.root, leg, order.side)
    size = _affordable(order.size, price, MAX_PREMIUM)
    u = order.u
    if u[11] < desk.stale_share:
        return [_stale(order, leg, price, size)]
    age = int(-desk.fresh_mean * math.log(1.0 - u[13]))
    if age > FRESH_MAX_MS:
        age = FRESH_MAX_MS
    if size >= READ_MIN_CONTRACTS:
        side = chain.side_of(price, leg.bid, leg.ask, age)
        if side != chain.SIDE_MID and readable(side, order.dte, chain.otm_frac(leg.right, leg.strike, order.spot),
                                               leg.strike, order.spot, desk.ctx.is_event_symbol):
            return _unreadable(order, leg, price, size, age)
    return [_draft(order, leg, price, size, venues.venue_at(u[12]), leg.bid, leg.ask, age, _single_condition(order))]


def _stale(order: Order, leg: Leg, price: float, size: int) -> Draft:
    """A print with no quote, or the quote of a few seconds ago; the trade is on the grid."""
    root = order.desk.root
    u = order.u
    price = max(chain.grid_floor(root, price + 1e-9), chain.grid_ceil(root, _intrinsic(order, leg)),
                chain.tick_size(root, 0.0))
    if u[11] < order.desk.unquoted_share:
        return _draft(order, leg, price, size, venues.venue_at(u[12]), None, None, 0, _single_condition(order))
    bid, ask = leg.bid, leg.ask
    shift = int(u[15] * 5) - 2
    if bid > 0.0 and shift:
        # Never below intrinsic at the print's spot, never locked.
        bid = max(shift_ticks(root, leg.bid, shift), chain.grid_ceil(root, _intrinsic(order, leg)))
        ask = max(shift_ticks(root, leg.ask, shift), shift_ticks(root, bid, 1))
    return _draft(order, leg, price, size, venues.venue_at(u[12]), bid, ask, 2_000 + int(28_000 * u[13]),
                  _single_condition(order))


def _unreadable(order: Order, leg: Leg, price: float, size: int, age: int) -> list[Draft]:
    """A readable order of ten or more: filled in pieces of at most nine across venues within a
    few milliseconds, or (larger) at mid in a price-improvement auction."""
    venue = venues.venue_at(order.u[12])
    if size <= MAX_PIECES * (READ_MIN_CONTRACTS - 1):
        n = math.ceil(size / (READ_MIN_CONTRACTS - 1))
        parts = [size // n + (1 if k < size % n else 0) for k in range(n)]
        return _fills(order, leg, list(range(n)), [price] * n, parts, venues.pick_venues_from(order.u[12], n), age,
                      chain.COND_AUTO)
    mid = mid_price(order.desk.root, leg.bid, leg.ask)
    if leg.bid > 0.0 and chain.side_of(mid, leg.bid, leg.ask, age) == chain.SIDE_MID:
        return [_draft(order, leg, mid, _affordable(size, mid, MAX_PREMIUM), venue, leg.bid, leg.ask, age, chain.COND_SLAN)]
    return [_draft(order, leg, price, READ_MIN_CONTRACTS - 1, venue, leg.bid, leg.ask, age, chain.COND_AUTO)]


def _sweep(order: Order, leg: Leg) -> list[Draft]:
    """A small intermarket sweep: two to five venues within milliseconds, at one price or walking
    up (down) the book a tick, every leg under ten contracts."""
    u = order.u
    root = order.desk.root
    buy = u[14] < 0.7 or leg.bid <= 0.0
    n = _sweep_venues(u, order.size)
    total = min(order.size, n * (READ_MIN_CONTRACTS - 1))
    parts = [total // n + (1 if k < total % n else 0) for k in range(n)]
    price = leg.ask if buy else leg.bid
    prices = [price]
    floor = max(chain.grid_ceil(root, _intrinsic(order, leg)), chain.tick_size(root, 0.0))
    for _ in range(n - 1):
        if u[9] < 0.3:      # walking the book
            price = max(shift_ticks(root, price, 1 if buy else -1), floor)
        prices.append(price)
    return _fills(order, leg, [SWEEP_GAP_MS * k for k in range(n)], prices, parts, venues.pick_venues_from(u[12], n),
                  min(int(60 + 400 * u[13]), FRESH_MAX_MS), chain.COND_ISOI)


def _complex(order: Order, next_mleg: Callable[[str, int], str]) -> list[Draft]:
    """A small spread, straddle or condor: every leg at mid, one complex-order id, MLEG."""
    root = order.desk.root
    if any(leg.bid <= 0.0 for leg in order.legs):
        return prints(_single(order), next_mleg)
    mids = [mid_price(root, leg.bid, leg.ask) for leg in order.legs]
    size = _affordable(min(order.size, 50), sum(mids), COMPLEX_MAX_PREMIUM)
    mleg = next_mleg(root, order.ts)
    venue = venues.venue_at(order.u[12])
    age = min(int(60 + 400 * order.u[13]), FRESH_MAX_MS)
    code = chain.pick_condition(_extra_uniform(order.u), conditions.SMALL_COMPLEX)
    return [_draft(order, leg, mid, size, venue, leg.bid, leg.ask, age, code, mleg)
            for leg, mid in zip(order.legs, mids)]


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
    return Order(order.desk, order.ts, order.spot, order.expiry, order.dte, order.t, SINGLE, order.legs[:1],
                 order.size, order.side, order.u)


def _fills(order: Order, leg: Leg, delays: list[int], prices: list[float], parts: list[int], places: list[str],
           age: int, condition: str) -> list[Draft]:
    """Pieces ``delays`` ms after the order, against the order's quote and the spot of their own ts
    (at the order's ts when the stock moved through the option's intrinsic value meanwhile); a spot
    not read with the order's is read here."""
    desk = order.desk
    spot_at = desk.spot_at
    later = [order.ts + delay for delay in delays if delay and desk.ctx.in_session(order.ts + delay)]
    unread = [ts for ts in later if ts not in spot_at]
    if unread:
        desk.read_spots([], unread)
    out = []
    for delay, price, part, venue in zip(delays, prices, parts, places):
        spot = spot_at[order.ts + delay] if order.ts + delay in later else None
        if spot is not None and price >= _intrinsic(order, leg, spot):
            out.append(_draft(order, leg, price, part, venue, leg.bid, leg.ask, age + delay, condition,
                              ts=order.ts + delay, spot=spot))
        else:
            out.append(_draft(order, leg, price, part, venue, leg.bid, leg.ask, age, condition))
    return out


def _draft(order: Order, leg: Leg, price: float, size: int, venue: str, bid: float | None, ask: float | None,
           age: int, condition: str, mleg: str | None = None, ts: int | None = None,
           spot: float | None = None) -> Draft:
    """A print of ``leg`` at the order's ts and spot (a later piece passes its own)."""
    root = order.desk.root
    contract, expiry_text = contract_fields(root, order.expiry, leg.right, leg.strike)
    return Draft(order.ts if ts is None else ts, root, contract, expiry_text, leg.strike, leg.right, price, size,
                 venue, bid, ask, round(trade_iv(leg.sigma, leg.theo, price, leg.vega), 4),
                 round(order.spot if spot is None else spot, 4), mleg, age, condition)
