"""The equity NBBO as a pure function of time: update times, tick-bound widths and a book-like walk.

``block_quotes`` builds the quotes of a block of minutes, the way the equities service builds its
tape (``nbbo_at.quote_at`` reads the one in force at an instant). It reads only the engine's path
and session state:

- anchors: each session minute draws its NBBO update times (Poisson, keyed by the minute, at
  least one per minute) and quotes the engine's mid at each of them on the penny grid. The width
  is tick-bound: queue priority at the touch absorbs ``TICK_BIND`` ticks of the engine's spread
  and deep books (index ETFs) quote tighter still, so SPY and QQQ sit one cent wide nearly all
  day while high-priced and thin names quote many ticks;
- the walk: between two anchors the quote steps towards the next one, each step moving either
  side by at most the narrower of the two widths, so a quote never leaps through the one before
  it (the new bid is at most the old ask and the new ask at least the old bid). A gap too large to
  walk in ``WALK_MAX_STEPS`` steps (a news gap) jumps at the anchor.

A quote at ``ts`` depends on the anchors of its minute and the ones either side, so any instant
costs a bounded amount of work and a block of minutes gives the same quotes however it is cut.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from synthmarket.domain import rng
from synthmarket.domain.calendar import MS_PER_MINUTE, SESSION_MINUTES, TradingDay
from synthmarket.domain.control_timeline import Control
from synthmarket.domain.regimes import Regime
from synthmarket.domain.universe import SymbolSpec

CENTS = 100.0
# Mean NBBO anchors per second for a name of average liquidity at midday.
BASE_QUOTE_RATE = 0.75
MAX_QUOTES_PER_MINUTE = 600
# Stream tags inside a minute's key (the equities service uses the other tags of the same keys).
STREAM_QUOTE_TIMES = 10
STREAM_LONE_QUOTE = 11
# Ticks of the engine's spread that queue priority at the touch absorbs: a name whose spread is
# under ~2.3 ticks quotes one tick.
TICK_BIND = 0.8
# Relative depth at the touch; a deep book quotes tighter (its spread divided by sqrt(depth)).
ETF_QUEUE_DEPTH = 3.0
WALK_MAX_STEPS = 60

# Keyed by the regime's value (what MinuteState holds).
REGIME_QUOTE_MULT: dict[str, float] = {r.value: x for r, x in {
    Regime.TREND_UP: 1.00, Regime.TREND_DOWN: 1.05, Regime.MEAN_REVERT: 1.05, Regime.RETAIL_CHASE: 1.20,
    # Event spikes and dealers hedging around big strikes make the NBBO flicker.
    Regime.EVENT_RAMP: 1.25, Regime.DEALER_GAMMA: 1.70, Regime.ARB_CALM: 0.70,
}.items()}
# Extra quote width on focus / event names in regimes that crowd them.
REGIME_FOCUS_SPREAD: dict[str, float] = {Regime.RETAIL_CHASE.value: 1.15, Regime.EVENT_RAMP.value: 1.20}
PHASE_QUOTE_MULT = {"open": 1.35, "midday": 1.0, "power_hour": 1.15, "after_event": 1.25}
FOCUS_QUOTE_MULT = 1.3


def intraday_curve(minute: np.ndarray | float) -> np.ndarray | float:
    """Relative activity by minute of session: heavy at the open, lighter at midday, up into the close.

    The first 30 minutes average ~1.9x and the last 30 ~2.3x the midday level. The engine's
    volatility already peaks at the open and trade rates follow it (square root), which tips the
    product into the familiar inverse J (Wood, McInish & Ord 1985); the close carries its own
    ramp into the closing auction.
    """
    m = np.asarray(minute, dtype=float)
    return 0.7 + 1.3 * np.exp(-m / 20.0) + 1.8 * np.exp(-(SESSION_MINUTES - 1 - m) / 20.0)


# The curve at each session minute, read once per symbol-minute by the rate functions.
CURVE: tuple[float, ...] = tuple(np.asarray(intraday_curve(np.arange(SESSION_MINUTES))).tolist())


def liquidity_weight(spec: SymbolSpec) -> float:
    """Tighter-spread names trade and quote more often (SPY prints far more than BAC per second)."""
    return min(1.8, max(0.6, (1.0 / spec.typical_spread_bps) ** 0.4))


def queue_depth(spec: SymbolSpec) -> float:
    return ETF_QUEUE_DEPTH if spec.sector == "index_etf" else 1.0


@dataclass(frozen=True)
class MinuteState:
    """The session state fields the tape reads, sampled at the start of a minute."""

    regime: str
    phase: str
    cleanliness: float
    liquidity: float
    focus: frozenset[str]
    events: frozenset[str]

    @classmethod
    def from_session(cls, ss: Any) -> MinuteState:
        return cls(
            regime=str(getattr(ss.regime, "value", ss.regime)),
            phase=str(getattr(ss.session_phase, "value", ss.session_phase)),
            cleanliness=float(ss.quote_cleanliness),
            liquidity=float(ss.liquidity_level),
            focus=frozenset(ss.focus_symbols),
            events=frozenset(ss.event_symbols),
        )


def quote_rate(spec: SymbolSpec, minute: int, st: MinuteState) -> float:
    """Expected NBBO anchors in one minute for one symbol (the session state only, never the path)."""
    rate = BASE_QUOTE_RATE * 60.0 * liquidity_weight(spec) * CURVE[minute] ** 0.5
    rate *= REGIME_QUOTE_MULT[st.regime] * PHASE_QUOTE_MULT.get(st.phase, 1.0)
    if spec.symbol in st.focus:
        rate *= FOCUS_QUOTE_MULT
    # A dirty quote environment updates less often: quotes go stale rather than flicker.
    return rate * (0.55 + 0.45 * min(1.0, max(0.0, st.cleanliness)))


def spread_mult(st: MinuteState, symbol: str) -> float:
    if symbol not in st.focus and symbol not in st.events:
        return 1.0
    return REGIME_FOCUS_SPREAD.get(st.regime, 1.0)


def minute_keys(seed: int, day: TradingDay, symbol: str, minutes: Sequence[int] | np.ndarray) -> np.ndarray:
    """The key of each session minute of ``symbol``: every equity draw of that minute hangs off it."""
    return rng.fold(rng.mix(seed, day.ordinal, "equities", symbol), np.asarray(minutes, dtype=np.int64))


def rank_in_row(rows: np.ndarray) -> np.ndarray:
    """0, 1, 2... for each entry among the entries of its row (``rows`` sorted ascending)."""
    return np.arange(rows.size) - np.searchsorted(rows, rows, side="left")


def poisson_rows(
    keys: np.ndarray, rates: np.ndarray, *, tag: int, horizon_ms: float = MS_PER_MINUTE
) -> tuple[np.ndarray, np.ndarray]:
    """Poisson arrivals on [0, horizon) for each row: (row index, time in ms), sorted by row then time.

    Row ``i`` has intensity ``rates[i]`` per horizon and draws its exponential gaps from the stream
    ``fold(keys[i], tag)``. Each row takes a fixed budget of gaps set by its own rate (mean plus
    ten standard deviations), so a row never depends on the others in the batch.
    """
    rates = np.maximum(np.asarray(rates, dtype=float), 0.0)
    if rates.size == 0:
        return np.empty(0, np.int64), np.empty(0, float)
    budget = np.ceil(rates + 10.0 * np.sqrt(rates) + 10.0).astype(np.int64)
    counters = np.arange(int(budget.max()), dtype=np.int64)
    u = rng.counter_uniforms(rng.fold(keys, tag)[:, None], counters[None, :])
    times = np.cumsum(-np.log(u) * (horizon_ms / np.maximum(rates, 1e-12))[:, None], axis=1)
    valid = (times < horizon_ms) & (counters[None, :] < budget[:, None])
    rows, _ = np.nonzero(valid)
    return rows, times[valid]


def quote_times(keys: np.ndarray, rates: np.ndarray, session_open: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Anchor times for a batch of minutes: (row, ms offset in the minute), sorted by row then time.

    Every minute has at least one anchor, so the quote in force is always defined; at the session
    open the first NBBO is in force from the first millisecond.
    """
    keys = np.asarray(keys, dtype=np.uint64)
    rows, times = poisson_rows(keys, np.minimum(np.asarray(rates, dtype=float), MAX_QUOTES_PER_MINUTE),
                               tag=STREAM_QUOTE_TIMES)
    rank = rank_in_row(rows)
    keep = rank < MAX_QUOTES_PER_MINUTE
    rows, offsets, rank = rows[keep], np.floor(times[keep]).astype(np.int64), rank[keep]
    empty = np.flatnonzero(np.bincount(rows, minlength=keys.size) == 0)     # minutes without an arrival
    if empty.size:
        lone = rng.counter_uniforms(rng.fold(keys[empty], STREAM_LONE_QUOTE), 0)
        rows = np.concatenate([rows, empty])
        offsets = np.concatenate([offsets, np.floor(lone * MS_PER_MINUTE).astype(np.int64)])
        rank = np.concatenate([rank, np.zeros(empty.size, np.int64)])
        order = np.argsort(rows, kind="stable")
        rows, offsets, rank = rows[order], offsets[order], rank[order]
    offsets[(rank == 0) & np.asarray(session_open, dtype=bool)[rows]] = 0
    return rows, offsets


def quoted_cents(mid: np.ndarray, spread_bps: np.ndarray, depth: float | np.ndarray = 1.0
                 ) -> tuple[np.ndarray, np.ndarray]:
    """Bid and ask in integer cents around ``mid``: at least one tick wide, tick-bound near one tick."""
    mid_c = np.asarray(mid, dtype=float) * CENTS
    latent = mid_c * np.asarray(spread_bps, dtype=float) * 1e-4 / np.sqrt(depth)
    width = np.maximum(1, np.rint(latent - TICK_BIND)).astype(np.int64)
    bid = np.maximum(np.rint(mid_c - width / 2.0).astype(np.int64), 1)
    return bid, bid + width


def walk(ts: np.ndarray, bid: np.ndarray, ask: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Anchors (ts ascending, integer cents) with the book-like steps between them: (ts, bid, ask).

    From one anchor to the next the quote moves in n equal steps (floored), n the least that keeps
    every step of either side within the narrower width, spread evenly over the interval and
    ending on the anchor. Widths never fall below the narrower anchor's, so no step crosses or
    locks the book, and none leaps through the quote before it.
    """
    if ts.size < 2:
        return ts, bid, ask
    db, da = np.diff(bid), np.diff(ask)
    width = ask - bid
    limit = np.maximum(1, np.minimum(width[:-1], width[1:]))
    n = -(-np.maximum(np.abs(db), np.abs(da)) // limit)
    n = np.where((n < 1) | (n > WALK_MAX_STEPS), 1, n)
    seg = np.repeat(np.arange(n.size), n)
    k = np.arange(seg.size) - np.repeat(np.cumsum(n) - n, n) + 1
    nn = n[seg]
    out_ts = ts[seg] + (np.diff(ts)[seg] * k) // nn
    out_bid = bid[seg] + (db[seg] * k) // nn
    out_ask = ask[seg] + (da[seg] * k) // nn
    return (np.concatenate([ts[:1], out_ts]), np.concatenate([bid[:1], out_bid]),
            np.concatenate([ask[:1], out_ask]))


@dataclass(frozen=True)
class BlockQuotes:
    """A symbol's NBBO over a block: every quote with ts in the block, and the one in force at its start."""

    ts: np.ndarray
    bid_c: np.ndarray
    ask_c: np.ndarray
    carry_bid_c: int          # in force at the block's start (the first quote's, at the open)
    carry_ask_c: int


def block_quotes(engine: Any, control: Control, seed: int, universe: tuple[str, ...], day: TradingDay,
                 spec: SymbolSpec, minutes: Sequence[int], states: Sequence[MinuteState],
                 prev_state: MinuteState | None, next_state: MinuteState | None) -> BlockQuotes:
    """The quotes of ``minutes`` (consecutive session minutes, ``states`` theirs).

    ``prev_state`` / ``next_state`` are the states of the minutes either side (None at the open and
    at the close): the last anchor before the block and the first after it bound its walks.
    ``engine`` has the regime engine's ``underlying_path``.

    The equities tape and the option side's spot reads (``nbbo_at``) ask for the same blocks when
    one process runs both (``synthmarket simulate``): the latest few are remembered.
    """
    key = (engine.underlying_path, control, universe, seed, day.ordinal, spec, tuple(minutes), tuple(states),
           prev_state, next_state)
    hit = _recent_blocks.get(key)
    if hit is None:
        if len(_recent_blocks) >= _RECENT_BLOCKS:
            del _recent_blocks[next(iter(_recent_blocks))]
        hit = _recent_blocks[key] = _block_quotes(engine, control, seed, universe, day, spec, minutes, states,
                                                  prev_state, next_state)
        for shared in (hit.ts, hit.bid_c, hit.ask_c):
            shared.setflags(write=False)
    return hit


# Both readers walk the session forward together, a block of the universe's names at a time.
_RECENT_BLOCKS = 64
_recent_blocks: dict[tuple, BlockQuotes] = {}


def _block_quotes(engine: Any, control: Control, seed: int, universe: tuple[str, ...], day: TradingDay,
                  spec: SymbolSpec, minutes: Sequence[int], states: Sequence[MinuteState],
                  prev_state: MinuteState | None, next_state: MinuteState | None) -> BlockQuotes:
    m0, m1 = int(minutes[0]), int(minutes[-1]) + 1
    ext = ([m0 - 1] if prev_state is not None else []) + list(range(m0, m1)) + ([m1] if next_state is not None else [])
    ext_states = ([prev_state] if prev_state is not None else []) + list(states) + \
        ([next_state] if next_state is not None else [])
    keys = minute_keys(seed, day, spec.symbol, ext)
    rates = np.array([quote_rate(spec, m, st) for m, st in zip(ext, ext_states)])
    rows, off = quote_times(keys, rates, np.asarray(ext) == 0)
    keep = np.ones(rows.size, dtype=bool)
    index = np.arange(rows.size)
    if prev_state is not None:     # of the minute before, its last anchor
        keep &= (rows > 0) | (index == np.searchsorted(rows, 1) - 1)
    if next_state is not None:     # of the minute after, its first
        keep &= (rows < len(ext) - 1) | (index == np.searchsorted(rows, len(ext) - 1))
    rows, off = rows[keep], off[keep]
    start = day.open_ms + np.asarray(ext, dtype=np.int64) * MS_PER_MINUTE
    ts = start[rows] + off
    path = engine.underlying_path(spec.symbol, ts, control, symbols=universe)
    widen = np.array([spread_mult(st, spec.symbol) for st in ext_states])[rows]
    bid, ask = quoted_cents(np.asarray(path["price"], dtype=float),
                            np.asarray(path["spread_bps"], dtype=float) * widen, queue_depth(spec))
    q_ts, q_bid, q_ask = walk(ts, bid, ask)
    lo, hi = day.open_ms + m0 * MS_PER_MINUTE, day.open_ms + m1 * MS_PER_MINUTE
    a, b = np.searchsorted(q_ts, lo, side="left"), np.searchsorted(q_ts, hi, side="left")
    carry = a - 1 if a > 0 else a
    return BlockQuotes(q_ts[a:b], q_bid[a:b], q_ask[a:b], int(q_bid[carry]), int(q_ask[carry]))
