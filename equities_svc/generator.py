"""EquitiesGenerator: the equity tape (trades and NBBO quotes) for a symbol set, step by step."""

from __future__ import annotations

import bisect
import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from operator import itemgetter
from typing import NamedTuple

import numpy as np

from equities_svc import trades, venues
from equities_svc.batch import BlockContext, Engine, MinuteState, SymbolBlock, build_symbol_blocks
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
_VENUE_BYTES = tape_lines.texts(venues.VENUES)
_CONDITION_BYTES = tape_lines.texts(trades.CONDITIONS.tolist())

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


class Tape(NamedTuple):
    """A step of the tape as ``step_tape`` hands it over."""

    trades: list[Row]   # the trade rows, in order
    text: str           # every record's JSON line (quotes and trades), in order, end to end
    n_records: int      # how many lines ``text`` holds


@dataclass(frozen=True)
class _Block:
    end_ms: int
    ts: list[int]           # ts of each record, ascending
    rows: list[Row]         # each record's row; with lines: its trades' alone
    text: str = ""          # with lines: every record's JSON line, end to end
    starts: list[int] | None = None       # with lines: where each line starts in text, then its length
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
        self._symbol_names = np.array(self._symbols, dtype=object)
        # Checked here: only a plain symbol can be written into a line verbatim.
        self._symbol_bytes = tape_lines.texts(self._symbols if with_lines else ())
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

    def step_tape(self, t0_ms: int, t1_ms: int) -> Tape:
        """The trade rows (see ``Row``) of the records with ts in [t0_ms, t1_ms) and the JSON lines of
        every record, quotes and trades, in order (needs ``with_lines=True``).

        A line is exactly ``json.dumps(record.to_dict(), separators=(",", ":")) + "\\n"``.
        """
        if not self._with_lines:
            raise ValueError("step_tape needs an EquitiesGenerator built with with_lines=True")
        rows, texts, count = self._step(t0_ms, t1_ms)
        return Tape(rows, texts[0] if len(texts) == 1 else "".join(texts), count)

    def _step(self, t0_ms: int, t1_ms: int) -> tuple[list[Row], list[str], int]:
        t0_ms, t1_ms = int(t0_ms), int(t1_ms)
        rows: list[Row] = []
        texts: list[str] = []
        count = 0
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
                if blk.starts is not None:
                    texts.append(blk.text[blk.starts[a]:blk.starts[b]])
                    count += b - a
            for key in [k for k, blk in self._blocks.items() if blk.end_ms <= t1_ms]:
                del self._blocks[key]
            self._trim_states(t1_ms)
        self._cursor = max(self._cursor, t1_ms)
        return rows, texts, count

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
        return self._merge(starts[-1] + MS_PER_MINUTE, build_symbol_blocks(ctx, self._specs))

    def _merge(self, end_ms: int, parts: list[SymbolBlock]) -> _Block:
        """Turn per-symbol arrays into record rows, or lines and trade rows, merged in ts order."""
        q, t = _columns(parts, _quote_fields), _columns(parts, _trade_fields)
        n_q = q["ts"].size
        if not n_q + t["ts"].size:
            return _Block(end_ms, [], [], starts=[0] if self._with_lines else None,
                          trades_at=[] if self._with_lines else None)
        ts = np.concatenate([q["ts"], t["ts"]])
        kind = np.repeat(np.array([_KIND_QUOTE, _KIND_TRADE]), [n_q, t["ts"].size])
        # ts first; within one ms, symbols in configured order and a quote before the trades it
        # priced. lexsort is stable, so each symbol's quotes and trades keep their own order.
        order = np.lexsort((kind, np.concatenate([q["sym"], t["sym"]]), ts))
        if not self._with_lines:
            bid, ask = q["bid_c"] / CENTS, q["ask_c"] / CENTS
            rows = list(zip(q["ts"].tolist(), self._symbol_names[q["sym"]].tolist(), bid.tolist(), ask.tolist(),
                            q["bid_size"].tolist(), q["ask_size"].tolist()))
            rows += self._trade_rows(t, np.arange(t["ts"].size))
            return _Block(end_ms, ts[order].tolist(), _pick(rows, order))
        # Rows hold the trades alone, in tape order: each trade's place among the records.
        trades_at = np.flatnonzero(kind[order] == _KIND_TRADE)
        text, starts = tape_lines.join([self._quote_lines(q), self._trade_lines(t)], order)
        return _Block(end_ms, ts[order].tolist(), self._trade_rows(t, order[trades_at] - n_q), text, starts,
                      trades_at.tolist())

    def _trade_rows(self, t: _Cols, take: np.ndarray) -> list[Row]:
        """Trade rows of the trades at ``take``, in that order."""
        ts, seq = t["ts"][take].tolist(), t["seq"][take].tolist()
        syms = self._symbol_names[t["sym"][take]].tolist()
        venue = t["venue"][take]
        return list(zip(map("e-%s-%d-%d".__mod__, zip(syms, ts, seq)), ts, syms,
                        (t["micros"][take] / trades.MICROS_PER_DOLLAR).tolist(), t["size"][take].tolist(),
                        _VENUES[venue].tolist(), (venue == venues.OFF_EXCHANGE_INDEX).tolist(),
                        trades.CONDITIONS[t["cond"][take]].tolist()))

    def _quote_lines(self, q: _Cols) -> tape_lines.Lines:
        return tape_lines.quote_lines(q["ts"], self._symbol_bytes[q["sym"]], q["bid_c"], q["ask_c"],
                                      q["bid_size"], q["ask_size"])

    def _trade_lines(self, t: _Cols) -> tape_lines.Lines:
        n, sym, venue = t["ts"].size, self._symbol_bytes[t["sym"]], t["venue"]
        ts = tape_lines.digits(t["ts"])
        ids = tape_lines.concat((n, ["e-", sym, "-", ts, "-", tape_lines.digits(t["seq"])]))
        return tape_lines.trade_lines(ids, ts, sym, t["micros"] / trades.MICROS_PER_DOLLAR, t["size"],
                                      _VENUE_BYTES[venue], venue == venues.OFF_EXCHANGE_INDEX,
                                      _CONDITION_BYTES[t["cond"]])

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


_Cols = dict[str, np.ndarray]


def _columns(parts: list[SymbolBlock], fields: Callable[[SymbolBlock], _Cols]) -> _Cols:
    """Some fields of every symbol's block end to end, and each entry's symbol index ("sym")."""
    each = [fields(p) for p in parts]
    cols = {name: np.concatenate([f[name] for f in each]) for name in each[0]}
    cols["sym"] = np.repeat(np.arange(len(parts)), [f["ts"].size for f in each])
    return cols


def _quote_fields(p: SymbolBlock) -> _Cols:
    return {"ts": p.q_ts, "bid_c": p.q_bid_c, "ask_c": p.q_ask_c, "bid_size": p.q_bid_size, "ask_size": p.q_ask_size}


def _trade_fields(p: SymbolBlock) -> _Cols:
    return {"ts": p.t_ts, "micros": p.t_micros, "size": p.t_size, "venue": p.t_venue, "cond": p.t_cond, "seq": p.t_seq}


def _pick(items: list, order: np.ndarray) -> list:
    """``items`` in ``order``, one C-level pass (itemgetter of one index returns the item, not a tuple)."""
    return list(itemgetter(*order.tolist())(items)) if len(items) > 1 else items
