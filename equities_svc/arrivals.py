"""Trade arrival times inside session minutes, many minutes at once: self-exciting (Hawkes) tapes.

Every draw is counter-based (``synthmarket.domain.rng.counter_uniforms``) and keyed by its minute's key,
a stream tag and the draw's position inside that minute. A minute's arrivals therefore depend only
on its own key and rates: the same whichever batch of minutes it is built in, with no per-minute
generator to construct.
"""

from __future__ import annotations

import numpy as np

from synthmarket.domain import rng
from synthmarket.domain.calendar import MS_PER_MINUTE
from synthmarket.engine.nbbo import poisson_rows, rank_in_row

# Stream tags inside a minute's key. Kids' counts and delays get one tag per generation.
STREAM_POISSON = 1
STREAM_KID_COUNT = 100
STREAM_KID_DELAY = 200

MAX_GENERATIONS = 12
# Per-trade follower counts are Poisson(branching) with branching < 1: ten terms of the CDF leave
# less than 1e-10 of mass uncovered, and a count is capped there.
_MAX_KIDS = 10


def _poisson_cdf(lam: np.ndarray) -> np.ndarray:
    """P(N <= k) for k = 0.._MAX_KIDS - 1, one row per rate (small rates: the tail is negligible)."""
    k = np.arange(_MAX_KIDS)
    log_pmf = -lam[:, None] + k[None, :] * np.log(np.maximum(lam, 1e-300))[:, None] - np.cumsum(np.log(np.maximum(k, 1)))
    return np.cumsum(np.exp(log_pmf), axis=1)


def hawkes_rows(
    keys: np.ndarray, rates: np.ndarray, branching: np.ndarray, *, decay_ms: float = 1500.0, cap: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Self-exciting arrivals inside each row's minute: (row, time in ms, parent index or -1).

    Immigrants arrive at ``rates * (1 - branching)``; each trade triggers Poisson(branching)
    followers after exponential delays, so the mean count stays near ``rates`` while arrivals
    cluster. Followers past the minute are dropped. Within a row, entries come in generation
    order (immigrants first), a parent always before what it triggered; parents index the
    returned arrays. A row keeps at most ``cap`` entries, the earliest generations first.
    """
    keys = np.asarray(keys, dtype=np.uint64)
    branching = np.asarray(branching, dtype=float)
    rows, times = poisson_rows(keys, np.asarray(rates, dtype=float) * (1.0 - branching), tag=STREAM_POISSON)
    all_rows, all_times, all_parents = [rows], [times], [np.full(rows.size, -1, np.int64)]
    last_rows, last_times, last_index, offset = rows, times, np.arange(rows.size), rows.size
    kid_cdf = _poisson_cdf(branching)
    for gen in range(1, MAX_GENERATIONS + 1):
        if last_rows.size == 0:
            break
        u = rng.counter_uniforms(rng.fold(keys, STREAM_KID_COUNT + gen)[last_rows], rank_in_row(last_rows))
        kids = (u[:, None] > kid_cdf[last_rows]).sum(axis=1)   # inverse CDF
        src = np.repeat(np.arange(last_rows.size), kids)
        if src.size == 0:
            break
        kid_rows = last_rows[src]
        u = rng.counter_uniforms(rng.fold(keys, STREAM_KID_DELAY + gen)[kid_rows], rank_in_row(kid_rows))
        kid_times = last_times[src] - np.log(u) * decay_ms
        keep = kid_times < MS_PER_MINUTE
        last_rows, last_times = kid_rows[keep], kid_times[keep]
        parents = last_index[src[keep]]
        last_index = np.arange(offset, offset + last_rows.size)
        offset += last_rows.size
        all_rows.append(last_rows)
        all_times.append(last_times)
        all_parents.append(parents)
    rows = np.concatenate(all_rows)
    # Generation by generation each array is sorted by row: a stable sort by row gives every
    # row's entries in generation order.
    order = np.argsort(rows, kind="stable")
    position = np.empty_like(order)
    position[order] = np.arange(order.size)
    parents = np.concatenate(all_parents)[order]
    parents = np.where(parents >= 0, position[np.maximum(parents, 0)], -1)
    rows, times = rows[order], np.concatenate(all_times)[order]
    keep = rank_in_row(rows) < cap
    if not keep.all():
        # Parents rank before their followers, so every kept entry keeps its parent.
        renumber = np.cumsum(keep) - 1
        parents = np.where(parents >= 0, renumber[np.maximum(parents, 0)], -1)[keep]
        rows, times = rows[keep], times[keep]
    return rows, times, parents
