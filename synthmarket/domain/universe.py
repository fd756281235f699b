"""The symbol universe: liquid US names with sector, reference price and typical spread."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType


@dataclass(frozen=True)
class SymbolSpec:
    symbol: str
    sector: str
    ref_price: float        # a plausible reference price, USD
    typical_spread_bps: float  # NBBO spread in calm midday conditions
    annual_vol: float       # typical annualised volatility of the name
    beta: float             # sensitivity to the shared market factor
    avg_trade_size: int     # typical equity print size, shares


_SPECS: tuple[SymbolSpec, ...] = (
    SymbolSpec("SPY", "index_etf", 585.0, 0.2, 0.15, 1.00, 150),
    SymbolSpec("QQQ", "index_etf", 505.0, 0.3, 0.19, 1.15, 150),
    SymbolSpec("IWM", "index_etf", 225.0, 0.5, 0.22, 1.15, 200),
    SymbolSpec("AAPL", "technology", 228.0, 0.5, 0.24, 1.05, 120),
    SymbolSpec("MSFT", "technology", 425.0, 0.5, 0.23, 1.00, 100),
    SymbolSpec("NVDA", "semiconductors", 138.0, 0.8, 0.48, 1.60, 200),
    SymbolSpec("AMZN", "consumer", 205.0, 0.6, 0.30, 1.15, 120),
    SymbolSpec("GOOGL", "communication", 172.0, 0.6, 0.28, 1.05, 120),
    SymbolSpec("META", "communication", 585.0, 0.7, 0.35, 1.20, 80),
    SymbolSpec("TSLA", "consumer", 330.0, 1.0, 0.58, 1.70, 150),
    SymbolSpec("AMD", "semiconductors", 140.0, 1.0, 0.48, 1.55, 150),
    SymbolSpec("NFLX", "communication", 880.0, 1.2, 0.36, 1.10, 60),
    SymbolSpec("JPM", "financials", 240.0, 0.6, 0.22, 0.95, 100),
    SymbolSpec("BAC", "financials", 44.0, 2.3, 0.26, 1.10, 300),
    SymbolSpec("XOM", "energy", 118.0, 1.0, 0.25, 0.70, 150),
    SymbolSpec("UNH", "healthcare", 560.0, 1.1, 0.26, 0.60, 60),
    SymbolSpec("COIN", "financials", 290.0, 2.0, 0.75, 2.00, 100),
    SymbolSpec("PLTR", "technology", 62.0, 1.8, 0.65, 1.90, 300),
    SymbolSpec("AVGO", "semiconductors", 175.0, 0.9, 0.42, 1.40, 120),
    SymbolSpec("WMT", "consumer", 88.0, 1.2, 0.18, 0.55, 150),
)

UNIVERSE: Mapping[str, SymbolSpec] = MappingProxyType({s.symbol: s for s in _SPECS})
DEFAULT_SYMBOLS: tuple[str, ...] = tuple(s.symbol for s in _SPECS)


class UnknownSymbolError(KeyError):
    pass


def symbol_spec(symbol: str) -> SymbolSpec:
    try:
        return UNIVERSE[symbol]
    except KeyError:
        raise UnknownSymbolError(symbol) from None


def resolve_symbols(symbols: Iterable[str]) -> tuple[str, ...]:
    """Validate and de-duplicate symbols, keeping order; unknown names raise UnknownSymbolError."""
    seen: list[str] = []
    for raw in symbols:
        sym = raw.strip().upper()
        if sym not in UNIVERSE:
            raise UnknownSymbolError(sym)
        if sym not in seen:
            seen.append(sym)
    return tuple(seen)
