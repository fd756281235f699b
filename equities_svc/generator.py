"""EquitiesGenerator: the equity tape (trades and NBBO quotes) for a symbol set, step by step."""

from __future__ import annotations

import bisect
import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import repeat
from operator import itemgetter

import numpy as np

from equities_svc import trades, venues
from equities_svc.batch import BlockContext, Engine, MinuteState, SymbolBlock, build_symbol_block
from synthmarket import engine as regime_engine
from synthmarket import tape_lines
from synthmarket.domain.calendar import MS_PER_MINUTE, SESSION_MINUTES, TradingDay, exchange_date, is_trading_date, trading_day
from synthmarket.domain.control_timeline import Control, control_at
from synthmarket.domain.marketdata import EquityQuote, EquityTrade
from synthmarket.domain.universe import SymbolSpec, resolve_symbols, symbol_spec
from synthmarket.engine.nbbo import CENTS

# Minutes built together against the engine's vectorised path. Randomness is keyed per minute,
# so the block length changes speed, memory and the latency of a control change, never output:
# the live service keeps blocks short, a whole-session replay builds long ones.
BLOCK_MINUTES = 5
_KIND_QUOTE, _KIND_TRADE = 0, 1
_VENUES = np.array(venues.VENUES, dtype=object)

Record = EquityTrade | EquityQuote
# A record's fields as a plain tuple, in the record class's field order: a quote row has 6
# fields (ts, symbol, bid, ask, bid_size, ask_size), a trade row 8 (id, ts, symbol, price,
# size, venue, off_exchange, condition). Tuples cost a fraction of a frozen dataclass to build, and a
# caller that only formats the tape (the offline simulator) never needs the objects.
Row = tuple
QUOTE_ROW_LEN = 6


def row_record(row: Row) -> Record:
    """The record a row stands for."""
    return EquityQuote(*row) if len(row) == QUOTE_ROW_LEN else EquityTrade(*row)


@dataclass(frozen=True)
class _Block:
    end_ms: int
    ts: list[int]           # ts of each record, ascending
    rows: list[Row]         # each record's row; with lines: its trades' alone
    lines: list[str] | None   # each record's JSON line (see ``with_lines``)
    trades_at: list[int] | None = None    # with lines: each trade row's place among the records


class EquitiesGenerator:
    """Deterministic equity tape: ``step(t0, t1)`` returns every trade and quote with ts in [t0, t1).

    The same control, symbols and interval give the same records however the interval is cut
    into steps. Outside regular sessions there are no records. ``engine`` defaults to
    ``synthmarket.engine.regime_engine``; the session universe for focus and event draws is ``symbols``, as
    for the options generator.
    """

    def __init__(
        self,
        control: Control,
        symbols: Iterable[str],
        *,
        start_ts: int,
        engine: Engine | None = None,
        block_minutes: int = BLOCK_MINUTES,
        with_lines: bool = False,
    ) -> None:
        self._control = control
        self._symbols: tuple[str, ...] = resolve_symbols(symbols)
        if not self._symbols:
            raise ValueError("symbols must name at least one symbol")
        self._specs: tuple[SymbolSpec, ...] = tuple(symbol_spec(s) for s in self._symbols)
        self._engine: Engine = engine if engine is not None else regime_engine
        if block_minutes < 1:
            raise ValueError("block_minutes must be at least 1")
        self._block_minutes = int(block_minutes)
        # Format every record as a JSON line while its block is still in columns, for callers that
        # write the tape out (the offline simulator): far cheaper than formatting the records
        # afterwards. Such a generator keeps the rows of its trades alone (``step_tape``).
        self._with_lines = with_lines
        if with_lines:
            for text in (*venues.VENUES, *trades.CONDITIONS):  # written verbatim; symbols are checked per batch
                tape_lines.plain(text)
        self._block_ms = self._block_minutes * MS_PER_MINUTE
        self._cursor = int(start_ts)
        self._states: dict[int, MinuteState] = {}
        self._blocks: dict[tuple[int, int], _Block] = {}
        self._days: dict[dt.date, TradingDay | None] = {}
        # [start, end) of the block the last step fell in, with its key: steps are usually far
        # shorter than a block, so most of them need no calendar arithmetic at all.
        self._span: tuple[int, int, list[tuple[TradingDay, int]]] | None = None

    @property
    def symbols(self) -> tuple[str, ...]:
        return self._symbols

    @property
    def control(self) -> Control:
        return self._control

    @property
    def cursor(self) -> int:
        """End of the last step (``start_ts`` before the first)."""
        return self._cursor

    def set_control(self, control: Control) -> None:
        """Switch control (or a timeline of them); everything not yet emitted is rebuilt under it."""
        if control == self._control:
            return
        self._control = control
        self._states.clear()
        self._blocks.clear()

    def step(self, t0_ms: int, t1_ms: int) -> list[Record]:
        """Records with ts in [t0_ms, t1_ms), ts-ordered (quotes before trades in the same ms)."""
        if self._with_lines:
            raise ValueError("a generator built with_lines=True keeps lines and trades: use step_tape")
        return list(map(row_record, self._step(t0_ms, t1_ms)[0]))

    def step_tape(self, t0_ms: int, t1_ms: int) -> tuple[list[Row], list[str]]:
        """The trade rows (see ``Row``) of the records with ts in [t0_ms, t1_ms) and the JSON line of
        every record, quotes and trades, in order (needs ``with_lines=True``).

        A line is exactly ``json.dumps(record.to_dict(), separators=(",", ":")) + "\\n"``.
        """
        if not self._with_lines:
            raise ValueError("step_tape needs an EquitiesGenerator built with with_lines=True")
        return self._step(t0_ms, t1_ms)

    def _step(self, t0_ms: int, t1_ms: int) -> tuple[list[Row], list[str]]:
        t0_ms, t1_ms = int(t0_ms), int(t1_ms)
        rows: list[Row] = []
        lines: list[str] = []
        if t1_ms > t0_ms:
            for day, block in self._blocks_between(t0_ms, t1_ms):
                key = (day.ordinal, block)
                blk = self._blocks.get(key)
                if blk is None:
                    blk = self._blocks[key] = self._build_block(day, block)
                a = bisect.bisect_left(blk.ts, t0_ms)
                b = bisect.bisect_left(blk.ts, t1_ms)
                ra, rb = (a, b) if blk.trades_at is None else \
                    (bisect.bisect_left(blk.trades_at, a), bisect.bisect_left(blk.trades_at, b))
                # A step usually falls in one block: its slices are the answer, copied once.
                if rows:
                    rows += blk.rows[ra:rb]
                else:
                    rows = blk.rows[ra:rb]
                if blk.lines is not None:
                    if lines:
                        lines += blk.lines[a:b]
                    else:
                        lines = blk.lines[a:b]
            for key in [k for k, blk in self._blocks.items() if blk.end_ms <= t1_ms]:
                del self._blocks[key]
            self._trim_states(t1_ms)
        self._cursor = max(self._cursor, t1_ms)
        return rows, lines

    # -- building ---------------------------------------------------------------------------

    def _state(self, ts: int) -> MinuteState:
        st = self._states.get(ts)
        if st is None:
            ss = self._engine.get_session_state(ts, self._control, symbols=self._symbols)
            st = self._states[ts] = MinuteState.from_session(ss)
        return st

    def _trim_states(self, t1: int) -> None:
        if len(self._states) > 2 * SESSION_MINUTES:
            keep_from = t1 - 2 * self._block_ms
            for ts in [ts for ts in self._states if ts < keep_from]:
                del self._states[ts]

    def _build_block(self, day: TradingDay, block: int) -> _Block:
        m0 = block * self._block_minutes
        minutes = list(range(m0, min(m0 + self._block_minutes, day.minutes)))   # the day's own close
        starts = [day.open_ms + m * MS_PER_MINUTE for m in minutes]
        ctx = BlockContext(
            engine=self._engine,
            control=self._control,
            # A seed change inside a day moves the prices (the engine's new market) at once; the
            # draws keep the day's keys, so where the blocks fall never changes the tape.
            seed=control_at(self._control, day.open_ms).shared_seed,
            universe=self._symbols,
            day=day,
            minutes=minutes,
            starts=starts,
            states=[self._state(ts) for ts in starts],
            prev_state=self._state(starts[0] - MS_PER_MINUTE) if m0 > 0 else None,
            next_state=self._state(starts[-1] + MS_PER_MINUTE) if minutes[-1] + 1 < day.minutes else None,
        )
        parts = [build_symbol_block(ctx, spec) for spec in self._specs]
        return self._merge(starts[-1] + MS_PER_MINUTE, parts)

    def _merge(self, end_ms: int, parts: list[SymbolBlock]) -> _Block:
        """Turn per-symbol arrays into record rows, or lines and trade rows, merged in ts order."""
        rows: list[Row] = []
        lines: list[str] | None = [] if self._with_lines else None
        ts_parts, sym_parts, kind_parts = [], [], []
        for sym_i, (sym, blk) in enumerate(zip(self._symbols, parts)):
            n_q = blk.q_ts.size
            q_ts = blk.q_ts.tolist()
            bid, ask = blk.q_bid_c / CENTS, blk.q_ask_c / CENTS
            bid_size, ask_size = blk.q_bid_size.tolist(), blk.q_ask_size.tolist()
            if not self._with_lines:
                rows.extend(zip(q_ts, repeat(sym, n_q), bid.tolist(), ask.tolist(), bid_size, ask_size))
            t_ts = blk.t_ts.tolist()
            n_t = len(t_ts)
            ids = [f"e-{sym}-{t}-{n}" for t, n in zip(t_ts, blk.t_seq.tolist())]
            price = blk.t_micros / trades.MICROS_PER_DOLLAR
            size = blk.t_size.tolist()
            venue = _VENUES[blk.t_venue].tolist()
            off = blk.t_venue == venues.OFF_EXCHANGE_INDEX
            cond = trades.CONDITIONS[blk.t_cond].tolist()
            rows.extend(zip(ids, t_ts, repeat(sym, n_t), price.tolist(), size, venue, off.tolist(), cond))
            if lines is not None:
                lines += tape_lines.quote_lines(sym, q_ts, bid, ask, bid_size, ask_size)
                lines += tape_lines.trade_lines(sym, ids, t_ts, price, size, venue, off, cond)
            ts_parts += [blk.q_ts, blk.t_ts]
            sym_parts.append(np.full(n_q + n_t, sym_i))
            kind_parts += [np.full(n_q, _KIND_QUOTE), np.full(n_t, _KIND_TRADE)]
        if not ts_parts or not sum(part.size for part in ts_parts):
            return _Block(end_ms, [], [], [] if lines is not None else None, [] if self._with_lines else None)
        ts = np.concatenate(ts_parts)
        kind = np.concatenate(kind_parts)
        # ts first; within one ms, symbols in configured order and a quote before the trades it
        # priced. lexsort is stable, so each symbol's quotes and trades keep their own order.
        order = np.lexsort((kind, np.concatenate(sym_parts), ts))
        trades_at = None
        if self._with_lines:
            # Rows hold the trades alone: each record's trade number, taken at the trades' places.
            trades_at = np.flatnonzero(kind[order] == _KIND_TRADE)
            rows = [rows[i] for i in (np.cumsum(kind == _KIND_TRADE) - 1)[order[trades_at]].tolist()]
        else:
            rows = _pick(rows, order)
        return _Block(end_ms, ts[order].tolist(), rows, _pick(lines, order) if lines is not None else None,
                      trades_at.tolist() if trades_at is not None else None)

    def _trading_day(self, date: dt.date) -> TradingDay | None:
        if date not in self._days:
            self._days[date] = trading_day(date) if is_trading_date(date) else None
        return self._days[date]

    def _blocks_between(self, t0: int, t1: int) -> list[tuple[TradingDay, int]]:
        """(trading day, block index) for every session block that overlaps [t0, t1)."""
        span = self._span
        if span is not None and span[0] <= t0 and t1 <= span[1]:
            return span[2]
        out: list[tuple[TradingDay, int]] = []
        date, last = exchange_date(t0), exchange_date(t1 - 1)
        while date <= last:
            day = self._trading_day(date)
            if day is not None:
                lo, hi = max(t0, day.open_ms), min(t1, day.close_ms)
                if hi > lo:
                    b0 = (lo - day.open_ms) // self._block_ms
                    b1 = (hi - 1 - day.open_ms) // self._block_ms
                    out.extend((day, b) for b in range(int(b0), int(b1) + 1))
            date += dt.timedelta(days=1)
        if len(out) == 1:
            day, block = out[0]
            start = day.open_ms + block * self._block_ms
            self._span = (start, min(start + self._block_ms, day.close_ms), out)
        return out


def _pick(items: list, order: np.ndarray) -> list:
    """``items`` in ``order``, one C-level pass (itemgetter of one index returns the item, not a tuple)."""
    return list(itemgetter(*order.tolist())(items)) if len(items) > 1 else items
