"""Rolling coverage debt per public profile: what the generator emitted in the recent window."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Mapping
from types import MappingProxyType

from synthmarket.domain.calendar import MS_PER_MINUTE
from synthmarket.domain.control import SyntheticControlState
from synthmarket.domain.profiles import PUBLIC_PROFILE_IDS
from synthmarket.domain.session import CoverageState

BoostFn = Callable[[str, CoverageState, SyntheticControlState], float]


class CoverageTracker:
    """Counts scenarios per public profile over a rolling window; neutral noise never counts."""

    def __init__(self, window_minutes: int) -> None:
        self.window_minutes = int(window_minutes)
        self._events: deque[tuple[int, str]] = deque()
        self._hits: dict[str, int] = dict.fromkeys(PUBLIC_PROFILE_IDS, 0)
        self._last_seen: dict[str, int] = {}

    def set_window(self, window_minutes: int) -> None:
        self.window_minutes = int(window_minutes)

    def record(self, ts: int, family: str) -> None:
        if family not in self._hits:
            return
        self._events.append((ts, family))
        self._hits[family] += 1
        prev = self._last_seen.get(family)
        if prev is None or ts > prev:
            self._last_seen[family] = ts

    def _prune(self, now_ms: int) -> None:
        horizon = now_ms - self.window_minutes * MS_PER_MINUTE
        events = self._events
        while events and events[0][0] <= horizon:
            _, fam = events.popleft()
            self._hits[fam] -= 1

    def hits(self, now_ms: int) -> dict[str, int]:
        self._prune(now_ms)
        return dict(self._hits)

    def state(self, now_ms: int) -> CoverageState:
        self._prune(now_ms)
        return CoverageState(
            now_ms=now_ms,
            window_minutes=self.window_minutes,
            hits=MappingProxyType(dict(self._hits)),
            last_seen_ms=MappingProxyType(dict(self._last_seen)),
        )


def boosted_weights(weights: Mapping[str, float], coverage: CoverageState, control: SyntheticControlState,
                    boost_fn: BoostFn) -> tuple[dict[str, float], int]:
    """Each public family's weight times its coverage boost; returns (weights, boosts applied).

    With coverage assist off the weights pass through untouched and no boost is counted.
    """
    out = dict(weights)
    if not control.coverage_assist:
        return out, 0
    applied = 0
    for profile in PUBLIC_PROFILE_IDS:
        w = out.get(profile, 0.0)
        if w <= 0.0:
            continue
        boost = boost_fn(profile, coverage, control)
        if boost > 1.0:
            out[profile] = w * boost
            applied += 1
    return out, applied
