"""Coverage boost: a bounded multiplier for public profiles missing from the recent window."""

from __future__ import annotations

from synthmarket.domain.control import SyntheticControlState
from synthmarket.domain.profiles import PUBLIC_PROFILE_IDS
from synthmarket.domain.session import MAX_COVERAGE_BOOST, CoverageState

# Below this share of the window without a hit nothing happens; a profile absent the whole
# window gets the full boost. The curve is convex so a short gap barely nudges the mix.
GRACE_FRACTION = 0.25
CURVE_POWER = 1.5


def coverage_boost(profile_id: str, coverage: CoverageState, control: SyntheticControlState) -> float:
    if not control.coverage_assist or profile_id not in PUBLIC_PROFILE_IDS:
        return 1.0
    window_min = coverage.window_minutes if coverage.window_minutes > 0 else control.coverage_window_minutes
    window_ms = window_min * 60_000
    last = coverage.last_seen_ms.get(profile_id)
    hits = max(0, int(coverage.hits.get(profile_id, 0)))
    if last is None:
        # Never seen: missing for at least the whole window unless hits say otherwise.
        missing = 0.0 if hits > 0 else float(window_ms)
    else:
        missing = float(max(0, coverage.now_ms - last))
    x = (missing / window_ms - GRACE_FRACTION) / (1.0 - GRACE_FRACTION)
    if not x > 0.0:
        return 1.0      # within the grace period, as most profiles are most of the time
    x = min(1.0, x)
    boost = 1.0 + (MAX_COVERAGE_BOOST - 1.0) * x**CURVE_POWER / (1.0 + hits)
    return min(MAX_COVERAGE_BOOST, max(1.0, boost))
