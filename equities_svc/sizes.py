"""Trade and displayed-quote sizes: round-lot clusters, odd lots and a power-law block tail."""

from __future__ import annotations

import numpy as np

from synthmarket.domain.universe import SymbolSpec

ROUND_LOT = 100
ROUND_LOT_SIZES = np.array([100, 200, 300, 400, 500, 1000], dtype=np.int64)
ROUND_LOT_PROBS = np.array([0.50, 0.17, 0.08, 0.05, 0.12, 0.08])
ODD_LOT_SIZES = np.array([1, 2, 3, 5, 8, 10, 12, 15, 20, 25, 30, 40, 50, 60, 75, 80, 90, 99], dtype=np.int64)
ODD_LOT_PROBS = np.array([10, 6, 4, 7, 3, 9, 2, 4, 6, 5, 3, 3, 7, 2, 2, 1, 1, 1], dtype=float)
ODD_LOT_PROBS /= ODD_LOT_PROBS.sum()

# Tail of block-sized prints: P(size > x) ~ x^-TAIL_ALPHA above TAIL_XMIN shares (Plerou & Stanley
# 2007 put the exponent below 2). Truncated so one print cannot dwarf a whole session.
TAIL_ALPHA = 1.5
TAIL_XMIN = 1000.0
TAIL_MAX = 250_000
TAIL_ROUND_SHARE = 0.6   # blocks are mostly reported in round hundreds

# Shares of trades by kind; the odd-lot share follows the price (odd_lot_share) and retail-heavy
# regimes shift more weight to odd lots.
ODD_LOT_SHARE = 0.30
TAIL_SHARE = 0.06
# Odd lots by price (SEC MIDAS odd-lot rates, 2023): about a tenth of trades in cheap names, the
# majority above ~$250, three quarters and more in the highest-priced names. A logistic in log
# price between ODD_LOT_FLOOR and ODD_LOT_CEIL, half way at ODD_LOT_MID_PRICE.
ODD_LOT_FLOOR = 0.05
ODD_LOT_CEIL = 0.90
ODD_LOT_MID_PRICE = 220.0
ODD_LOT_SLOPE = 1.4


def odd_lot_share(price: float | np.ndarray) -> float | np.ndarray:
    """Share of a name's prints under 100 shares at ``price`` (USD)."""
    p = np.maximum(np.asarray(price, dtype=float), 0.01)
    share = ODD_LOT_FLOOR + (ODD_LOT_CEIL - ODD_LOT_FLOOR) / (1.0 + (ODD_LOT_MID_PRICE / p) ** ODD_LOT_SLOPE)
    return float(share) if share.ndim == 0 else share


def mean_trade_size(scale: float, odd_share: float) -> float:
    """Expected shares per print of ``trade_sizes`` (the block tail's mean in closed form)."""
    xmin = TAIL_XMIN * scale
    tail = xmin * (1.0 + (1.0 - (xmin / TAIL_MAX) ** (TAIL_ALPHA - 1.0)) / (TAIL_ALPHA - 1.0))
    odd = float(np.dot(ODD_LOT_SIZES, ODD_LOT_PROBS))
    round_lot = float(np.dot(ROUND_LOT_SIZES, ROUND_LOT_PROBS))
    return TAIL_SHARE * tail + odd_share * odd + (1.0 - TAIL_SHARE - odd_share) * round_lot


def size_scale(spec: SymbolSpec) -> float:
    """Low-priced names trade more shares per print (BAC vs NFLX)."""
    return min(3.0, max(0.5, spec.avg_trade_size / 150.0))


def _pick(table: np.ndarray, cum: np.ndarray, u: np.ndarray) -> np.ndarray:
    return table[np.minimum(np.searchsorted(cum, u, side="right"), table.size - 1)]


_ROUND_CUM = np.cumsum(ROUND_LOT_PROBS)
_ODD_CUM = np.cumsum(ODD_LOT_PROBS)


def trade_sizes(
    u_kind: np.ndarray,
    u_choice: np.ndarray,
    u_tail: np.ndarray,
    u_round: np.ndarray,
    scale: float | np.ndarray,
    odd_lot_share: float | np.ndarray = ODD_LOT_SHARE,
) -> np.ndarray:
    """Trade sizes in shares from four uniforms per trade.

    Odd lots, round lots (100/200/500/1,000...) and a Pareto block tail scaled by ``scale``
    (see ``size_scale``), blocks mostly reported in round hundreds.
    """
    kind_tail = u_kind < TAIL_SHARE
    kind_odd = (~kind_tail) & (u_kind < TAIL_SHARE + odd_lot_share)
    sizes = np.where(kind_odd, _pick(ODD_LOT_SIZES, _ODD_CUM, u_choice), _pick(ROUND_LOT_SIZES, _ROUND_CUM, u_choice))
    # Inverse-CDF Pareto; 1 - u is in (0, 1] so the draw is finite.
    tail = np.minimum(TAIL_XMIN * scale * (1.0 - u_tail) ** (-1.0 / TAIL_ALPHA), TAIL_MAX)
    rounded = np.maximum(ROUND_LOT, np.round(tail / ROUND_LOT) * ROUND_LOT)
    tail = np.where(u_round < TAIL_ROUND_SHARE, rounded, np.floor(tail))
    return np.where(kind_tail, tail, sizes).astype(np.int64)


def quote_sizes(u: np.ndarray, depth: float | np.ndarray) -> np.ndarray:
    """Displayed NBBO size from a uniform: a whole number of round lots, geometric with mean ~4*depth."""
    lots_mean = np.maximum(1.0, 4.0 * np.asarray(depth, dtype=float))
    p = 1.0 / lots_mean
    # Inverse CDF of the geometric distribution on 1, 2, 3...; p == 1 gives one lot.
    lots = np.where(p >= 1.0, 1.0, np.ceil(np.log1p(-u) / np.log1p(-np.minimum(p, 1 - 1e-12))))
    return np.maximum(1, lots).astype(np.int64) * ROUND_LOT
