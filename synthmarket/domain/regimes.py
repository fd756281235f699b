"""The market's regimes and the phases of a session: the words every service uses for market state."""

from __future__ import annotations

from enum import Enum


class Regime(str, Enum):
    TREND_UP = "trend_up"
    TREND_DOWN = "trend_down"
    MEAN_REVERT = "mean_revert"
    RETAIL_CHASE = "retail_chase"
    EVENT_RAMP = "event_ramp"
    DEALER_GAMMA = "dealer_gamma"
    ARB_CALM = "arb_calm"


REGIME_IDS: tuple[str, ...] = tuple(r.value for r in Regime)


class SessionPhase(str, Enum):
    OPEN = "open"
    MIDDAY = "midday"
    POWER_HOUR = "power_hour"
    AFTER_EVENT = "after_event"
