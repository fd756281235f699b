"""One symbol's quotes and trades over a block of session minutes, as arrays, from the engine's path.

Every random draw is counter-based, keyed by (seed, day, symbol, minute), a stream tag and the
draw's position inside the minute (quote times, quote sizes, trade arrivals, per-trade uniforms).
A minute therefore looks the same whichever block or step it is built in, and a block of any
length costs a few array operations per stream rather than a generator per minute.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from equities_svc import activity, arrivals, quotes, sizes, trades, venues
from synthmarket.domain import rng
from synthmarket.domain.calendar import MS_PER_MINUTE, TradingDay
from synthmarket.domain.control_timeline import Control
from synthmarket.domain.regimes import Regime
from synthmarket.domain.universe import SymbolSpec

# Uniform draws per trade: side, side inheritance, size kind, size choice, tail size, tail
# rounding, off-exchange, venue, then four for the price (kind, inside tick, improvement, exception).
N_TRADE_UNIFORMS = 12
# Stream tags inside a minute's key (see equities_svc.arrivals; quotes.py holds the quote times').
STREAM_QUOTE_SIZES = 20
STREAM_TRADE_UNIFORMS = 21
# Retail-led tape prints more odd lots.
RETAIL_ODD_LOT_BONUS = 0.08


class Engine(Protocol):
    """The part of the regime engine the generator reads (``synthmarket.engine.regime_engine``)."""

    def get_session_state(
        self, ts: int, control: Control, *, symbols: tuple[str, ...] | None = None
    ) -> Any: ...

    def underlying_path(
        self, symbol: str, ts_array: np.ndarray, control: Control, *, symbols: tuple[str, ...] | None = None
    ) -> dict[str, np.ndarray]: ...


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
            regime=_value(ss.regime),
            phase=_value(ss.session_phase),
            cleanliness=float(ss.quote_cleanliness),
            liquidity=float(ss.liquidity_level),
            focus=frozenset(ss.focus_symbols),
            events=frozenset(ss.event_symbols),
        )


@dataclass(frozen=True)
class SymbolBlock:
    """All records of one symbol over one block; quotes and trades each sorted by ts."""

    q_ts: np.ndarray
    q_bid_c: np.ndarray       # integer cents
    q_ask_c: np.ndarray
    q_bid_size: np.ndarray
    q_ask_size: np.ndarray
    t_ts: np.ndarray
    t_micros: np.ndarray      # integer ten-thousandths of a dollar
    t_size: np.ndarray
    t_venue: np.ndarray       # index into venues.VENUES
    t_seq: np.ndarray         # 0, 1, ... among this symbol's trades in the same ms


@dataclass(frozen=True)
class BlockContext:
    engine: Engine
    control: Control                 # a timeline passes to the engine whole
    seed: int                        # the day's seed at its open: the keys of every draw
    universe: tuple[str, ...]
    day: TradingDay
    minutes: Sequence[int]
    starts: Sequence[int]
    states: Sequence[MinuteState]
    prev_state: MinuteState | None   # state of the minute before the block (None at the open)


def minute_keys(seed: int, day: TradingDay, symbol: str, minutes: Sequence[int]) -> np.ndarray:
    """The key of each session minute of ``symbol``: every draw of that minute hangs off it."""
    return rng.fold(rng.mix(seed, day.ordinal, "equities", symbol), np.asarray(minutes, dtype=np.int64))


def quote_rate(spec: SymbolSpec, minute: int, st: MinuteState) -> float:
    return activity.quote_rate_per_minute(
        spec, minute, st.regime, st.phase, is_focus=spec.symbol in st.focus, cleanliness=st.cleanliness
    )


def spread_mult(st: MinuteState | None, symbol: str) -> float:
    """Extra quote width on focus / event names in regimes that crowd them."""
    if st is None or (symbol not in st.focus and symbol not in st.events):
        return 1.0
    return activity.regime_activity(st.regime).focus_spread_mult


def build_symbol_block(ctx: BlockContext, spec: SymbolSpec) -> SymbolBlock:
    sym = spec.symbol
    # The minute before the block rides along: its last NBBO change is the quote in force when the
    # block opens, and it depends on nothing but that minute.
    carry = ctx.prev_state is not None
    own = int(carry)   # entries before this are the previous minute's
    minutes = ([ctx.minutes[0] - 1] if carry else []) + list(ctx.minutes)
    states = ([ctx.prev_state] if ctx.prev_state is not None else []) + list(ctx.states)
    keys = minute_keys(ctx.seed, ctx.day, sym, minutes)
    q_rates = np.array([quote_rate(spec, m, st) for m, st in zip(minutes, states)])
    q_rows, q_off = quotes.quote_times(keys, q_rates, np.asarray(minutes) == 0)
    starts = ctx.day.open_ms + np.asarray(minutes, dtype=np.int64) * MS_PER_MINUTE
    if carry:
        last_prev = np.searchsorted(q_rows, 1) - 1
        q_rows, q_off = q_rows[last_prev:], q_off[last_prev:]
    q_ts = starts[q_rows] + q_off
    edges = np.asarray(list(ctx.starts) + [ctx.starts[-1] + MS_PER_MINUTE], dtype=np.int64)

    grid, inverse = np.unique(np.concatenate([q_ts, edges]), return_inverse=True)
    path = ctx.engine.underlying_path(sym, grid, ctx.control, symbols=ctx.universe)
    px = np.asarray(path["price"], dtype=float)[inverse]
    spr = np.asarray(path["spread_bps"], dtype=float)[inverse]
    vol = np.asarray(path["volatility"], dtype=float)[inverse]
    nq = q_ts.size

    widen = np.array([spread_mult(st, sym) for st in states])[q_rows]
    bid_c, ask_c = quotes.nbbo_cents(px[:nq], spr[:nq] * widen)

    etf_depth = 3.0 if spec.sector == "index_etf" else 1.0
    depth = np.array([etf_depth * (0.5 + st.liquidity) for st in states])[q_rows]
    tr = _block_trades(ctx, keys[own:], spec, px[nq:], vol[nq:])
    # A trade before the block's first NBBO change is priced against the carried quote.
    idx = np.maximum(np.searchsorted(q_ts, tr.ts, side="right") - 1, 0)
    micros = trades.trade_prices_micros(tr.u_price, bid_c[idx], ask_c[idx], tr.sides, tr.off, tr.size)

    q_rows, q_ts, bid_c, ask_c, depth = q_rows[own:], q_ts[own:], bid_c[own:], ask_c[own:], depth[own:]
    q_rank = arrivals.rank_in_row(q_rows)
    u_qsize = rng.counter_uniforms(rng.fold(keys, STREAM_QUOTE_SIZES)[q_rows], 2 * q_rank + np.array([[0], [1]]))
    return SymbolBlock(
        q_ts=q_ts,
        q_bid_c=bid_c,
        q_ask_c=ask_c,
        q_bid_size=sizes.quote_sizes(u_qsize[0], depth),
        q_ask_size=sizes.quote_sizes(u_qsize[1], depth),
        t_ts=tr.ts,
        t_micros=micros,
        t_size=tr.size,
        t_venue=tr.venue,
        t_seq=seq_within_ms(tr.ts),
    )


@dataclass(frozen=True)
class _Trades:
    ts: np.ndarray
    sides: np.ndarray
    size: np.ndarray
    off: np.ndarray
    venue: np.ndarray
    u_price: np.ndarray


def _block_trades(
    ctx: BlockContext, keys: np.ndarray, spec: SymbolSpec, edge_px: np.ndarray, edge_vol: np.ndarray
) -> _Trades:
    """Arrival times, sides, sizes and venues of one symbol's trades over a block, sorted by ts."""
    seed = ctx.seed
    rates, branching, p_buy, persist, odd_share, off_shift, event = [], [], [], [], [], [], []
    cox = activity.cox_factors(seed, ctx.day.ordinal, spec.symbol, ctx.minutes)
    for i, (m, st) in enumerate(zip(ctx.minutes, ctx.states)):
        act = activity.regime_activity(st.regime)
        vol_now = max(float(edge_vol[i]), 1e-4)
        sigma = activity.minute_sigma(vol_now)
        move = math.log(max(edge_px[i + 1], 1e-9) / max(edge_px[i], 1e-9))
        rates.append(activity.trade_rate_per_minute(
            spec,
            m,
            st.regime,
            st.phase,
            is_focus=spec.symbol in st.focus,
            is_event=spec.symbol in st.events,
            vol_ratio=vol_now / spec.annual_vol,
            move_z=abs(move) / sigma,
            cox=cox[i],
        ))
        branching.append(act.branching)
        # Aggressors lean with the minute's move: buyers lift offers into a rally.
        p_buy.append(min(0.85, max(0.15, 0.5 + 0.3 * math.tanh(move / sigma))))
        persist.append(act.sign_persistence)
        odd_share.append(sizes.ODD_LOT_SHARE + (RETAIL_ODD_LOT_BONUS if st.regime == Regime.RETAIL_CHASE else 0.0))
        off_shift.append(act.off_exchange_shift)
        event.append(spec.symbol in st.events)
    rows, times, par = arrivals.hawkes_rows(keys, np.array(rates), np.array(branching),
                                            cap=activity.MAX_TRADES_PER_MINUTE)
    ts = np.asarray(ctx.starts, dtype=np.int64)[rows] + np.floor(times).astype(np.int64)
    rank = arrivals.rank_in_row(rows)
    u = rng.counter_uniforms(rng.fold(keys, STREAM_TRADE_UNIFORMS)[rows],
                             N_TRADE_UNIFORMS * rank[None, :] + np.arange(N_TRADE_UNIFORMS)[:, None])

    def per_trade(values: list) -> np.ndarray:
        return np.asarray(values)[rows]

    sides = trades.trade_sides(u[0], u[1], par, per_trade(p_buy), per_trade(persist))
    size = sizes.trade_sizes(u[2], u[3], u[4], u[5], sizes.size_scale(spec), per_trade(odd_share))
    off = u[6] < venues.off_exchange_prob(size, per_trade(off_shift), per_trade(event))
    venue = venues.venue_indices(u[7], off, spec.sector)
    order = np.argsort(ts, kind="stable")
    return _Trades(ts[order], sides[order], size[order], off[order], venue[order], u[8:12][:, order])


def seq_within_ms(ts: np.ndarray) -> np.ndarray:
    """0, 1, 2... among entries sharing one ms (``ts`` sorted), for unique trade ids."""
    if ts.size == 0:
        return np.empty(0, np.int64)
    idx = np.arange(ts.size)
    run_start = np.r_[True, ts[1:] != ts[:-1]]
    return idx - np.maximum.accumulate(np.where(run_start, idx, 0))


def _value(x: Any) -> str:
    return str(getattr(x, "value", x))
