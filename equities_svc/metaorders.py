"""Parent orders worked through the day: the long memory in trade signs.

Institutions split large orders into many child trades over minutes to hours (Lillo & Farmer
2004). Each symbol-day holds a Poisson stream of parent orders with power-law durations
(P(L > x) ~ x^-META_ALPHA): the number of parents alive at two instants stays correlated like
lag^-(META_ALPHA - 1), and so do the signs of the trades they feed, while the price path (the
engine's) stays unpredictable. A trade belongs to one of the parents working at its ts with
probability META_SHARE; otherwise its side follows the minute's own lean.

The day's parents are one fixed batch of draws keyed by (seed, day, symbol), so the lean at any
instant is known without replaying the day.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from synthmarket.domain import rng

META_RATE_PER_MIN = 0.75    # parent orders starting per minute (about two working at any time)
META_MIN_S = 60.0           # shortest parent order
META_MAX_S = 3 * 3600.0     # longest: most of a session
META_ALPHA = 1.5            # duration tail: sign ACF ~ lag^-0.5
META_SHARE = 0.8            # of a trade's side decided by the parents working at its ts
META_LEAD_S = 1800.0        # parents may have started before the open


@dataclass(frozen=True)
class ParentBook:
    """When the count of working buy and sell parents changes, and the counts from then on."""

    at_ms: np.ndarray        # offsets from the open, ascending
    buys: np.ndarray         # working buy parents from at_ms[i] on
    sells: np.ndarray


@lru_cache(maxsize=256)
def parent_book(seed: int, ordinal: int, symbol: str, session_ms: int) -> ParentBook:
    gen = rng.generator(seed, ordinal, symbol, "parent-orders")
    span_s = session_ms / 1000.0 + META_LEAD_S
    n = int(gen.poisson(META_RATE_PER_MIN * span_s / 60.0))
    start = gen.uniform(-META_LEAD_S, session_ms / 1000.0, n)
    length = np.minimum(META_MIN_S * (1.0 - gen.random(n)) ** (-1.0 / META_ALPHA), META_MAX_S)
    buy = gen.random(n) < 0.5
    at = np.concatenate([start, start + length]) * 1000.0
    step = np.concatenate([np.ones(n, np.int64), -np.ones(n, np.int64)])
    side = np.concatenate([buy, buy])
    order = np.argsort(at, kind="stable")
    at, step, side = at[order], step[order], side[order]
    return ParentBook(np.floor(at).astype(np.int64), np.cumsum(np.where(side, step, 0)),
                      np.cumsum(np.where(side, 0, step)))


def buy_probability(book: ParentBook, offsets_ms: np.ndarray, p_own: np.ndarray) -> np.ndarray:
    """Probability that each trade (at ``offsets_ms`` from the open) is a buy, given its own lean ``p_own``.

    With parents working, a share META_SHARE of the flow is theirs, split evenly among them.
    """
    i = np.searchsorted(book.at_ms, offsets_ms, side="right") - 1
    buys = np.where(i >= 0, book.buys[np.maximum(i, 0)], 0)
    sells = np.where(i >= 0, book.sells[np.maximum(i, 0)], 0)
    working = buys + sells
    parents = buys / np.maximum(working, 1)
    return np.where(working > 0, (1.0 - META_SHARE) * p_own + META_SHARE * parents, p_own)
