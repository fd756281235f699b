"""What every ordinary order of one name reads in one minute (its ``Desk``, and the minute's ``Tape``
shared by every name), and the orders and legs drawn on it (``options_svc.orders``)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from options_svc.legs import EVENT_EXPIRY_MIN_DTE, ScenarioContext
from synthmarket.domain.session import SessionState

Spots = Callable[[str, list[int]], list[float]]          # (symbol, ascending ts) -> the spot at each


class Tape:
    """What every order of one minute reads off its session, whatever its name."""

    __slots__ = ("side_cuts", "stale_share", "unquoted_share")

    def __init__(self, session: SessionState, buy_tilt: float) -> None:
        # Where an order's side draw falls among the cuts, before zero bids (which only the ask can
        # take) and the auctions of large readable orders (at mid): 34% at the ask, 17% at mid, 43% at
        # the bid, 3% a tick inside each side of wide quotes.
        p_ask = 0.34 + buy_tilt
        self.side_cuts = (p_ask, p_ask + 0.03, p_ask + 0.03 + 0.17, p_ask + 0.23 + 0.03)
        dirty = 1.0 - min(max(session.quote_cleanliness, 0.0), 1.0)
        self.stale_share = 0.02 + 0.13 * dirty        # prints with an old quote or none
        self.unquoted_share = 0.004 + 0.03 * dirty    # of those, prints with none


class Desk:
    """One name in one minute of ordinary orders: its context and what every order reads off it."""

    __slots__ = ("idx", "ctx", "root", "spots", "spot_at", "surface_iv", "terms", "pending_event", "side_cuts",
                 "stale_share", "unquoted_share", "fresh_mean")

    def __init__(self, idx: int, ctx: ScenarioContext, spots: Spots, tape: Tape) -> None:
        self.idx = idx
        self.ctx = ctx
        self.root = ctx.symbol
        self.spots = spots
        self.spot_at: dict[int, float] = {}       # the spots read so far, by ts
        self.surface_iv = ctx.surface.iv
        self.terms = ctx.terms
        self.pending_event = ctx.pending_event
        self.side_cuts = tape.side_cuts
        self.stale_share = tape.stale_share
        self.unquoted_share = tape.unquoted_share
        self.fresh_mean = ctx.fresh_mean

    def read_spots(self, times: list[int], later: list[int]) -> None:
        """Read the spot at each of ``times`` (ascending) and at each of ``later`` still in the session,
        in one pass."""
        if later:
            in_session = self.ctx.in_session
            later = [ts for ts in later if in_session(ts)]
            if later:
                times = sorted(set(times).union(later))
        self.spot_at.update(zip(times, self.spots(self.root, times)))

    def sigma(self, strike: float, t: float, dte: int, spot: float) -> float:
        """The surface's vol of ``strike`` (expiries after today carry a pending event's variance)."""
        return self.surface_iv(strike, t, self.pending_event and dte >= EVENT_EXPIRY_MIN_DTE, spot)


class Leg:
    """One contract of an order, valued and quoted with every other leg of the minute."""

    __slots__ = ("strike", "right", "sigma", "theo", "bid", "ask", "vega")

    # Set by the minute's valuation, before any print reads them.
    theo: float
    bid: float                          # the NBBO around ``theo``
    ask: float
    vega: float                         # of the American value: what a trade's vol is backed out with

    def __init__(self, strike: float, right: str, sigma: float) -> None:
        self.strike = strike
        self.right = right
        self.sigma = sigma


class Order:
    """One ordinary order; every leg shares its name, ts, spot and expiry."""

    __slots__ = ("desk", "ts", "spot", "expiry", "dte", "t", "kind", "legs", "size", "side", "u")

    def __init__(self, desk: Desk, ts: int, spot: float, expiry: dt.date, dte: int, t: float, kind: str,
                 legs: list[Leg], size: int, side: str, u: list[float]) -> None:
        self.desk = desk
        self.ts = ts
        self.spot = spot
        self.expiry = expiry
        self.dte = dte
        self.t = t
        self.kind = kind
        self.legs = legs
        self.size = size
        self.side = side
        self.u = u
