"""One symbol's quotes and trades over a block of session minutes, as arrays, from the engine's path.

Every random draw comes from a generator keyed by (seed, day, symbol, minute), in a fixed order
per minute: quote times, quote sizes, trade arrivals, per-trade uniforms. A minute therefore
looks the same whichever block or step it is built in.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Protocol, Sequence

import numpy as np

from equities_svc import activity, quotes, sizes, trades, venues
from synthmarket import rng
from synthmarket.calendar import MS_PER_MINUTE, TradingDay
from synthmarket.control import SyntheticControlState
from synthmarket.presets import Regime
from synthmarket.universe import SymbolSpec

# Uniform draws per trade: side, side inheritance, size kind, size choice, tail size, tail
# rounding, off-exchange, venue, then four for the price (kind, inside tick, improvement, exception).
N_TRADE_UNIFORMS = 12
# Retail-led tape prints more odd lots.
RETAIL_ODD_LOT_BONUS = 0.08


class Engine(Protocol):
    """The part of the regime engine the generator reads (``regime_svc.engine``)."""

    def get_session_state(
        self, ts: int, control: SyntheticControlState, *, symbols: tuple[str, ...] | None = None
    ) -> Any: ...

    def underlying_path(
        self, symbol: str, ts_array: np.ndarray, control: SyntheticControlState, *, symbols: tuple[str, ...] | None = None
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
    def from_session(cls, ss: Any) -> "MinuteState":
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
    control: SyntheticControlState
    universe: tuple[str, ...]
    day: TradingDay
    minutes: Sequence[int]
    starts: Sequence[int]
    states: Sequence[MinuteState]
    prev_state: MinuteState | None   # state of the minute before the block (None at the open)


def minute_generator(seed: int, day: TradingDay, symbol: str, minute: int) -> np.random.Generator:
    return rng.generator(seed, day.ordinal, "equities", symbol, minute)


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
    seed = ctx.control.shared_seed
    gens = [minute_generator(seed, ctx.day, sym, m) for m in ctx.minutes]
    q_offsets = [
        quotes.quote_offsets(g, quote_rate(spec, m, st), session_open=(m == 0))
        for g, m, st in zip(gens, ctx.minutes, ctx.states)
    ]
    # The NBBO in force when the block opens: the last change of the previous minute, rebuilt
    # from that minute's first draws alone.
    carry: list[int] = []
    if ctx.prev_state is not None:
        pm = ctx.minutes[0] - 1
        prev = quotes.quote_offsets(
            minute_generator(seed, ctx.day, sym, pm), quote_rate(spec, pm, ctx.prev_state), session_open=(pm == 0)
        )
        carry = [ctx.starts[0] - MS_PER_MINUTE + int(prev[-1])]
    q_counts = np.array([o.size for o in q_offsets])
    q_own_ts = np.repeat(np.asarray(ctx.starts, dtype=np.int64), q_counts) + np.concatenate(q_offsets)
    q_ts = np.concatenate([np.asarray(carry, dtype=np.int64), q_own_ts])
    edges = np.asarray(list(ctx.starts) + [ctx.starts[-1] + MS_PER_MINUTE], dtype=np.int64)

    grid, inverse = np.unique(np.concatenate([q_ts, edges]), return_inverse=True)
    path = ctx.engine.underlying_path(sym, grid, ctx.control, symbols=ctx.universe)
    px = np.asarray(path["price"], dtype=float)[inverse]
    spr = np.asarray(path["spread_bps"], dtype=float)[inverse]
    vol = np.asarray(path["volatility"], dtype=float)[inverse]
    nq = q_ts.size

    widen = np.repeat([spread_mult(st, sym) for st in ctx.states], q_counts)
    if carry:
        widen = np.r_[spread_mult(ctx.prev_state, sym), widen]
    bid_c, ask_c = quotes.nbbo_cents(px[:nq], spr[:nq] * widen)

    etf_depth = 3.0 if spec.sector == "index_etf" else 1.0
    depth = np.repeat([etf_depth * (0.5 + st.liquidity) for st in ctx.states], q_counts)
    u_qsize = np.concatenate([g.random((2, o.size)) for g, o in zip(gens, q_offsets)], axis=1)

    tr = _block_trades(ctx, gens, spec, px[nq:], vol[nq:])
    idx = np.maximum(np.searchsorted(q_ts, tr.ts, side="right") - 1, 0)
    micros = trades.trade_prices_micros(tr.u_price, bid_c[idx], ask_c[idx], tr.sides, tr.off, tr.size)
    own = len(carry)
    return SymbolBlock(
        q_ts=q_own_ts,
        q_bid_c=bid_c[own:],
        q_ask_c=ask_c[own:],
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
    ctx: BlockContext, gens: Sequence[np.random.Generator], spec: SymbolSpec, edge_px: np.ndarray, edge_vol: np.ndarray
) -> _Trades:
    """Arrival times, sides, sizes and venues of one symbol's trades over a block, sorted by ts."""
    seed = ctx.control.shared_seed
    offsets, parents, uniforms = [], [], []
    p_buy, persist, odd_share, off_shift, event = [], [], [], [], []
    cox = activity.cox_factors(seed, ctx.day.ordinal, spec.symbol, ctx.minutes)
    base = 0
    for i, (g, m, st) in enumerate(zip(gens, ctx.minutes, ctx.states)):
        act = activity.regime_activity(st.regime)
        vol_now = max(float(edge_vol[i]), 1e-4)
        sigma = activity.minute_sigma(vol_now)
        move = math.log(max(edge_px[i + 1], 1e-9) / max(edge_px[i], 1e-9))
        rate = activity.trade_rate_per_minute(
            spec,
            m,
            st.regime,
            st.phase,
            is_focus=spec.symbol in st.focus,
            is_event=spec.symbol in st.events,
            vol_ratio=vol_now / spec.annual_vol,
            move_z=abs(move) / sigma,
            cox=cox[i],
        )
        off_m, par_m = activity.hawkes_minute(g, rate, act.branching)
        offsets.append(ctx.starts[i] + off_m)
        parents.append(np.where(par_m >= 0, par_m + base, -1))
        base += off_m.size
        uniforms.append(g.random((N_TRADE_UNIFORMS, off_m.size)))
        # Aggressors lean with the minute's move: buyers lift offers into a rally.
        p_buy.append(min(0.85, max(0.15, 0.5 + 0.3 * math.tanh(move / sigma))))
        persist.append(act.sign_persistence)
        odd_share.append(sizes.ODD_LOT_SHARE + (RETAIL_ODD_LOT_BONUS if st.regime == Regime.RETAIL_CHASE else 0.0))
        off_shift.append(act.off_exchange_shift)
        event.append(spec.symbol in st.events)
    counts = [o.size for o in offsets]
    ts = np.concatenate(offsets)
    par = np.concatenate(parents)
    u = np.concatenate(uniforms, axis=1)

    def per_trade(values: list) -> np.ndarray:
        return np.repeat(np.asarray(values), counts)

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
