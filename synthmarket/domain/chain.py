"""Public option-chain conventions: OCC symbols, expiries, strikes, moneyness, side and premium.

The options generator and the flow classifier both read these; see docs/flow_footprints.md.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from functools import lru_cache

from synthmarket.domain.calendar import EXCHANGE_TZ, exchange_date, is_trading_date

RISK_FREE_RATE = 0.045          # continuously compounded, used for pricing and parity checks
# Dealer gamma sits in the front weekly: every name lists an expiry this close on every weekday.
FRONT_EXPIRY_MAX_DTE = 4
STALE_QUOTE_MS = 2_000          # a quote this old (or older) gives side "unknown"
SIDE_BAND = 0.25                # buy within the top quarter of the spread, sell within the bottom
CONTRACT_MULTIPLIER = 100
MS_PER_YEAR = 365 * 86_400_000

DAILY_EXPIRY_ROOTS: frozenset[str] = frozenset({"SPY", "QQQ", "IWM"})
DAILY_HORIZON_DAYS = 14         # daily expiries are listed this many calendar days out
WEEKLY_COUNT = 8                # Friday weeklies listed
MONTHLY_COUNT = 12              # third-Friday monthlies listed
LEAPS_YEARS = (1, 2)            # January LEAPS this many years after the trade year

# The 18 US equity option exchanges (venue codes as shown on a tape; SPHR is MIAX Sapphire).
OPTION_EXCHANGES: tuple[str, ...] = (
    "AMEX", "ARCA", "BOX", "CBOE", "C2", "BZX", "EDGX", "ISE", "GEMX", "MRX",
    "PHLX", "NOM", "BX", "MIAX", "PEARL", "EMLD", "MEMX", "SPHR",
)

# Penny Interval Program price grid: SPY, QQQ and IWM trade in pennies at every price; the other
# program classes (the mega caps of the universe) in $0.01 under $3 and $0.05 from $3; any other
# class in $0.05 under $3 and $0.10 from $3 (here COIN and PLTR, kept outside the program so both
# grids are on the tape).
PENNY_EVERY_PRICE_ROOTS: frozenset[str] = frozenset({"SPY", "QQQ", "IWM"})
PENNY_PROGRAM_ROOTS: frozenset[str] = PENNY_EVERY_PRICE_ROOTS | frozenset({
    "AAPL", "MSFT", "NVDA", "AMZN", "GOOGL", "META", "TSLA", "AMD", "NFLX", "JPM", "BAC", "XOM", "UNH",
    "AVGO", "WMT",
})
TICK_BREAK = 3.0

SIDE_BUY = "buy"
SIDE_SELL = "sell"
SIDE_MID = "mid"
SIDE_UNKNOWN = "unknown"

# OPRA sale conditions of an option print: every print carries exactly one. The code is OPRA's
# abbreviation; the comment names the OPRA message type it stands for.
COND_AUTO = "AUTO"      # auto-execution: a regular electronic trade
COND_SLAN = "SLAN"      # single-leg auction, non-ISO (a price-improvement or block auction)
COND_SLAI = "SLAI"      # single-leg auction, ISO
COND_SLFT = "SLFT"      # single-leg floor trade
COND_ISOI = "ISOI"      # intermarket sweep order: one leg of a sweep across venues
COND_MLET = "MLET"      # multi-leg auto-electronic trade
COND_MLAT = "MLAT"      # multi-leg auction
COND_MLFT = "MLFT"      # multi-leg floor trade
COND_TLET = "TLET"      # stock-option auto-electronic trade (options tied to a stock leg)
COND_TLAT = "TLAT"      # stock-option auction
COND_TLFT = "TLFT"      # stock-option floor trade
OPTION_CONDITIONS: tuple[str, ...] = (
    COND_AUTO, COND_SLAN, COND_SLAI, COND_SLFT, COND_ISOI, COND_MLET, COND_MLAT, COND_MLFT,
    COND_TLET, COND_TLAT, COND_TLFT,
)
# A sweep leg is an ISO fill: on its own (ISOI) or out of an ISO auction (SLAI).
SWEEP_CONDITIONS: frozenset[str] = frozenset({COND_ISOI, COND_SLAI})
# Legs of one multi-leg order (they share a multi_leg_id); stock-tied trades carry a stock leg,
# with one option leg (a buy-write) or several (a conversion).
MULTI_LEG_CONDITIONS: frozenset[str] = frozenset({COND_MLET, COND_MLAT, COND_MLFT})
STOCK_TIED_CONDITIONS: frozenset[str] = frozenset({COND_TLET, COND_TLAT, COND_TLFT})
COMPLEX_CONDITIONS: frozenset[str] = MULTI_LEG_CONDITIONS | STOCK_TIED_CONDITIONS


def pick_condition(u: float, table: tuple[tuple[float, str], ...]) -> str:
    """The condition a uniform draw in [0, 1) lands on in ``table`` ((cumulative share, code), ...)."""
    for edge, code in table:
        if u < edge:
            return code
    return table[-1][1]


class OccSymbolError(ValueError):
    pass


@dataclass(frozen=True)
class OccContract:
    root: str
    expiry: dt.date
    right: str                  # "C" | "P"
    strike: float

    @property
    def symbol(self) -> str:
        return occ_symbol(self.root, self.expiry, self.right, self.strike)


# ---------------------------------------------------------------------------------------------
# OCC symbology


def _as_date(expiry: dt.date | str) -> dt.date:
    if isinstance(expiry, dt.date):
        return expiry
    return _parse_iso_date(expiry)


@lru_cache(maxsize=4096)
def _parse_iso_date(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


# A session prints the same few thousand contracts over and over: the symbol is a pure function
# of its arguments, so it is formatted once per contract (errors are raised, never cached).
@lru_cache(maxsize=65536)
def occ_symbol(root: str, expiry: dt.date | str, right: str, strike: float) -> str:
    """OCC option symbol: root padded to 6, YYMMDD, C/P, strike x 1000 in 8 digits."""
    root = root.strip().upper()
    if not 1 <= len(root) <= 6:
        raise OccSymbolError(f"root must be 1-6 characters, got {root!r}")
    right = right.upper()
    if right not in ("C", "P"):
        raise OccSymbolError(f"right must be C or P, got {right!r}")
    milli = int(round(strike * 1000))
    if not 0 < milli < 100_000_000:
        raise OccSymbolError(f"strike out of range: {strike!r}")
    return f"{_occ_prefix(root, _as_date(expiry))}{right}{milli:08d}"


# Formatting the date is most of a symbol's cost; a chain has a few dozen expiries per root.
@lru_cache(maxsize=4096)
def _occ_prefix(root: str, expiry: dt.date) -> str:
    return f"{root:<6}{expiry:%y%m%d}"


def parse_occ(symbol: str) -> OccContract:
    """Parse an OCC symbol (21 characters, padded root) back into its parts."""
    if len(symbol) != 21:
        raise OccSymbolError(f"OCC symbol must be 21 characters, got {len(symbol)}: {symbol!r}")
    root = symbol[:6].rstrip()
    ymd, right, milli = symbol[6:12], symbol[12], symbol[13:]
    if not root or not root.isalnum() or right not in ("C", "P") or not ymd.isdigit() or not milli.isdigit():
        raise OccSymbolError(f"malformed OCC symbol {symbol!r}")
    try:
        expiry = dt.date(2000 + int(ymd[:2]), int(ymd[2:4]), int(ymd[4:]))
    except ValueError:
        raise OccSymbolError(f"bad expiry in OCC symbol {symbol!r}") from None
    return OccContract(root, expiry, right, int(milli) / 1000.0)


# ---------------------------------------------------------------------------------------------
# Expiry calendar


def third_friday(year: int, month: int) -> dt.date:
    first = dt.date(year, month, 1)
    offset = (4 - first.weekday()) % 7
    return first + dt.timedelta(days=offset + 14)


def expiry_on(date: dt.date) -> dt.date:
    """An expiry that falls on a market holiday moves to the trading day before (Good Friday
    monthlies expire on the Thursday)."""
    while not is_trading_date(date):
        date -= dt.timedelta(days=1)
    return date


@lru_cache(maxsize=2048)
def expiries(root: str, trade_date: dt.date) -> tuple[dt.date, ...]:
    """Listed expiries on a trade date, sorted, from 0DTE (where it exists) to LEAPS.

    Daily expiries (every trading day, 14 days out) for SPY/QQQ/IWM; Friday weeklies (8) for all
    names; third-Friday monthlies (12); January LEAPS one and two years after the trade year.
    A Friday expiry on a market holiday moves to the trading day before.
    """
    out: set[dt.date] = set()
    if root in DAILY_EXPIRY_ROOTS:
        for k in range(DAILY_HORIZON_DAYS + 1):
            d = trade_date + dt.timedelta(days=k)
            if is_trading_date(d):
                out.add(d)
    friday = trade_date + dt.timedelta(days=(4 - trade_date.weekday()) % 7)
    for k in range(WEEKLY_COUNT):
        out.add(expiry_on(friday + dt.timedelta(weeks=k)))
    year, month = trade_date.year, trade_date.month
    added = 0
    while added < MONTHLY_COUNT:
        tf = expiry_on(third_friday(year, month))
        if tf >= trade_date:
            out.add(tf)
            added += 1
        month += 1
        if month > 12:
            year, month = year + 1, 1
    for k in LEAPS_YEARS:
        out.add(expiry_on(third_friday(trade_date.year + k, 1)))
    return tuple(sorted(out))


def dte(ts_ms: int, expiry: dt.date | str) -> int:
    """Calendar days from the print's exchange date to expiry (0 on expiration day)."""
    return (_as_date(expiry) - exchange_date(ts_ms)).days


@lru_cache(maxsize=4096)
def expiry_close_ms(expiry: dt.date) -> int:
    """Epoch ms of 16:00 America/New_York on the expiry date (when the option stops trading)."""
    return int(dt.datetime.combine(expiry, dt.time(16, 0), EXCHANGE_TZ).timestamp() * 1000)


def years_to_expiry(ts_ms: int, expiry: dt.date | str) -> float:
    """T in years (ACT/365) from ts to the 16:00 ET close on expiry; pricing and parity use this."""
    return max(expiry_close_ms(_as_date(expiry)) - ts_ms, 0) / MS_PER_YEAR


def discount_factor(ts_ms: int, expiry: dt.date | str) -> float:
    """e^(-rT) with T = years_to_expiry(ts, expiry)."""
    return math.exp(-RISK_FREE_RATE * years_to_expiry(ts_ms, expiry))


# ---------------------------------------------------------------------------------------------
# Strikes and moneyness


def strike_increment(spot: float, dte_days: int, root: str = "") -> float:
    """Listed strike spacing for a spot price and tenor.

    Every increment divides gamma_strike_step(spot), so gamma-heavy strikes are always listed.
    """
    if root in DAILY_EXPIRY_ROOTS and dte_days <= 60:
        base = 1.0
    elif spot < 25:
        base = 0.5
    elif spot < 150:
        base = 1.0
    elif spot < 400:
        base = 2.5
    else:
        base = 5.0
    if dte_days > 90:
        # Longer tenors list sparser strikes.
        base = {0.5: 1.0, 1.0: 2.5, 2.5: 5.0, 5.0: 10.0}[base]
    return min(base, gamma_strike_step(spot))


def round_strike(value: float, increment: float) -> float:
    return round(round(value / increment) * increment, 4)


def nearest_strike(spot: float, dte_days: int, root: str = "") -> float:
    return round_strike(spot, strike_increment(spot, dte_days, root))


def otm_frac(right: str, strike: float, spot: float) -> float:
    """Out-of-the-money distance as a fraction of spot (negative when in the money)."""
    if right == "C":
        return (strike - spot) / spot
    return (spot - strike) / spot


def otm_pct(right: str, strike: float, spot: float) -> float:
    """Out-of-the-money distance in PERCENT of spot: calls (K - S)/S x 100, puts (S - K)/S x 100."""
    return 100.0 * otm_frac(right, strike, spot)


def gamma_strike_step(spot: float) -> float:
    """Spacing of gamma-heavy strikes: 5 when spot < 300, else 10."""
    return 5.0 if spot < 300 else 10.0


def is_gamma_strike(strike: float, spot: float) -> bool:
    step = gamma_strike_step(spot)
    q = strike / step
    return abs(q - round(q)) < 1e-6


def gamma_strike_nearest(spot: float) -> float:
    step = gamma_strike_step(spot)
    return round(spot / step) * step


def gamma_strike_below(spot: float) -> float:
    """The gamma-heavy strike at or just below spot."""
    step = gamma_strike_step(spot)
    return math.floor(spot / step + 1e-9) * step


# ---------------------------------------------------------------------------------------------
# Price grid


def tick_size(root: str, price: float) -> float:
    """The minimum price increment of ``root``'s options at ``price`` (Penny Interval Program)."""
    if root in PENNY_EVERY_PRICE_ROOTS:
        return 0.01
    if root in PENNY_PROGRAM_ROOTS:
        return 0.01 if price < TICK_BREAK else 0.05
    return 0.05 if price < TICK_BREAK else 0.10


# k ticks of c cents are priced as the integer k c over 100: the double nearest the decimal price,
# which is what round(k * tick, 2) gives, without its trip through decimal digits (options are
# priced on the grid for nearly every print).
_CENTS_PER_TICK: dict[float, int] = {0.01: 1, 0.05: 5, 0.10: 10}


def grid_floor(root: str, price: float) -> float:
    """The highest grid price at or below ``price`` (0.0 for a price under one tick)."""
    tick = tick_size(root, price)
    return math.floor(price / tick + 1e-7) * _CENTS_PER_TICK[tick] / 100.0


def grid_ceil(root: str, price: float) -> float:
    """The lowest grid price at or above ``price``."""
    tick = tick_size(root, price)
    return math.ceil(price / tick - 1e-7) * _CENTS_PER_TICK[tick] / 100.0


def on_grid(root: str, price: float) -> bool:
    """Whether ``price`` is a whole number of ticks (the tick of its own price level)."""
    return abs(grid_floor(root, price) - price) < 1e-7


# ---------------------------------------------------------------------------------------------
# Side and premium


def side_of(price: float, bid: float | None, ask: float | None, quote_age_ms: int | None) -> str:
    """Aggressor side from the print's NBBO: buy | sell | mid | unknown (see footprint doc)."""
    if bid is None or ask is None or quote_age_ms is None or quote_age_ms >= STALE_QUOTE_MS:
        return SIDE_UNKNOWN
    width = ask - bid
    eps = 1e-9
    if price >= ask - SIDE_BAND * width - eps:
        return SIDE_BUY
    if price <= bid + SIDE_BAND * width + eps:
        return SIDE_SELL
    return SIDE_MID


def premium(price: float, size: int) -> float:
    """USD premium of a print: price x size x 100."""
    return price * size * CONTRACT_MULTIPLIER
