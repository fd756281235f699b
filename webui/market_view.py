"""What the browser sees of the raw market feed: sampled option prints, per-symbol boards, session context.

Pure logic: no clock, no I/O. Callers pass every print, trade and quote in and take compact,
JSON-ready dicts out at their own cadence, so the browser receives a bounded, rate-limited feed
however loud the tape is.
"""

from __future__ import annotations

import heapq
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from synthmarket.domain.marketdata import EquityQuote, EquityTrade, OptionPrint

CONTRACT_MULTIPLIER = 100
# A print within this fraction of the spread from a side counts as traded at that side.
SIDE_TOLERANCE = 0.1


def print_side(price: float, bid: float | None, ask: float | None) -> str:
    """"A" at or above the ask, "B" at or below the bid, "M" in between, "" without a quote."""
    if bid is None or ask is None or ask <= 0 or ask < bid:
        return ""
    slack = (ask - bid) * SIDE_TOLERANCE
    if price >= ask - slack:
        return "A"
    if price <= bid + slack:
        return "B"
    return "M"


def print_row(p: OptionPrint) -> dict[str, Any]:
    """The public fields of one option print, plus premium and side, as the tape shows them."""
    return {
        "id": p.id,
        "ts": p.ts,
        "underlying": p.underlying,
        "contract": p.contract,
        "expiry": p.expiry,
        "strike": p.strike,
        "right": p.right,
        "price": round(p.price, 4),
        "size": p.size,
        "premium": round(p.price * p.size * CONTRACT_MULTIPLIER, 2),
        "exchange": p.exchange,
        "side": print_side(p.price, p.bid, p.ask),
        "iv": round(p.iv, 4),
        "condition": p.condition,
        "multi_leg": p.multi_leg_id is not None,
    }


class PrintSampler:
    """Keeps the largest prints offered since the last drain, at most ``max_per_drain`` of them.

    The browser cannot render thousands of prints a second and an operator looks at size, so a
    drain hands out the biggest premiums of the interval (in time order) and counts the rest.
    """

    def __init__(self, max_per_drain: int, max_pending: int = 2000) -> None:
        if max_per_drain < 1:
            raise ValueError("max_per_drain must be at least 1")
        self.max_per_drain = max_per_drain
        self.max_pending = max(max_pending, max_per_drain)
        self._pending: list[tuple[float, int, OptionPrint]] = []  # min-heap on premium
        self._counter = 0
        self.dropped = 0

    def offer(self, p: OptionPrint) -> None:
        self._counter += 1
        item = (p.price * p.size, self._counter, p)
        if len(self._pending) < self.max_pending:
            heapq.heappush(self._pending, item)
        else:
            # Full: keep the larger of the new print and the smallest pending one.
            heapq.heappushpop(self._pending, item)
            self.dropped += 1

    def drain(self) -> list[dict[str, Any]]:
        kept = heapq.nlargest(self.max_per_drain, self._pending)
        self.dropped += len(self._pending) - len(kept)
        self._pending = []
        kept.sort(key=lambda item: (item[2].ts, item[1]))
        return [print_row(item[2]) for item in kept]


@dataclass
class _Board:
    symbol: str
    last: float | None = None
    last_size: int = 0
    last_ts: int = -1
    first: float | None = None
    bid: float | None = None
    ask: float | None = None
    bid_size: int = 0
    ask_size: int = 0
    quote_ts: int = -1
    ts: int = 0
    trades: int = 0
    spark: deque = field(default_factory=deque)  # (bucket, ts, price), buckets ascending

    def mid(self) -> float | None:
        if self.bid is not None and self.ask is not None and self.ask >= self.bid > 0:
            return (self.bid + self.ask) / 2
        return None

    def mark(self) -> float | None:
        return self.last if self.last is not None else self.mid()


class SymbolBoard:
    """Last trade, top of book and a bucketed price series per symbol, in event time.

    Trades and quotes arrive on separate subjects and so are not interleaved in time order;
    every update is therefore placed by its own timestamp, never by arrival order. The series
    follows trade prices; a symbol with no trade yet follows its quote mid.
    """

    def __init__(self, spark_points: int = 90, spark_step_ms: int = 2000) -> None:
        self.spark_points = spark_points
        self.spark_step_ms = spark_step_ms
        self._boards: dict[str, _Board] = {}
        self._changed: set[str] = set()

    def _board(self, symbol: str) -> _Board:
        board = self._boards.get(symbol)
        if board is None:
            board = self._boards[symbol] = _Board(symbol)
        return board

    def _sample(self, board: _Board, ts: int, price: float) -> None:
        """Put ``price`` in its time bucket; within a bucket the latest timestamp wins."""
        bucket = ts // self.spark_step_ms
        spark = board.spark
        if not spark or spark[-1][0] < bucket:
            spark.append((bucket, ts, price))
            if len(spark) > self.spark_points:
                spark.popleft()
            return
        # A late update: find its bucket from the newest end (late ones are nearly always recent).
        for i in range(len(spark) - 1, -1, -1):
            kept_bucket, kept_ts, _ = spark[i]
            if kept_bucket == bucket:
                if ts >= kept_ts:
                    spark[i] = (bucket, ts, price)
                return
            if kept_bucket < bucket:
                spark.insert(i + 1, (bucket, ts, price))
                if len(spark) > self.spark_points:
                    spark.popleft()
                return
        if len(spark) < self.spark_points:
            spark.appendleft((bucket, ts, price))  # older than everything kept, but there is room

    def on_trade(self, t: EquityTrade) -> None:
        board = self._board(t.symbol)
        board.trades += 1
        if board.first is None:
            board.first = t.price
        if t.ts >= board.last_ts:
            if board.last is None and board.spark:
                board.spark.clear()  # the quote-mid series gives way to the trade series
            board.last, board.last_size, board.last_ts = t.price, t.size, t.ts
        board.ts = max(board.ts, t.ts)
        self._sample(board, t.ts, t.price)
        self._changed.add(t.symbol)

    def on_quote(self, q: EquityQuote) -> None:
        board = self._board(q.symbol)
        if q.ts >= board.quote_ts:
            board.bid, board.ask, board.bid_size, board.ask_size = q.bid, q.ask, q.bid_size, q.ask_size
            board.quote_ts = q.ts
        board.ts = max(board.ts, q.ts)
        if board.first is None:
            board.first = board.mid()
        if board.last is None:
            mid = (q.bid + q.ask) / 2 if q.ask >= q.bid > 0 else None
            if mid is not None:
                self._sample(board, q.ts, mid)
        self._changed.add(q.symbol)

    def row(self, symbol: str) -> dict[str, Any]:
        b = self._boards[symbol]
        mark = b.mark()
        change = None if mark is None or not b.first else round((mark / b.first - 1.0) * 100.0, 3)
        return {
            "symbol": symbol,
            "last": b.last,
            "last_size": b.last_size,
            "bid": b.bid,
            "ask": b.ask,
            "bid_size": b.bid_size,
            "ask_size": b.ask_size,
            "change_pct": change,
            "ts": b.ts,
            "spark": [round(price, 4) for _, _, price in b.spark],
        }

    def take_changes(self) -> list[dict[str, Any]]:
        """Rows for every symbol that moved since the last call, in symbol order."""
        changed, self._changed = sorted(self._changed), set()
        return [self.row(s) for s in changed]

    def snapshot(self) -> list[dict[str, Any]]:
        return [self.row(s) for s in sorted(self._boards)]


@dataclass(frozen=True)
class SessionView:
    """Session context for the header: phase and focus for everyone, the regime for operators only."""

    session_phase: str = ""
    regime: str = ""
    focus_symbols: tuple[str, ...] = ()
    last_publish_ts: int = 0

    def to_dict(self, include_regime: bool) -> dict[str, Any]:
        out: dict[str, Any] = {
            "session_phase": self.session_phase,
            "focus_symbols": list(self.focus_symbols),
        }
        if include_regime:
            out["regime"] = self.regime
        return out


def session_view(reports: Iterable[Mapping[str, Any]]) -> SessionView:
    """The freshest ingest service report wins: each carries the phase, regime and focus it runs with."""
    best: SessionView | None = None
    for r in reports:
        view = SessionView(
            session_phase=str(r.get("session_phase") or ""),
            regime=str(r.get("regime") or ""),
            focus_symbols=tuple(r.get("focus_symbols") or ()),
            last_publish_ts=int(r.get("last_publish_ts") or 0),
        )
        if not view.session_phase:
            continue
        if best is None or view.last_publish_ts > best.last_publish_ts:
            best = view
    return best or SessionView()
