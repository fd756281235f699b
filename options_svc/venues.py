"""The US option exchanges' shares of the tape, and venue picks for single prints and sweeps."""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Mapping
from types import MappingProxyType

import numpy as np

from synthmarket.domain.chain import OPTION_EXCHANGES

# Approximate shares of US equity and ETF option volume by exchange (2024-25, OCC and exchange
# reports): the largest around 10-15% each, the smallest (MIAX Sapphire in its first months,
# Nasdaq MRX and BX) near or under 1%.
VENUE_SHARES: Mapping[str, float] = MappingProxyType({
    "CBOE": 0.140, "PHLX": 0.115, "ARCA": 0.088, "AMEX": 0.082, "ISE": 0.072, "NOM": 0.064, "MIAX": 0.060,
    "BZX": 0.056, "PEARL": 0.052, "EDGX": 0.048, "C2": 0.040, "BOX": 0.038, "MEMX": 0.036, "GEMX": 0.030,
    "EMLD": 0.026, "SPHR": 0.018, "MRX": 0.009, "BX": 0.006,
})
if set(VENUE_SHARES) != set(OPTION_EXCHANGES):
    raise ValueError("every option exchange needs a share")

_VENUES: tuple[str, ...] = tuple(VENUE_SHARES)
_TOTAL = sum(VENUE_SHARES.values())
_CUMULATIVE: tuple[float, ...] = tuple(c / _TOTAL for c in itertools.accumulate(VENUE_SHARES.values()))
_LAST = len(_VENUES) - 1


def venue_at(u: float) -> str:
    """The venue a uniform draw in [0, 1) lands on, by market share."""
    i = bisect.bisect_right(_CUMULATIVE, u)
    return _VENUES[i if i < _LAST else _LAST]      # min(i, _LAST) without the builtin's keyword parsing


def pick_venue(rng: np.random.Generator) -> str:
    return venue_at(float(rng.random()))


def pick_venues(rng: np.random.Generator, n: int) -> list[str]:
    """n distinct venues, each drawn by market share among those not yet taken (how a sweep's
    router works down the venues quoting the price)."""
    out: list[str] = []
    while len(out) < n:
        venue = venue_at(float(rng.random()))
        if venue not in out:
            out.append(venue)
    return out


def pick_venues_from(u: float, n: int) -> list[str]:
    """n distinct venues by market share from one uniform (a golden-ratio sequence of draws)."""
    out: list[str] = []
    k = 0
    while len(out) < n:
        venue = venue_at((u + k * _GOLDEN) % 1.0)
        k += 1
        if venue not in out:
            out.append(venue)
    return out


_GOLDEN = 0.6180339887498949
