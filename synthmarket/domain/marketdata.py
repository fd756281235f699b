"""Public market-data records: option prints, equity trades and quotes, smart-money events.

These carry public market fields only. Hidden scenario labels never live on these types.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from synthmarket.domain.chain import COND_AUTO


@dataclass(frozen=True)
class OptionPrint:
    id: str
    ts: int                    # epoch ms UTC
    underlying: str
    contract: str              # OCC symbol, e.g. "AAPL  261218C00230000"
    expiry: str                # YYYY-MM-DD
    strike: float
    right: str                 # "C" | "P"
    price: float
    size: int                  # contracts
    exchange: str              # venue code, e.g. "CBOE"
    bid: float | None          # None when the quote is missing
    ask: float | None
    iv: float
    underlying_price: float
    multi_leg_id: str | None = None
    quote_age_ms: int = 0      # how old the NBBO was at the print (stale quotes are old)
    condition: str = COND_AUTO  # OPRA sale condition, one of chain.OPTION_CONDITIONS
    open_interest: int = 0     # the contract's open interest at today's open (OCC, published before it)

    def to_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in _OPTION_PRINT_FIELDS}


# Sale conditions of an equity print (the CTA/UTP condition each stands for). A print carries one:
# a cross or an exception first, then ISO, then ODD_LOT for a print under 100 shares, else REGULAR.
COND_REGULAR = "REGULAR"                # regular sale (@)
COND_ODD_LOT = "ODD_LOT"                # odd-lot trade, under 100 shares (I)
COND_ISO = "ISO"                        # intermarket sweep order fill (F)
COND_OPENING_CROSS = "OPENING_CROSS"    # the listing market's opening auction print (O, Q)
COND_CLOSING_CROSS = "CLOSING_CROSS"    # the listing market's closing auction print (6, M)
COND_LATE = "LATE"                      # reported late, out of sequence, at the price it traded at (Z, L)
COND_AVERAGE_PRICE = "AVERAGE_PRICE"    # average price of an order worked over time (B, W)
EQUITY_TRADE_CONDITIONS: tuple[str, ...] = (
    COND_REGULAR, COND_ODD_LOT, COND_ISO, COND_OPENING_CROSS, COND_CLOSING_CROSS, COND_LATE, COND_AVERAGE_PRICE,
)
# A print lies at or inside the NBBO in force unless it carries one of these.
NBBO_EXEMPT_CONDITIONS = frozenset({COND_ISO, COND_OPENING_CROSS, COND_CLOSING_CROSS, COND_LATE, COND_AVERAGE_PRICE})


@dataclass(frozen=True)
class EquityTrade:
    id: str
    ts: int
    symbol: str
    price: float
    size: int
    venue: str
    off_exchange: bool
    condition: str = COND_REGULAR   # one of EQUITY_TRADE_CONDITIONS

    def to_dict(self) -> dict[str, Any]:
        return {"type": "trade", "id": self.id, "ts": self.ts, "symbol": self.symbol, "price": self.price,
                "size": self.size, "venue": self.venue, "off_exchange": self.off_exchange,
                "condition": self.condition}


@dataclass(frozen=True)
class EquityQuote:
    ts: int
    symbol: str
    bid: float
    ask: float
    bid_size: int
    ask_size: int

    def to_dict(self) -> dict[str, Any]:
        return {"type": "quote", "ts": self.ts, "symbol": self.symbol, "bid": self.bid, "ask": self.ask,
                "bid_size": self.bid_size, "ask_size": self.ask_size}


@dataclass(frozen=True)
class SmartMoneyEvent:
    event_id: str
    ts: int
    profile_id: str            # one of PUBLIC_PROFILE_IDS
    underlying: str
    direction: str             # bullish | bearish | neutral
    premium: float             # USD
    contracts: int
    print_ids: tuple[str, ...]
    reason: str
    contract: str = ""         # the lead contract (OCC) when there is one
    expiry: str = ""
    strike: float = 0.0
    right: str = ""
    spot: float = 0.0
    side: str = ""             # ask | above_ask | bid | below_bid | mid, of the lead print
    order_type: str = ""       # sweep | block | split | multi_leg
    price: float = 0.0         # average per contract on the lead contract
    iv: float = 0.0            # of the lead print
    volume: int = 0            # of the lead contract today, up to and including this event
    open_interest: int | None = None   # of the lead contract at today's open; None on events stored before it

    def to_dict(self) -> dict[str, Any]:
        data = {name: getattr(self, name) for name in _EVENT_FIELDS}
        data["print_ids"] = list(self.print_ids)
        return data


# Field order of the dataclasses, read once: to_dict runs for every record written.
_OPTION_PRINT_FIELDS = tuple(f.name for f in fields(OptionPrint))
_EVENT_FIELDS = tuple(f.name for f in fields(SmartMoneyEvent))
