"""NBBO construction on the penny grid: update times within a minute and bid/ask around the path."""

from __future__ import annotations

import numpy as np

from equities_svc.activity import MAX_QUOTES_PER_MINUTE
from synthmarket.calendar import MS_PER_MINUTE

TICK = 0.01
CENTS = 100.0


def quote_offsets(gen: np.random.Generator, rate: float, *, session_open: bool) -> np.ndarray:
    """Sorted ms offsets of NBBO changes inside one minute; always at least one.

    These must be the first draws from the minute's generator: the next minute rebuilds its
    opening quote from them without generating anything else of this minute.
    """
    n = int(min(MAX_QUOTES_PER_MINUTE, max(1, gen.poisson(max(0.0, rate)))))
    offsets = np.sort(np.floor(gen.random(n) * MS_PER_MINUTE).astype(np.int64))
    if session_open:
        # The opening NBBO is in force from the first millisecond of the session.
        offsets[0] = 0
    return offsets


def nbbo_cents(mid: np.ndarray, spread_bps: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Bid and ask in integer cents around ``mid``; the spread is at least one tick, so ask > bid."""
    mid_c = np.asarray(mid, dtype=float) * CENTS
    width = np.maximum(1, np.rint(mid_c * np.asarray(spread_bps, dtype=float) * 1e-4)).astype(np.int64)
    bid = np.rint(mid_c - width / 2.0).astype(np.int64)
    bid = np.maximum(bid, 1)
    return bid, bid + width


def cents_to_price(cents: np.ndarray) -> list[float]:
    """Integer cents to float dollars; integer division by 100 is correctly rounded to the penny."""
    return (np.asarray(cents, dtype=np.int64) / CENTS).tolist()
