"""The five operator presets and exactly what each one changes in the regime engine."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from types import MappingProxyType

from synthmarket.domain.regimes import REGIME_IDS


class SyntheticControlPresetId(str, Enum):
    BALANCED_DEMO = "balanced_demo"
    EVENT_DAY = "event_day"
    DEALER_DAY = "dealer_day"
    RETAIL_CHASE = "retail_chase"
    QUIET_RANGE = "quiet_range"


def _frozen(mapping: dict) -> Mapping:
    return MappingProxyType(dict(mapping))


@dataclass(frozen=True)
class PresetSpec:
    """What a preset changes. Every number here is read by the regime engine.

    - ``regime_bias``: multiplies the Markov transition probability *into* each regime, so a
      preset tilts which regimes the day visits without pinning it to one.
    - ``mean_regime_minutes``: mean dwell time of a regime; actual dwell times are irregular.
    - ``volatility_mult`` / ``spread_mult``: scale realised volatility and quoted spreads.
    - ``labeled_intensity``: scales the weight of the six labeled families against neutral noise.
    - ``events_per_session``: how many scheduled single-name events (earnings-like) a day holds.
    - ``family_bias``: extra tilt per scenario family on top of the regime's own mix.
    - ``catalyst_names``: (floor, cap) of names with earnings ahead kept on the event calendar all
      session (synthmarket.engine.events.calendar_listing): every name reporting within a few
      sessions up to the cap, and at least the floor (the names reporting soonest) on any day.
    """

    id: SyntheticControlPresetId
    label: str
    description: str
    regime_bias: Mapping[str, float]
    mean_regime_minutes: float
    volatility_mult: float
    spread_mult: float
    labeled_intensity: float
    events_per_session: int
    family_bias: Mapping[str, float] = field(default_factory=lambda: _frozen({}))
    catalyst_names: tuple[int, int] = (2, 4)


PRESETS: Mapping[SyntheticControlPresetId, PresetSpec] = _frozen(
    {
        SyntheticControlPresetId.BALANCED_DEMO: PresetSpec(
            id=SyntheticControlPresetId.BALANCED_DEMO,
            label="Balanced Demo",
            description="Every regime gets airtime; all six categories show up steadily.",
            regime_bias=_frozen(dict.fromkeys(REGIME_IDS, 1.0)),
            mean_regime_minutes=24.0,
            volatility_mult=1.0,
            spread_mult=1.0,
            labeled_intensity=1.0,
            events_per_session=3,
            catalyst_names=(2, 4),
        ),
        SyntheticControlPresetId.EVENT_DAY: PresetSpec(
            id=SyntheticControlPresetId.EVENT_DAY,
            label="Event Day",
            description="Scheduled catalysts dominate: event ramps, gaps and follow-through.",
            regime_bias=_frozen(
                {"event_ramp": 3.0, "trend_up": 1.2, "trend_down": 1.2, "mean_revert": 0.7,
                 "retail_chase": 0.9, "dealer_gamma": 0.8, "arb_calm": 0.5}
            ),
            mean_regime_minutes=26.0,
            volatility_mult=1.25,
            spread_mult=1.15,
            labeled_intensity=1.15,
            events_per_session=6,
            catalyst_names=(3, 6),
            family_bias=_frozen({"event_driven": 1.5}),
        ),
        SyntheticControlPresetId.DEALER_DAY: PresetSpec(
            id=SyntheticControlPresetId.DEALER_DAY,
            label="Dealer Day",
            description="Dealers short gamma near big strikes: pinning, choppy reversals, hedging.",
            regime_bias=_frozen(
                {"dealer_gamma": 3.0, "mean_revert": 1.4, "trend_up": 0.8, "trend_down": 0.8,
                 "retail_chase": 0.8, "event_ramp": 0.6, "arb_calm": 0.8}
            ),
            mean_regime_minutes=22.0,
            volatility_mult=1.1,
            spread_mult=1.05,
            labeled_intensity=1.05,
            events_per_session=2,
            catalyst_names=(2, 3),
            family_bias=_frozen({"hedge_reactive": 1.5}),
        ),
        SyntheticControlPresetId.RETAIL_CHASE: PresetSpec(
            id=SyntheticControlPresetId.RETAIL_CHASE,
            label="Retail Chase",
            description="Momentum and short-dated call chasing; louder tape, wider quotes.",
            regime_bias=_frozen(
                {"retail_chase": 3.0, "trend_up": 1.5, "trend_down": 0.8, "mean_revert": 0.6,
                 "event_ramp": 1.0, "dealer_gamma": 1.0, "arb_calm": 0.4}
            ),
            mean_regime_minutes=20.0,
            volatility_mult=1.4,
            spread_mult=1.3,
            labeled_intensity=1.3,
            events_per_session=3,
            catalyst_names=(2, 4),
            family_bias=_frozen({"retail_whale": 1.5}),
        ),
        SyntheticControlPresetId.QUIET_RANGE: PresetSpec(
            id=SyntheticControlPresetId.QUIET_RANGE,
            label="Quiet Range",
            description="A calm, range-bound session: tight quotes, low volatility, sparse flow.",
            regime_bias=_frozen(
                {"arb_calm": 3.0, "mean_revert": 2.0, "trend_up": 0.6, "trend_down": 0.6,
                 "retail_chase": 0.3, "event_ramp": 0.4, "dealer_gamma": 0.8}
            ),
            mean_regime_minutes=30.0,
            volatility_mult=0.65,
            spread_mult=0.8,
            labeled_intensity=0.7,
            events_per_session=1,
            catalyst_names=(2, 3),
            family_bias=_frozen({"arbitrage": 1.3, "vol_seller": 1.2}),
        ),
    }
)


def preset_spec(preset_id: SyntheticControlPresetId | str) -> PresetSpec:
    return PRESETS[SyntheticControlPresetId(preset_id)]
