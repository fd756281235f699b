"""The equity NBBO at one instant, for the option side: the quote the equities service has in force.

``quote_at(symbol, ts, control, symbols)`` is the bid and ask equities_svc publishes as in force at
``ts``: the same construction as its tape (``nbbo.block_quotes``), read by chunks of minutes that
are built once and kept as machine integers, since an option print reads its spot at its own ts.
"""

from __future__ import annotations

import bisect
import datetime as dt
import itertools
from array import array
from collections.abc import Iterable, Sequence
from functools import lru_cache
from typing import Any

import numpy as np

from synthmarket.domain import records
from synthmarket.domain.calendar import MS_PER_DAY, MS_PER_MINUTE, TradingDay, exchange_date, is_trading_date, trading_day
from synthmarket.domain.control_timeline import Control, control_at
from synthmarket.domain.session import UnderlyingState
from synthmarket.domain.universe import DEFAULT_SYMBOLS, resolve_symbols, symbol_spec
from synthmarket.engine import regime_engine
from synthmarket.engine.nbbo import CENTS, MinuteState, block_quotes

CHUNK_MINUTES = 15
# A day of the 20-name universe is 520 chunks; each holds its quotes as machine integers.
_CHUNK_LIMIT = 1024
_STATE_LIMIT = 4096
_Chunk = tuple[array, array, array, int, int]
_SHORT_READ = 24
_chunks: dict[tuple, _Chunk] = {}
_states: dict[tuple, MinuteState] = {}


@lru_cache(maxsize=64)
def _trading_day_of_utc_day(utc_day: int) -> TradingDay | None:
    # A New York regular session never crosses UTC midnight; 17:00 UTC is inside its exchange date.
    date = exchange_date(utc_day * MS_PER_DAY + 17 * 3_600_000)
    return trading_day(date) if is_trading_date(date) else None


@lru_cache(maxsize=32)
def _universe(symbols: tuple[str, ...] | None) -> tuple[str, ...]:
    return DEFAULT_SYMBOLS if symbols is None else resolve_symbols(symbols)


def _state(control: Control, universe: tuple[str, ...], ts: int) -> MinuteState:
    key = (control, universe, ts)
    hit = _states.get(key)
    if hit is None:
        if len(_states) >= _STATE_LIMIT:
            _states.clear()
        hit = _states[key] = MinuteState.from_session(regime_engine.get_session_state(ts, control, universe))
    return hit


def _chunk(symbol: str, day: TradingDay, chunk: int, control: Control, universe: tuple[str, ...]) -> _Chunk:
    m0 = chunk * CHUNK_MINUTES
    minutes = range(m0, min(m0 + CHUNK_MINUTES, day.minutes))
    start = [day.open_ms + m * MS_PER_MINUTE for m in minutes]
    after = day.open_ms + minutes[-1] * MS_PER_MINUTE + MS_PER_MINUTE
    q = block_quotes(
        regime_engine, control, control_at(control, day.open_ms).shared_seed, universe, day, symbol_spec(symbol),
        minutes, [_state(control, universe, t) for t in start],
        _state(control, universe, start[0] - MS_PER_MINUTE) if m0 > 0 else None,
        _state(control, universe, after) if minutes[-1] + 1 < day.minutes else None,
    )
    return (array("q", q.ts.astype(np.int64).tobytes()), array("q", q.bid_c.astype(np.int64).tobytes()),
            array("q", q.ask_c.astype(np.int64).tobytes()), q.carry_bid_c, q.carry_ask_c)


_tokens: dict[tuple, int] = {}
_token_numbers = itertools.count()     # never reused, so a forgotten market's chunks cannot be read
# The last (control, symbols) asked about, their (control, universe) and its token; and the last
# day. One session asks with the same objects every time, so most calls hash nothing (a control's
# hash is not cached). Each is replaced whole, so a concurrent caller reads a consistent one.
_last_market: tuple[Any, Any, tuple, int] = (None, None, (), -1)
_last_day: TradingDay | None = None


def _market(control: Control, symbols: Iterable[str] | None) -> tuple[tuple, int]:
    global _last_market
    universe = _universe(symbols if symbols is None or type(symbols) is tuple else tuple(symbols))
    market = (control, universe)
    token = _tokens.get(market)
    if token is None:
        if len(_tokens) >= _STATE_LIMIT:
            _tokens.clear()
        token = _tokens[market] = next(_token_numbers)
    _last_market = (control, symbols, market, token)
    return market, token


def _chunk_at(symbol: str, ts: int, control: Control, symbols: Iterable[str] | None) -> _Chunk:
    """The quote chunk holding ``ts`` (which must lie in a regular session)."""
    global _last_day
    day = _last_day
    if day is None or not day.open_ms <= ts <= day.close_ms:
        day = _trading_day_of_utc_day(ts // MS_PER_DAY)
        if day is None or not day.open_ms <= ts <= day.close_ms:
            when = dt.datetime.fromtimestamp(ts / 1000, dt.UTC)
            raise regime_engine.OutsideSessionError(f"ts={ts} ({when:%Y-%m-%d %H:%M:%S} UTC) is outside a regular session")
        _last_day = day
    last = _last_market
    market, token = (last[2], last[3]) if control is last[0] and symbols is last[1] else _market(control, symbols)
    chunk = min((ts - day.open_ms) // MS_PER_MINUTE, day.minutes - 1) // CHUNK_MINUTES
    key = (symbol, day.ordinal, chunk, token)
    hit = _chunks.get(key)
    if hit is None:
        if len(_chunks) >= _CHUNK_LIMIT:
            _chunks.clear()
        hit = _chunks[key] = _chunk(symbol, day, chunk, *market)
    return hit


def quote_at(symbol: str, ts: int, control: Control, symbols: Iterable[str] | None = None) -> tuple[float, float]:
    """(bid, ask) in force at ``ts`` for ``symbol``, as published by the equities service. ``symbols``
    is the session universe (default the universe's names); ``ts`` lies in a regular session (close included)."""
    ts = int(ts)
    return _in_force(_chunk_at(symbol, ts, control, symbols), ts)


def _in_force(chunk: _Chunk, ts: int) -> tuple[float, float]:
    """(bid, ask) of ``chunk`` in force at ``ts`` (the carried quote before its first)."""
    q_ts, bids, asks, carry_bid, carry_ask = chunk
    i = bisect.bisect_right(q_ts, ts) - 1
    return (carry_bid / CENTS, carry_ask / CENTS) if i < 0 else (bids[i] / CENTS, asks[i] / CENTS)


def mids_at(symbol: str, times: Sequence[int], control: Control, symbols: Iterable[str] | None = None) -> list[float]:
    """``quote_at``'s mid (the same floats) at each of ``times`` (ascending, one session), in one array pass."""
    first = _chunk_at(symbol, int(times[0]), control, symbols) if times else None
    if first is None:
        return []
    if _chunk_at(symbol, int(times[-1]), control, symbols) is not first or not len(first[0]):
        return [sum(quote_at(symbol, t, control, symbols)) / 2.0 for t in times]
    if len(times) <= _SHORT_READ:
        # A few instants (an ordinary name-minute reads about six): bisect beats a dozen numpy calls,
        # and int / CENTS is the same division numpy does.
        return [sum(_in_force(first, t)) / 2.0 for t in times]
    q_ts, bids, asks, carry_bid, carry_ask = first
    i = np.searchsorted(np.frombuffer(q_ts, dtype=np.int64), np.asarray(times, dtype=np.int64), side="right") - 1
    bid = np.where(i < 0, carry_bid, np.frombuffer(bids, dtype=np.int64)[i]) / CENTS
    ask = np.where(i < 0, carry_ask, np.frombuffer(asks, dtype=np.int64)[i]) / CENTS
    return ((bid + ask) / 2.0).tolist()


def at_equity_nbbo(ul: UnderlyingState, control: Control, symbols: Iterable[str] | None = None) -> UnderlyingState:
    """``ul`` with its price, bid and ask taken from the equity NBBO in force at its ts (price: the mid).

    For the option side: a print priced off this spot reports an ``underlying_price`` inside the
    quote equities_svc publishes at that instant. ``symbols`` as for ``quote_at``.
    """
    bid, ask = quote_at(ul.symbol, ul.ts, control, symbols)
    return records.build(UnderlyingState, {**ul.__dict__, "price": (bid + ask) / 2.0, "bid": bid, "ask": ask})
