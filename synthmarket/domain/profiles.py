"""Public smart-money profile ids and the hidden scenario family names."""

from __future__ import annotations

from enum import Enum


class SmartMoneyProfileId(str, Enum):
    """The six public smart-money categories. A public contract: never rename."""

    INSTITUTIONAL_DIRECTIONAL = "institutional_directional"
    RETAIL_WHALE = "retail_whale"
    EVENT_DRIVEN = "event_driven"
    VOL_SELLER = "vol_seller"
    ARBITRAGE = "arbitrage"
    HEDGE_REACTIVE = "hedge_reactive"


PUBLIC_PROFILE_IDS: tuple[str, ...] = tuple(p.value for p in SmartMoneyProfileId)

# Scenario families are the six public profiles plus neutral noise. The family *names* are
# what the regime engine weights; the subtype labels stay inside options_svc.
NEUTRAL_NOISE = "neutral_noise"
FAMILY_IDS: tuple[str, ...] = PUBLIC_PROFILE_IDS + (NEUTRAL_NOISE,)


class Direction(str, Enum):
    BULLISH = "bullish"
    BEARISH = "bearish"
    NEUTRAL = "neutral"
