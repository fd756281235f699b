"""Opening and closing crosses: each name's auction prints on its listing market, sized off its day.

The opening cross prints at the open against the first NBBO; the closing cross on the last
millisecond of the session (the tape covers [open, close)), at or inside the NBBO in force. Sizes
are a share of the name's typical session volume with a day-to-day spread: closing auctions
carried ~7-10% of US consolidated volume in 2023-24 (single stocks more, index ETFs, whose volume
is mostly intraday trading, far less); opening crosses well under 1-2%.
"""

from __future__ import annotations

import math

from equities_svc import activity, sizes, venues
from synthmarket.domain import rng
from synthmarket.domain.universe import SymbolSpec

# Share of the typical session's shares, by kind of name.
OPEN_SHARE = {"index_etf": 0.003, "stock": 0.006}
CLOSE_SHARE = {"index_etf": 0.03, "stock": 0.095}
# Day-to-day spread of an auction's size (log sd): rebalances and quiet days.
SIZE_LOG_SD = 0.35
# Realised continuous volume over the typical session's (regime, focus and volatility tilts).
ACTIVITY_NORM = 1.1

PRIMARY_LISTING = {
    "SPY": "ARCA", "IWM": "ARCA", "JPM": "NYSE", "BAC": "NYSE", "XOM": "NYSE", "UNH": "NYSE",
}
PRIMARY_DEFAULT = "NASDAQ"


def listing_venue(symbol: str) -> int:
    """Index into ``venues.VENUES`` of the name's listing market, where its auctions print."""
    return venues.VENUES.index(PRIMARY_LISTING.get(symbol, PRIMARY_DEFAULT))


def cross_size(spec: SymbolSpec, seed: int, ordinal: int, minutes: int, closing: bool) -> int:
    """Shares in the name's opening (or closing) cross on the day."""
    kind = "index_etf" if spec.sector == "index_etf" else "stock"
    share = (CLOSE_SHARE if closing else OPEN_SHARE)[kind]
    typical = activity.typical_session_trades(spec, minutes) * ACTIVITY_NORM * sizes.mean_trade_size(
        sizes.size_scale(spec), float(sizes.odd_lot_share(spec.ref_price)))
    z = rng.normal(seed, ordinal, spec.symbol, "closing-cross" if closing else "opening-cross")
    return max(100, int(typical * share * math.exp(SIZE_LOG_SD * z - 0.5 * SIZE_LOG_SD**2)))


def cross_price_cents(bid_c: int, ask_c: int, u: float) -> int:
    """The auction price on the penny grid at or inside the quote: the midpoint, a side when it is half a cent."""
    total = bid_c + ask_c
    return total // 2 + (1 if total % 2 and u < 0.5 else 0)
