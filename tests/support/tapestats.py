"""Realism measures over a generated equity tape: returns, volume shape, sizes, venues, quote consistency."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from synthmarket.domain.calendar import MS_PER_MINUTE, SESSION_MINUTES
from synthmarket.domain.marketdata import EquityQuote, EquityTrade


@dataclass(frozen=True)
class TapeColumns:
    """One symbol's trades and quotes as arrays (records in ts order)."""

    t_ts: np.ndarray
    t_price: np.ndarray
    t_size: np.ndarray
    t_off: np.ndarray
    q_ts: np.ndarray
    q_bid: np.ndarray
    q_ask: np.ndarray


def columns(records: Iterable[EquityTrade | EquityQuote], symbol: str) -> TapeColumns:
    return columns_by_symbol(records, (symbol,))[symbol]


def columns_by_symbol(
    records: Iterable[EquityTrade | EquityQuote], symbols: Sequence[str]
) -> dict[str, TapeColumns]:
    """Split a tape into per-symbol columns in one pass."""
    tr: dict[str, list[EquityTrade]] = {s: [] for s in symbols}
    qu: dict[str, list[EquityQuote]] = {s: [] for s in symbols}
    for r in records:
        target = tr if isinstance(r, EquityTrade) else qu
        if r.symbol in target:
            target[r.symbol].append(r)  # type: ignore[arg-type]
    return {s: _columns(tr[s], qu[s]) for s in symbols}


def _columns(tr: list[EquityTrade], qu: list[EquityQuote]) -> TapeColumns:
    return TapeColumns(
        t_ts=np.array([r.ts for r in tr], dtype=np.int64),
        t_price=np.array([r.price for r in tr], dtype=float),
        t_size=np.array([r.size for r in tr], dtype=np.int64),
        t_off=np.array([r.off_exchange for r in tr], dtype=bool),
        q_ts=np.array([r.ts for r in qu], dtype=np.int64),
        q_bid=np.array([r.bid for r in qu], dtype=float),
        q_ask=np.array([r.ask for r in qu], dtype=float),
    )


def minute_last_prices(cols: TapeColumns, open_ms: int, minutes: int = SESSION_MINUTES) -> np.ndarray:
    """Last trade price in each session minute, carried forward through minutes with no trade."""
    minute = (cols.t_ts - open_ms) // MS_PER_MINUTE
    last = np.full(minutes, np.nan)
    ok = (minute >= 0) & (minute < minutes)
    # Trades are in ts order, so the last assignment per minute wins.
    last[minute[ok]] = cols.t_price[ok]
    for i in range(1, minutes):
        if np.isnan(last[i]):
            last[i] = last[i - 1]
    return last


def log_returns(prices: np.ndarray) -> np.ndarray:
    p = prices[~np.isnan(prices)]
    return np.diff(np.log(p))


def excess_kurtosis(x: np.ndarray) -> float:
    x = np.asarray(x, dtype=float) - np.mean(x)
    var = np.mean(x**2)
    return float(np.mean(x**4) / var**2 - 3.0) if var > 0 else 0.0


def acf(x: np.ndarray, lag: int) -> float:
    x = np.asarray(x, dtype=float) - np.mean(x)
    den = float(np.dot(x, x))
    return float(np.dot(x[:-lag], x[lag:]) / den) if den > 0 else 0.0


def volume_per_minute(cols: TapeColumns, open_ms: int, minutes: int = SESSION_MINUTES) -> np.ndarray:
    minute = (cols.t_ts - open_ms) // MS_PER_MINUTE
    ok = (minute >= 0) & (minute < minutes)
    return np.bincount(minute[ok], weights=cols.t_size[ok], minlength=minutes)


def u_shape_ratios(volume: np.ndarray) -> tuple[float, float]:
    """(first 30 min, last 30 min) average volume per minute over the midday (minutes 150-240) average."""
    mid = float(np.mean(volume[150:240]))
    return float(np.mean(volume[:30]) / mid), float(np.mean(volume[-30:]) / mid)


def off_exchange_share(cols: Sequence[TapeColumns]) -> float:
    off = sum(float(c.t_size[c.t_off].sum()) for c in cols)
    total = sum(float(c.t_size.sum()) for c in cols)
    return off / total if total else 0.0


def round_lot_share(sizes: np.ndarray) -> float:
    return float(np.mean(sizes % 100 == 0)) if sizes.size else 0.0


def hill_tail_index(sizes: np.ndarray, xmin: float) -> float:
    """Hill estimator of the power-law exponent of P(size > x) above ``xmin``."""
    tail = np.asarray(sizes, dtype=float)
    tail = tail[tail > xmin]
    return float(tail.size / np.sum(np.log(tail / xmin))) if tail.size else float("nan")


def in_force_quotes(cols: TapeColumns) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(bid, ask, has_quote) in force at each trade: the last quote at or before its ts.

    Quotes precede trades sharing their ms in the emitted order, so "at or before" is right.
    """
    idx = np.searchsorted(cols.q_ts, cols.t_ts, side="right") - 1
    has = idx >= 0
    idx = np.maximum(idx, 0)
    return cols.q_bid[idx], cols.q_ask[idx], has


def outside_quote_rates(cols: TapeColumns) -> tuple[float, float]:
    """(lit, off-exchange) share of trades priced outside the NBBO in force."""
    bid, ask, has = in_force_quotes(cols)
    eps = 1e-9
    outside = has & ((cols.t_price < bid - eps) | (cols.t_price > ask + eps))
    lit, off = ~cols.t_off & has, cols.t_off & has
    return (
        float(outside[lit].mean()) if lit.any() else 0.0,
        float(outside[off].mean()) if off.any() else 0.0,
    )


def on_grid(prices: np.ndarray, step: float) -> np.ndarray:
    """True where a price is a whole multiple of ``step`` (to float precision)."""
    units = np.asarray(prices, dtype=float) / step
    return np.abs(units - np.rint(units)) < 1e-6


