"""Scenario context and leg builders: contract choice, sizes, timing and priced print drafts."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from functools import lru_cache

import numpy as np

from options_svc import venues
from options_svc.pricing import (
    Quote,
    QuoteTerms,
    Surface,
    make_quote,
    mid_price,
    print_vega,
    quote_terms,
    regime_name,
    surface_for,
    trade_iv,
)
from synthmarket.domain import chain, records
from synthmarket.domain.marketdata import OptionPrint
from synthmarket.domain.regimes import SessionPhase
from synthmarket.domain.session import SessionState, UnderlyingState

PLACE_ASK = "ask"
PLACE_ABOVE_ASK = "above_ask"
PLACE_BID = "bid"
PLACE_BELOW_BID = "below_bid"
PLACE_MID = "mid"

FRESH_QUOTE_MAX_MS = 1_500          # labeled prints always carry a quote younger than 2 s
# A pending event's variance sits on the expiries after today: today's expire before it is released.
EVENT_EXPIRY_MIN_DTE = 1


@dataclass
class Draft:
    """An option print before it gets its id (the generator numbers prints at emission)."""

    ts: int
    underlying: str
    contract: str
    expiry: str
    strike: float
    right: str
    price: float
    size: int
    exchange: str
    bid: float | None
    ask: float | None
    iv: float
    underlying_price: float
    multi_leg_id: str | None = None
    quote_age_ms: int = 0
    condition: str = chain.COND_AUTO
    open_interest: int = 0

    @property
    def premium(self) -> float:
        return chain.premium(self.price, self.size)

    def to_print(self, pid: str) -> OptionPrint:
        """``OptionPrint(id=pid, **self.__dict__)``, filled in directly (``records.build``)."""
        return records.build(OptionPrint, {"id": pid, **self.__dict__})


# What Draft.to_print relies on: a Draft is an OptionPrint without its id, field for field.
records.plain_record(OptionPrint)
if [f.name for f in fields(OptionPrint)] != ["id", *(f.name for f in fields(Draft))]:
    raise TypeError("Draft must hold OptionPrint's fields after id, in order")


@dataclass
class ScenarioContext:
    """Everything a scenario function may look at: public state only, plus the clock."""

    symbol: str
    ts: int
    session: SessionState
    ul: UnderlyingState
    ul_at: Callable[[int], UnderlyingState] | None = None
    close_ms: int | None = None
    scenario_key: str = ""
    # Per-symbol event status from the event calendar; None falls back to the session phase.
    event_passed: bool | None = None
    gap_sign: int = 0
    _surface: Surface | None = field(default=None, repr=False)
    _terms: QuoteTerms | None = field(default=None, repr=False)
    # A few scenarios trade tickets too big for the premium cap (see ``capped``).
    big_ticket: bool = False
    _today: dt.date | None = field(default=None, repr=False, compare=False)
    _fresh_mean: float | None = field(default=None, repr=False, compare=False)
    # Quotes by (ts, spot, expiry, strike, right, shock): a retried attempt prices the same candidates
    # again, and a scenario's first print trades the quote the scenario sized itself on.
    _quotes: dict[tuple, Quote] = field(default_factory=dict, init=False, repr=False, compare=False)

    @property
    def today(self) -> dt.date:
        # Read by every expiry and strike choice; the time-zone conversion is worth doing once.
        if self._today is None:
            self._today = chain.exchange_date(self.ts)
        return self._today

    @property
    def regime(self) -> str:
        return regime_name(self.session.regime)

    @property
    def is_event_symbol(self) -> bool:
        return self.symbol in self.session.event_symbols

    @property
    def after_event(self) -> bool:
        """Whether this symbol's event has already happened (its gap is on the tape)."""
        if self.event_passed is not None:
            return self.event_passed
        return self.session.session_phase == SessionPhase.AFTER_EVENT

    @property
    def pending_event(self) -> bool:
        """Whether this symbol's event is still to come (its variance is in the surface)."""
        return self.is_event_symbol and not self.after_event

    @property
    def surface(self) -> Surface:
        if self._surface is None:
            self._surface = surface_for(self.ul, self.session, pending_event=self.pending_event)
        return self._surface

    @property
    def terms(self) -> QuoteTerms:
        if self._terms is None:
            self._terms = quote_terms(self.ul, self.session)
        return self._terms

    def underlying(self, ts: int) -> UnderlyingState:
        if ts == self.ts or self.ul_at is None:
            return self.ul
        return self.ul_at(ts)

    def expiries(self, lo: int, hi: int) -> list[dt.date]:
        # A fresh list: callers may shuffle it.
        return list(listed_expiries(self.symbol, self.today, lo, hi))

    def in_session(self, ts: int) -> bool:
        return self.close_ms is None or ts < self.close_ms

    def event_expiry(self, expiry: dt.date) -> bool:
        """Whether this expiry carries the pending event's variance."""
        return self.pending_event and (expiry - self.today).days >= EVENT_EXPIRY_MIN_DTE

    def quote(self, ts: int, spot: float, expiry: dt.date, strike: float, right: str,
              shock: float = 0.0) -> Quote:
        key = (ts, spot, expiry, strike, right, shock)
        q = self._quotes.get(key)
        if q is None:
            t = chain.years_to_expiry(ts, expiry)
            sigma = self.surface.iv(strike, t, self.event_expiry(expiry)) + shock
            q = self._quotes[key] = make_quote(self.symbol, right, spot, strike, t, max(sigma, 0.02), self.terms)
        return q

    @property
    def fresh_mean(self) -> float:
        """Mean age of a fresh quote (ms): dirtier sessions refresh slower."""
        mean = self._fresh_mean
        if mean is None:
            mean = self._fresh_mean = 60.0 + 500.0 * (1.0 - min(max(self.session.quote_cleanliness, 0.0), 1.0))
        return mean

    def fresh_age(self, rng: np.random.Generator) -> int:
        return int(min(rng.exponential(self.fresh_mean), FRESH_QUOTE_MAX_MS))

    def fill(self, rng: np.random.Generator, ts: int, expiry: dt.date, strike: float, right: str,
             placement: str, size: int, exchange: str, *, condition: str = chain.COND_AUTO,
             multi_leg_id: str | None = None, spot: float | None = None,
             ul: UnderlyingState | None = None, ticks: int = 1, quote: Quote | None = None) -> Draft:
        """Price one print against the NBBO of the moment (or ``quote``, the NBBO a sweep's legs all
        see within their milliseconds), placed as asked (``ticks`` through the quote for prints
        above the ask or below the bid)."""
        if ul is None:
            ul = self.underlying(ts)
        # The spot is the equity NBBO mid at the print's own ts (a leg may trade after ``ul``'s instant).
        s = (ul if ul.ts == ts else self.underlying(ts)).price if spot is None else spot
        # Aggressive buyers pay up in vol; aggressive sellers give a little; mid prints do neither.
        if placement in (PLACE_ASK, PLACE_ABOVE_ASK):
            shock = max(ul.execution_iv_shock, 0.0)
        elif placement in (PLACE_BID, PLACE_BELOW_BID):
            shock = -0.5 * max(ul.execution_iv_shock, 0.0)
        else:
            shock = 0.0
        q = quote or self.quote(ts, s, expiry, strike, right, shock)
        intrinsic = max(s - strike if right == "C" else strike - s, 0.0)
        price = place(self.symbol, q, placement, intrinsic, ticks)
        bid, ask, iv, theo = q
        if price != theo:
            t = chain.years_to_expiry(ts, expiry)
            iv = trade_iv(iv, theo, price, print_vega(right, s, strike, t, iv, theo))
        contract, expiry_text = contract_fields(self.symbol, expiry, right, strike)
        return Draft(ts, self.symbol, contract, expiry_text, strike, right, price, int(size), exchange,
                     bid, ask, round(iv, 4), round(s, 4), multi_leg_id, self.fresh_age(rng), condition)


def place(root: str, q: Quote, placement: str, intrinsic: float, ticks: int = 1) -> float:
    """A trade price on the grid against quote ``q``: never below intrinsic and never at a zero bid
    (nobody sells into no bid: such a print takes the ask)."""
    if placement == PLACE_ASK or (q.bid <= 0.0 and placement != PLACE_ABOVE_ASK):
        return q.ask
    if placement == PLACE_ABOVE_ASK:
        price = q.ask
        for _ in range(ticks):
            price = chain.grid_ceil(root, price + chain.tick_size(root, price))
        return price
    if placement == PLACE_BID:
        return q.bid
    if placement == PLACE_BELOW_BID:
        price = q.bid
        for _ in range(ticks):
            lower = chain.grid_floor(root, price - 0.5 * chain.tick_size(root, price - 1e-9))
            if lower <= 0.0 or lower < intrinsic:
                break
            price = lower
        return price
    return mid_price(root, q.bid, q.ask)


# A session prints a few thousand contracts over and over: their OCC symbol and expiry text once.
@lru_cache(maxsize=1 << 16)
def contract_fields(symbol: str, expiry: dt.date, right: str, strike: float) -> tuple[str, str]:
    return chain.occ_symbol(symbol, expiry, right, strike), expiry.isoformat()


# A pure function of (symbol, date, DTE range) that every scenario asks for, often several times.
@lru_cache(maxsize=1024)
def listed_expiries(symbol: str, today: dt.date, lo: int, hi: int) -> tuple[dt.date, ...]:
    """Expiries of ``symbol`` listed on ``today`` with DTE in [lo, hi]."""
    return tuple(e for e in chain.expiries(symbol, today) if lo <= (e - today).days <= hi)


# ---------------------------------------------------------------------------------------------
# Contract choice


def strikes_in_otm(ctx: ScenarioContext, expiry: dt.date, right: str, lo: float, hi: float) -> list[float]:
    """Listed strikes whose OTM fraction lies in [lo, hi] (fractions, lo may be negative)."""
    s = ctx.ul.price
    inc = chain.strike_increment(s, (expiry - ctx.today).days, ctx.symbol)
    if right == "C":
        k_lo, k_hi = s * (1.0 + lo), s * (1.0 + hi)
    else:
        k_lo, k_hi = s * (1.0 - hi), s * (1.0 - lo)
    first = math.ceil(k_lo / inc - 1e-9)
    last = math.floor(k_hi / inc + 1e-9)
    ladder = _ladder(inc, max(first, 1), last)
    # otm_frac is monotonic in the strike, so only the ends of the ladder can fall outside [lo, hi].
    lo, hi = lo - 1e-12, hi + 1e-12
    a, b = 0, len(ladder)
    while a < b and not lo <= chain.otm_frac(right, ladder[a], s) <= hi:
        a += 1
    while b > a and not lo <= chain.otm_frac(right, ladder[b - 1], s) <= hi:
        b -= 1
    return list(ladder[a:b])


# Spot moves slowly against the strike grid: a session asks for the same few hundred ladders
# thousands of times, and rounding every strike of a wide wing is most of the cost.
@lru_cache(maxsize=4096)
def _ladder(inc: float, first: int, last: int) -> tuple[float, ...]:
    """Strikes first x inc .. last x inc on the 4-decimal grid."""
    return tuple(round(i * inc, 4) for i in range(first, last + 1))


def atm_strike(ctx: ScenarioContext, expiry: dt.date) -> float:
    return chain.nearest_strike(ctx.ul.price, (expiry - ctx.today).days, ctx.symbol)


pick_venue = venues.pick_venue
pick_venues = venues.pick_venues


# ---------------------------------------------------------------------------------------------
# Sizes and timing


def draw_size(rng: np.random.Generator, lo: int, hi: int, alpha: float = 1.2) -> int:
    """A heavy-tailed size in [lo, hi] with extra mass on round lots, like real option tapes."""
    u = rng.random()
    a = 1.0 - alpha
    x = (lo ** a + u * (hi ** a - lo ** a)) ** (1.0 / a)
    size = int(round(x))
    if rng.random() < 0.3:
        for lot in (1000, 500, 100, 50, 10):
            snapped = int(round(size / lot)) * lot
            if lot <= size and lo <= snapped <= hi:
                size = snapped
                break
    return min(max(size, lo), hi)


def split_total(rng: np.random.Generator, total: int, n: int, lo: int, hi: int) -> list[int] | None:
    """Split ``total`` into ``n`` parts each within [lo, hi]; None when impossible."""
    if not n * lo <= total <= n * hi:
        return None
    w = rng.dirichlet(np.full(n, 2.0))
    parts = [lo + int(x) for x in np.floor(w * (total - n * lo)).tolist()]
    rest = total - sum(parts)
    i = 0
    while rest != 0:
        j = i % n
        step = 1 if rest > 0 else -1
        if lo <= parts[j] + step <= hi:
            parts[j] += step
            rest -= step
        i += 1
        if i > 100 * n + abs(rest) * n:
            return None
    return parts


def spaced_times(rng: np.random.Generator, start: int, n: int, gap_lo_ms: int, gap_hi_ms: int) -> list[int]:
    """n timestamps from start, gaps drawn skewed toward the short end of [gap_lo, gap_hi]."""
    out = [start]
    for _ in range(n - 1):
        gap = gap_lo_ms + int((gap_hi_ms - gap_lo_ms) * rng.beta(1.2, 2.5))
        out.append(out[-1] + gap)
    return out


def within_span(rng: np.random.Generator, start: int, n: int, span_lo_ms: int, span_hi_ms: int) -> list[int]:
    """n sorted timestamps whose first-to-last span lies in [span_lo, span_hi]."""
    span = int(rng.integers(span_lo_ms, span_hi_ms + 1))
    if n == 1:
        return [start]
    inner = sorted(rng.integers(1, max(span, 2), size=n - 2).tolist())
    return [start] + [start + x for x in inner] + [start + span]


def required_contracts(premium_usd: float, price: float) -> int:
    if price <= 0:
        return 1 << 30
    return int(math.ceil(premium_usd / (price * chain.CONTRACT_MULTIPLIER)))


# Prints over $1M are rare on a real tape (a few dozen a day on these names at this sample rate):
# most scenarios keep every print under the cap, a few big tickets do not.
PRINT_PREMIUM_CAP = 950_000.0
BIG_TICKET_SHARE = 0.05


def capped(ctx: ScenarioContext, price: float, lo: int, hi: int) -> int:
    """``hi`` lowered so that one print at ``price`` stays under the premium cap (never below ``lo``)."""
    if ctx.big_ticket or price <= 0.0:
        return hi
    return max(lo, min(hi, int(PRINT_PREMIUM_CAP / (price * chain.CONTRACT_MULTIPLIER))))


def over_cap(ctx: ScenarioContext, price: float, size: int) -> bool:
    """Whether ``size`` contracts at ``price`` would break the premium cap of a capped scenario."""
    return not ctx.big_ticket and price * size * chain.CONTRACT_MULTIPLIER > PRINT_PREMIUM_CAP


# ---------------------------------------------------------------------------------------------
# Small helpers the scenario modules share

# Comfortably above the classifier's $25k floor, so a scenario is worth an event.
TARGET_EVENT_PREMIUM = 30_000.0


def total_premium(drafts: list[Draft]) -> float:
    return sum(d.premium for d in drafts)


def mleg_id(ctx: ScenarioContext, n: int = 0) -> str:
    return f"m-{ctx.symbol}-{ctx.ts}-{ctx.scenario_key}-{n}"


def choice(rng: np.random.Generator, items: list):
    return items[int(rng.integers(len(items)))]


def nearest(items: list[float], target: float) -> float:
    return min(items, key=lambda k: (abs(k - target), k))


def keep_otm(drafts: list[Draft], lo: float, hi: float) -> list[Draft]:
    """Drop prints whose moneyness drifted outside [lo, hi] as the underlying moved."""
    return [d for d in drafts if lo <= chain.otm_frac(d.right, d.strike, d.underlying_price) <= hi]


def live(ctx: ScenarioContext, times: list[int]) -> list[int]:
    return [t for t in times if ctx.in_session(t)]
