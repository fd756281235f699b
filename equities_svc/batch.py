"""One symbol's quotes and trades over a block of session minutes, as arrays, from the engine's path.

Every random draw is counter-based, keyed by (seed, day, symbol, minute), a stream tag and the
draw's position inside the minute (quote times, quote sizes, trade arrivals, per-trade uniforms),
or by (seed, day, symbol) for what spans the day (parent orders, auctions). A minute therefore
looks the same whichever block or step it is built in, and a block of any length costs a few
array operations per stream rather than a generator per minute. The NBBO itself is
``synthmarket.engine.nbbo``'s, so the option side reads the same quote in force.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from equities_svc import activity, arrivals, auctions, metaorders, sizes, trades, venues
from synthmarket.domain import rng
from synthmarket.domain.calendar import MS_PER_MINUTE, TradingDay
from synthmarket.domain.control_timeline import Control
from synthmarket.domain.regimes import Regime
from synthmarket.domain.universe import SymbolSpec
from synthmarket.engine import nbbo
from synthmarket.engine.nbbo import MinuteState, minute_keys

__all__ = ["BlockContext", "Engine", "MinuteState", "SymbolBlock", "build_symbol_blocks", "seq_within_ms"]

# Uniform draws per trade: side, side inheritance, size kind, size choice, tail size, tail
# rounding, off-exchange, venue, four for the price (kind, inside tick, improvement, exception),
# ISO, and how late a late report is.
N_TRADE_UNIFORMS = 14
# Stream tags inside a minute's key (see equities_svc.arrivals and synthmarket.engine.nbbo).
STREAM_QUOTE_SIZES = 20
STREAM_TRADE_UNIFORMS = 21
# Retail-led tape prints more odd lots.
RETAIL_ODD_LOT_BONUS = 0.08
# A late report traded this long before it is printed; an average-price print averages the path
# over AVERAGE_POINTS instants of the last AVERAGE_SPAN_MS.
LATE_MIN_MS, LATE_MAX_MS = 2_000, 90_000
AVERAGE_SPAN_MS = 30 * MS_PER_MINUTE
AVERAGE_POINTS = 8


class Engine(Protocol):
    """The part of the regime engine the generator reads (``synthmarket.engine.regime_engine``)."""

    def get_session_state(
        self, ts: int, control: Control, *, symbols: tuple[str, ...] | None = None
    ) -> Any: ...

    def underlying_path(
        self, symbol: str, ts_array: np.ndarray, control: Control, *, symbols: tuple[str, ...] | None = None
    ) -> dict[str, np.ndarray]: ...


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
    t_cond: np.ndarray        # index into trades.CONDITIONS
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
    next_state: MinuteState | None = None   # state of the minute after it (None at the close)


@dataclass(frozen=True)
class _Setup:
    """What a symbol's trades over a block are drawn from."""

    quotes: nbbo.BlockQuotes
    keys: np.ndarray                  # each minute's key
    minute: dict[str, np.ndarray]     # per-minute trade parameters (see ``_minute_params``)


def build_symbol_blocks(ctx: BlockContext, specs: Sequence[SymbolSpec]) -> list[SymbolBlock]:
    """Each symbol's block. The trade arrivals of all of them are drawn in one batch: its rows are
    (symbol, minute) pairs and each row's draws hang off its own minute's key, so batching changes
    no draw, only how many array passes there are."""
    setups = [_setup(ctx, spec) for spec in specs]
    rows, times, par = arrivals.hawkes_rows(
        np.concatenate([s.keys for s in setups]), np.concatenate([s.minute["rate"] for s in setups]),
        np.concatenate([s.minute["branching"] for s in setups]), cap=activity.MAX_TRADES_PER_MINUTE)
    n = len(ctx.minutes)
    # Rows ascend, so each symbol's arrivals are a run, and their parents lie in that run.
    bounds = np.searchsorted(rows, np.arange(len(specs) + 1) * n).tolist()
    out = []
    for i, (spec, setup) in enumerate(zip(specs, setups)):
        lo, hi = bounds[i], bounds[i + 1]
        parents = np.where(par[lo:hi] >= 0, par[lo:hi] - lo, -1)
        out.append(_symbol_block(ctx, spec, setup, _block_trades(ctx, setup, spec, rows[lo:hi] - i * n,
                                                                  times[lo:hi], parents)))
    return out


def _setup(ctx: BlockContext, spec: SymbolSpec) -> _Setup:
    q = nbbo.block_quotes(ctx.engine, ctx.control, ctx.seed, ctx.universe, ctx.day, spec, ctx.minutes, ctx.states,
                          ctx.prev_state, ctx.next_state)
    edges = np.asarray(list(ctx.starts) + [ctx.starts[-1] + MS_PER_MINUTE], dtype=np.int64)
    path = ctx.engine.underlying_path(spec.symbol, np.minimum(edges, ctx.day.close_ms), ctx.control,
                                      symbols=ctx.universe)
    return _Setup(q, minute_keys(ctx.seed, ctx.day, spec.symbol, ctx.minutes),
                  _minute_params(ctx, spec, np.asarray(path["price"], dtype=float),
                                 np.asarray(path["volatility"], dtype=float)))


def _symbol_block(ctx: BlockContext, spec: SymbolSpec, setup: _Setup, tr: _Trades) -> SymbolBlock:
    sym, q = spec.symbol, setup.quotes
    edges_end = ctx.starts[-1] + MS_PER_MINUTE

    # A trade before the block's first quote is priced against the one in force at its start.
    q_bid = np.concatenate([[q.carry_bid_c], q.bid_c])
    q_ask = np.concatenate([[q.carry_ask_c], q.ask_c])
    idx = np.searchsorted(q.ts, tr.ts, side="right")
    micros, exc = trades.trade_prices_micros(tr.u[8:12], q_bid[idx], q_ask[idx], tr.sides, tr.off, tr.size)
    micros = _reprice_reports(ctx, sym, tr.ts, tr.u[13], exc, micros)
    cond = trades.conditions(exc, tr.size, tr.off, tr.u[12])
    cols = [tr.ts, micros, tr.size, tr.venue, cond]
    for closing, at in ((False, ctx.day.open_ms), (True, ctx.day.close_ms - 1)):
        if ctx.starts[0] <= at < edges_end:
            i = int(np.searchsorted(q.ts, at, side="right"))
            u = rng.uniform(ctx.seed, ctx.day.ordinal, sym, "cross-price", int(closing))
            cross = (at, auctions.cross_price_cents(int(q_bid[i]), int(q_ask[i]), u) * trades.MICROS_PER_CENT,
                     auctions.cross_size(spec, ctx.seed, ctx.day.ordinal, ctx.day.minutes, closing),
                     auctions.listing_venue(sym), trades.CLOSING_CROSS if closing else trades.OPENING_CROSS)
            # The opening print leads the open's millisecond; the closing print ends the session.
            cols = [np.concatenate([c, [v]] if closing else [[v], c]).astype(c.dtype) for c, v in zip(cols, cross)]
    order = np.argsort(cols[0], kind="stable")
    ts, micros, size, venue, cond = (c[order] for c in cols)

    q_min = (q.ts - ctx.day.open_ms) // MS_PER_MINUTE
    q_rank = nbbo.rank_in_row(q_min)
    liquidity = np.array([st.liquidity for st in ctx.states])
    depth = nbbo.queue_depth(spec) * (0.5 + liquidity[q_min - int(ctx.minutes[0])])
    q_keys = minute_keys(ctx.seed, ctx.day, sym, q_min)
    u_qsize = rng.counter_uniforms(rng.fold(q_keys, STREAM_QUOTE_SIZES), 2 * q_rank + np.array([[0], [1]]))
    return SymbolBlock(
        q_ts=q.ts,
        q_bid_c=q.bid_c,
        q_ask_c=q.ask_c,
        q_bid_size=sizes.quote_sizes(u_qsize[0], depth),
        q_ask_size=sizes.quote_sizes(u_qsize[1], depth),
        t_ts=ts,
        t_micros=micros,
        t_size=size,
        t_venue=venue,
        t_cond=cond,
        t_seq=seq_within_ms(ts),
    )


def _reprice_reports(ctx: BlockContext, symbol: str, ts: np.ndarray, u_late: np.ndarray, exc: np.ndarray,
                     micros: np.ndarray) -> np.ndarray:
    """Late reports at the path's price when they traded; average-price prints at the path's recent average."""
    late = np.flatnonzero(exc == trades.EXC_LATE)
    average = np.flatnonzero(exc == trades.EXC_AVERAGE)
    if late.size == 0 and average.size == 0:
        return micros
    back = np.arange(AVERAGE_POINTS) * (AVERAGE_SPAN_MS // (AVERAGE_POINTS - 1))
    at = np.concatenate([
        ts[late] - (LATE_MIN_MS + np.floor(u_late[late] * (LATE_MAX_MS - LATE_MIN_MS))).astype(np.int64),
        (ts[average][:, None] - back[None, :]).ravel(),
    ])
    price = ctx.engine.underlying_path(symbol, np.maximum(at, ctx.day.open_ms), ctx.control,
                                       symbols=ctx.universe)["price"]
    out = micros.copy()
    out[late] = np.rint(price[:late.size] * trades.MICROS_PER_DOLLAR)
    out[average] = np.rint(price[late.size:].reshape(-1, AVERAGE_POINTS).mean(axis=1) * trades.MICROS_PER_DOLLAR)
    return out


@dataclass(frozen=True)
class _Trades:
    ts: np.ndarray
    sides: np.ndarray
    size: np.ndarray
    off: np.ndarray
    venue: np.ndarray
    u: np.ndarray             # (N_TRADE_UNIFORMS, n) per-trade uniforms


def _minute_params(ctx: BlockContext, spec: SymbolSpec, edge_px: np.ndarray, edge_vol: np.ndarray
                   ) -> dict[str, np.ndarray]:
    """One symbol's trade parameters for each minute of a block, from the path at the minutes' edges."""
    rates, branching, p_buy, persist, odd_share, off_shift, event = [], [], [], [], [], [], []
    cox = activity.cox_factors(ctx.seed, ctx.day.ordinal, spec.symbol, ctx.minutes)
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
        odd_share.append(sizes.odd_lot_share(edge_px[i])
                         + (RETAIL_ODD_LOT_BONUS if st.regime == Regime.RETAIL_CHASE else 0.0))
        off_shift.append(act.off_exchange_shift)
        event.append(spec.symbol in st.events)
    return {"rate": np.array(rates), "branching": np.array(branching), "p_buy": np.asarray(p_buy),
            "persist": np.asarray(persist), "odd_share": np.asarray(odd_share), "off_shift": np.asarray(off_shift),
            "event": np.asarray(event)}


def _block_trades(ctx: BlockContext, setup: _Setup, spec: SymbolSpec, rows: np.ndarray, times: np.ndarray,
                  par: np.ndarray) -> _Trades:
    """Sides, sizes and venues of one symbol's trades over a block (arrivals: ``hawkes_rows``), sorted by ts."""
    seed, keys, minute = ctx.seed, setup.keys, setup.minute
    ts = np.asarray(ctx.starts, dtype=np.int64)[rows] + np.floor(times).astype(np.int64)
    rank = nbbo.rank_in_row(rows)
    u = rng.counter_uniforms(rng.fold(keys, STREAM_TRADE_UNIFORMS)[rows],
                             N_TRADE_UNIFORMS * rank[None, :] + np.arange(N_TRADE_UNIFORMS)[:, None])

    def per_trade(name: str) -> np.ndarray:
        return minute[name][rows]

    book = metaorders.parent_book(seed, ctx.day.ordinal, spec.symbol, ctx.day.close_ms - ctx.day.open_ms)
    p_side = metaorders.buy_probability(book, ts - ctx.day.open_ms, per_trade("p_buy"))
    sides = trades.trade_sides(u[0], u[1], par, p_side, per_trade("persist"))
    size = sizes.trade_sizes(u[2], u[3], u[4], u[5], sizes.size_scale(spec), per_trade("odd_share"))
    off = u[6] < venues.off_exchange_prob(size, per_trade("off_shift"), per_trade("event"))
    venue = venues.venue_indices(u[7], off, spec.sector)
    order = np.argsort(ts, kind="stable")
    return _Trades(ts[order], sides[order], size[order], off[order], venue[order], u[:, order])


def seq_within_ms(ts: np.ndarray) -> np.ndarray:
    """0, 1, 2... among entries sharing one ms (``ts`` sorted), for unique trade ids."""
    if ts.size == 0:
        return np.empty(0, np.int64)
    idx = np.arange(ts.size)
    run_start = np.r_[True, ts[1:] != ts[:-1]]
    return idx - np.maximum.accumulate(np.where(run_start, idx, 0))
