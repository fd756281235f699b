"""NBBO construction on the penny grid: update times within a minute and bid/ask around the path."""

from __future__ import annotations

import numpy as np

from equities_svc import arrivals
from equities_svc.activity import MAX_QUOTES_PER_MINUTE
from synthmarket.domain import rng
from synthmarket.domain.calendar import MS_PER_MINUTE

TICK = 0.01
CENTS = 100.0
# Stream tags inside a minute's key (see equities_svc.arrivals).
STREAM_QUOTE_TIMES = 10
STREAM_LONE_QUOTE = 11


def quote_times(keys: np.ndarray, rates: np.ndarray, session_open: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """NBBO change times for a batch of minutes: (row, ms offset in the minute), sorted by row then time.

    Row ``i`` is a minute keyed ``keys[i]`` with ``rates[i]`` expected changes; every minute has at
    least one change, so the quote in force is always defined, and a minute depends only on its
    own key and rate (the next minute rebuilds its opening quote from this one alone). At the
    session open the first NBBO is in force from the first millisecond.
    """
    keys = np.asarray(keys, dtype=np.uint64)
    rows, times = arrivals.poisson_rows(keys, np.minimum(np.asarray(rates, dtype=float), MAX_QUOTES_PER_MINUTE),
                                        tag=STREAM_QUOTE_TIMES)
    rank = arrivals.rank_in_row(rows)
    keep = rank < MAX_QUOTES_PER_MINUTE
    rows, offsets, rank = rows[keep], np.floor(times[keep]).astype(np.int64), rank[keep]
    empty = np.setdiff1d(np.arange(keys.size), rows)
    if empty.size:
        lone = rng.counter_uniforms(rng.fold(keys[empty], STREAM_LONE_QUOTE), 0)
        rows = np.concatenate([rows, empty])
        offsets = np.concatenate([offsets, np.floor(lone * MS_PER_MINUTE).astype(np.int64)])
        rank = np.concatenate([rank, np.zeros(empty.size, np.int64)])
        order = np.argsort(rows, kind="stable")
        rows, offsets, rank = rows[order], offsets[order], rank[order]
    offsets[(rank == 0) & np.asarray(session_open, dtype=bool)[rows]] = 0
    return rows, offsets


def nbbo_cents(mid: np.ndarray, spread_bps: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Bid and ask in integer cents around ``mid``; the spread is at least one tick, so ask > bid."""
    mid_c = np.asarray(mid, dtype=float) * CENTS
    width = np.maximum(1, np.rint(mid_c * np.asarray(spread_bps, dtype=float) * 1e-4)).astype(np.int64)
    bid = np.rint(mid_c - width / 2.0).astype(np.int64)
    bid = np.maximum(bid, 1)
    return bid, bid + width
