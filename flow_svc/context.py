"""Public context the classifier reads besides the option tape: event symbols, equity quotes and
each contract's open interest at today's open."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from synthmarket.domain.marketdata import EquityQuote, EquityTrade

EventSymbolSource = Callable[[int], Iterable[str]]


class MarketContext:
    """The event calendar of the moment and the last equity trade/quote per symbol.

    Event symbols come either from ``set_event_symbols(ts, symbols)`` calls by the owner, or from
    a ``source(ts)`` callable, asked at most once per second of tape time (it is usually the
    regime engine, which is random-access but not free).
    """

    def __init__(self, event_symbols: Iterable[str] = (), source: EventSymbolSource | None = None):
        self._events: frozenset[str] = frozenset(event_symbols)
        self._events_ts: int | None = None
        self._source = source
        self._source_second: int | None = None
        self.last_trade: dict[str, EquityTrade] = {}
        self.last_quote: dict[str, EquityQuote] = {}
        # OCC symbol -> open interest at today's open, as the day's prints carry it (OCC publishes
        # it once before the open, so one print of a contract tells it for the whole day).
        self.open_interest: dict[str, int] = {}

    def set_event_symbols(self, ts: int, symbols: Iterable[str]) -> None:
        # An older update arriving late must not undo a newer one.
        if self._events_ts is not None and ts < self._events_ts:
            return
        self._events = frozenset(symbols)
        self._events_ts = ts

    def event_symbols(self, ts: int) -> frozenset[str]:
        if self._source is not None:
            second = ts // 1000
            if second != self._source_second:
                self._source_second = second
                self._events = frozenset(self._source(ts))
                self._events_ts = ts
        return self._events

    def new_day(self) -> None:
        self.open_interest = {}

    def observe_equity(self, item: EquityTrade | EquityQuote) -> None:
        # Exact-type check first: called for every traded name in every step of a session.
        if type(item) is EquityTrade or isinstance(item, EquityTrade):
            self.last_trade[item.symbol] = item
        elif isinstance(item, EquityQuote):
            self.last_quote[item.symbol] = item
        else:
            raise TypeError(f"expected EquityTrade or EquityQuote, got {type(item).__name__}")
