"""Scenario-family weights and arrival intensity for one symbol given the session state."""

from __future__ import annotations

import math
from collections.abc import Mapping
from types import MappingProxyType

from synthmarket.domain.calendar import SESSION_MINUTES
from synthmarket.domain.presets import PresetSpec
from synthmarket.domain.profiles import FAMILY_IDS, NEUTRAL_NOISE, PUBLIC_PROFILE_IDS
from synthmarket.domain.profiles import SmartMoneyProfileId as P
from synthmarket.domain.regimes import Regime, SessionPhase
from synthmarket.domain.session import SessionState
from synthmarket.domain.universe import SymbolSpec

ID, RW, ED, VS, AR, HR = (p.value for p in (P.INSTITUTIONAL_DIRECTIONAL, P.RETAIL_WHALE, P.EVENT_DRIVEN,
                                            P.VOL_SELLER, P.ARBITRAGE, P.HEDGE_REACTIVE))

# Each regime's own mix of the six public families (every entry > 0: any category can show up).
REGIME_MIX: Mapping[Regime, Mapping[str, float]] = MappingProxyType({
    Regime.TREND_UP: {ID: 0.33, RW: 0.18, ED: 0.12, VS: 0.12, AR: 0.10, HR: 0.15},
    Regime.TREND_DOWN: {ID: 0.31, RW: 0.15, ED: 0.12, VS: 0.10, AR: 0.10, HR: 0.22},
    Regime.MEAN_REVERT: {ID: 0.14, RW: 0.11, ED: 0.10, VS: 0.26, AR: 0.18, HR: 0.20},
    Regime.RETAIL_CHASE: {ID: 0.12, RW: 0.40, ED: 0.12, VS: 0.10, AR: 0.10, HR: 0.18},
    Regime.EVENT_RAMP: {ID: 0.14, RW: 0.14, ED: 0.42, VS: 0.10, AR: 0.10, HR: 0.12},
    Regime.DEALER_GAMMA: {ID: 0.11, RW: 0.12, ED: 0.08, VS: 0.14, AR: 0.10, HR: 0.42},
    Regime.ARB_CALM: {ID: 0.11, RW: 0.11, ED: 0.08, VS: 0.26, AR: 0.32, HR: 0.14},
})
# The family a regime is "about": boosted on the regime's focus symbols.
HEADLINE: Mapping[Regime, str] = MappingProxyType({
    Regime.TREND_UP: ID, Regime.TREND_DOWN: ID, Regime.MEAN_REVERT: VS, Regime.RETAIL_CHASE: RW,
    Regime.EVENT_RAMP: ED, Regime.DEALER_GAMMA: HR, Regime.ARB_CALM: AR,
})
PHASE_TILT: Mapping[SessionPhase, Mapping[str, float]] = MappingProxyType({
    SessionPhase.OPEN: {ID: 1.3, RW: 1.3, VS: 0.7, AR: 0.7},
    SessionPhase.MIDDAY: {VS: 1.2, AR: 1.2},
    SessionPhase.POWER_HOUR: {HR: 1.5, RW: 1.2, VS: 1.1},
    SessionPhase.AFTER_EVENT: {ED: 1.8, ID: 1.1},
})
# Families the flow footprints keep off event symbols, and the one that lives only on them.
NOT_ON_EVENT_SYMBOLS = (ID, RW, HR)
EVENT_ONLY = ED
NEUTRAL_BASE = 0.85
FOCUS_HEADLINE_BOOST = 1.6
# Positioning around a catalyst dominates a name's flow while its event is on the calendar.
EVENT_SYMBOL_BOOST = 5.0

REGIME_ACTIVITY: Mapping[Regime, float] = MappingProxyType({
    Regime.TREND_UP: 1.1, Regime.TREND_DOWN: 1.15, Regime.MEAN_REVERT: 0.9, Regime.RETAIL_CHASE: 1.4,
    Regime.EVENT_RAMP: 1.2, Regime.DEALER_GAMMA: 1.1, Regime.ARB_CALM: 0.75,
})
BASE_ARRIVALS_PER_MIN = 0.5


def labeled_weights(regime: Regime, phase: SessionPhase, is_event: bool, is_focus: bool, spec: PresetSpec,
                    profile_weights: Mapping[str, float]) -> dict[str, float]:
    """Raw (unnormalised) weights of the six labeled families, in PUBLIC_PROFILE_IDS order.

    A pure function of discrete state (no cleanliness, no time): callers may memoise it.
    """
    mix = REGIME_MIX[regime]
    tilt = PHASE_TILT[phase]
    headline = HEADLINE[regime]
    raw: dict[str, float] = {}
    for fam in PUBLIC_PROFILE_IDS:
        w = mix[fam] * tilt.get(fam, 1.0) * spec.family_bias.get(fam, 1.0) * spec.labeled_intensity
        w *= profile_weights.get(fam, 1.0)
        if is_focus and fam == headline:
            w *= FOCUS_HEADLINE_BOOST
        if is_event:
            if fam in NOT_ON_EVENT_SYMBOLS:
                w = 0.0
            elif fam == EVENT_ONLY:
                w *= EVENT_SYMBOL_BOOST
        elif fam == EVENT_ONLY:
            w = 0.0
        raw[fam] = w
    return raw


def with_noise(labeled: Mapping[str, float], quote_cleanliness: float) -> dict[str, float]:
    """Add the neutral-noise weight to ``labeled_weights`` and normalise over FAMILY_IDS."""
    raw = dict(labeled)
    # Dirty quotes mean more stale-quote noise on the tape.
    raw[NEUTRAL_NOISE] = NEUTRAL_BASE * (1.0 + 0.3 * (1.0 - quote_cleanliness))
    total = sum(raw.values())
    return {fam: raw[fam] / total for fam in FAMILY_IDS}


def arrival_intensity(sym: SymbolSpec, state: SessionState, spec: PresetSpec) -> float:
    """Expected scenario arrivals per minute: thick at the open and in power hour, more on focus names."""
    m = state.minute_of_session
    season = 1.0 + 1.2 * math.exp(-m / 20.0) + 0.6 * math.exp(-(SESSION_MINUTES - m) / 30.0)
    x = BASE_ARRIVALS_PER_MIN * season * REGIME_ACTIVITY[state.regime] * spec.labeled_intensity
    if sym.symbol in state.focus_symbols:
        x *= 1.8
    if sym.symbol in state.event_symbols:
        x *= 2.2
    # Tighter, deeper names trade more options.
    return x * (0.6 / sym.typical_spread_bps) ** 0.3
