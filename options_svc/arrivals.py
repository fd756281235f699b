"""Scenario arrival times: a per-symbol self-exciting (Hawkes) process on a doubly-stochastic base rate.

Time is cut into fixed buckets aligned to the epoch. Within a bucket the base rate is the
engine's intensity (times a slow random multiplier) and arrivals come from Ogata thinning; every
draw is keyed by (seed, symbol, bucket, draw index), so the arrivals do not depend on how a caller
slices time into steps.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache

from synthmarket.domain import rng
from synthmarket.domain.regimes import Regime

BUCKET_MS = 10_000
DECAY_MS = 30_000.0              # excitation decays over tens of seconds
MOOD_MS = 120_000                # the doubly-stochastic multiplier changes every two minutes
MOOD_SIGMA = 0.5
_TAG_ARRIVAL = 0x4152524956414C   # fixed integer tags keep keyed draws cheap (no string hashing)
_TAG_MOOD = 0x4D4F4F44

# Branching ratio (expected children per arrival): chases and event ramps are the most contagious.
BRANCHING: dict[str, float] = {
    Regime.RETAIL_CHASE.value: 0.6,
    Regime.EVENT_RAMP.value: 0.55,
    Regime.TREND_UP.value: 0.45,
    Regime.TREND_DOWN.value: 0.5,
    Regime.DEALER_GAMMA.value: 0.45,
    Regime.MEAN_REVERT.value: 0.35,
    Regime.ARB_CALM.value: 0.3,
}
DEFAULT_BRANCHING = 0.4


def branching_ratio(regime: str) -> float:
    return BRANCHING.get(regime, DEFAULT_BRANCHING)


@lru_cache(maxsize=8192)
def _mood_at(seed: int, sym_key: int, period: int) -> float:
    z = rng.normal(seed, _TAG_MOOD, sym_key, period)
    return math.exp(MOOD_SIGMA * z - 0.5 * MOOD_SIGMA * MOOD_SIGMA)


def mood(seed: int, sym_key: int, ts: int) -> float:
    """A slowly varying, mean-one lognormal multiplier on the base rate (doubly stochastic)."""
    return _mood_at(seed, sym_key, ts // MOOD_MS)


def profile_rate_multiplier(weights: Mapping[str, float], profile_weights: Mapping[str, float]) -> float:
    """How much the operator's profile weights add to (or take from) a symbol's arrival rate.

    The engine folds profile weights into normalised family weights, which only moves share
    between families. Where one family already dominates (event_driven on an event symbol) that
    leaves a raised weight almost no room, so the operator's intent is also honoured in the
    arrival rate: the ratio of the weighted to the unweighted total, 1 / sum(w_f / pw_f).
    """
    pws = {fam: profile_weights[fam] for fam in profile_weights}
    if all(pw == 1.0 for pw in pws.values()):
        return 1.0
    unweighted = 0.0
    for fam, w in weights.items():
        pw = pws.get(fam, 1.0)
        unweighted += w / pw if pw > 0 else 0.0
    total = sum(weights.values())
    if unweighted <= 0.0 or total <= 0.0:
        return 1.0
    return total / unweighted


_MASK64 = (1 << 64) - 1
_GOLDEN = 0x9E3779B97F4A7C15


def _u(base: int, k: int) -> float:
    """The k-th uniform of a keyed stream: one splitmix64 round of (base + k * golden)."""
    z = (base + (k + 1) * _GOLDEN) & _MASK64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK64
    return ((z ^ (z >> 31)) >> 11) * (1.0 / (1 << 53))


@lru_cache(maxsize=1024)
def _symbol_stream(seed: int, sym_key: int) -> int:
    """``rng.mix(symbol_base)``: the state of ``rng.mix(symbol_base, bucket)`` before the bucket is folded in."""
    return rng.mix(rng.mix(seed, _TAG_ARRIVAL, sym_key))


def _bucket_base(seed: int, sym_key: int, bucket: int) -> int:
    """``rng.mix(rng.mix(seed, _TAG_ARRIVAL, sym_key), bucket)``, folding in only the bucket (one
    splitmix64 round) per call: this runs for every symbol in every bucket of the session."""
    z = ((_symbol_stream(seed, sym_key) ^ (bucket & _MASK64)) + _GOLDEN) & _MASK64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK64
    return z ^ (z >> 31)


@dataclass
class HawkesState:
    """Excitation of one symbol: extra arrivals per ms at ``at_ms``."""

    excitation: float = 0.0
    at_ms: int = 0

    def decay_to(self, ts: int) -> None:
        if ts > self.at_ms:
            self.excitation *= math.exp(-(ts - self.at_ms) / DECAY_MS)
            self.at_ms = ts


def bucket_arrivals(seed: int, sym_key: int, bucket: int, start: int, end: int, rate_per_min: float,
                    branching: float, state: HawkesState) -> list[int]:
    """Arrival times in [start, end) of one bucket, updating the excitation state in place.

    ``rate_per_min`` is the stationary rate the process should average: the immigrant rate is
    scaled by (1 - branching) so self-excitation clusters arrivals without inflating their count.
    """
    out: list[int] = []
    state.decay_to(start)
    excitation = state.excitation
    mu = max(rate_per_min, 0.0) * (1.0 - branching) / 60_000.0
    jump = branching / DECAY_MS
    t = float(start)
    k = 0
    base = _bucket_base(seed, sym_key, bucket)
    while True:
        lam_bar = mu + excitation
        if lam_bar <= 1e-15:
            break
        t_new = t - math.log(1.0 - _u(base, k)) / lam_bar
        if t_new >= end:
            break       # most buckets end here: the acceptance draw _u(base, k + 1) is not needed
        u2 = _u(base, k + 1)
        k += 2
        excitation *= math.exp(-(t_new - t) / DECAY_MS)
        t = t_new
        if u2 * lam_bar <= mu + excitation:
            out.append(int(t))
            excitation += jump
    state.excitation = excitation * math.exp(-(end - t) / DECAY_MS)
    state.at_ms = end
    return out
