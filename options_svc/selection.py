"""Which family and subtype a scenario arrival becomes: placement rules, feasibility, regime tilts."""

from __future__ import annotations

from collections.abc import Mapping

from options_svc.families import EVENT_ONLY, HEDGE_START_OTM, NOT_ON_EVENT_SYMBOLS
from options_svc.legs import ScenarioContext
from synthmarket.domain import chain
from synthmarket.domain.profiles import FAMILY_IDS, NEUTRAL_NOISE
from synthmarket.domain.regimes import Regime
from synthmarket.domain.session import SessionState
from synthmarket.engine.events import IN_PLAY_DAYS, pending_reaction, sessions_until

# Regime ids as plain strings: read on every subtype choice, where enum ``.value`` lookups add up.
TREND_UP, TREND_DOWN, MEAN_REVERT, RETAIL_CHASE, EVENT_RAMP, DEALER_GAMMA, ARB_CALM = (
    Regime.TREND_UP.value, Regime.TREND_DOWN.value, Regime.MEAN_REVERT.value, Regime.RETAIL_CHASE.value,
    Regime.EVENT_RAMP.value, Regime.DEALER_GAMMA.value, Regime.ARB_CALM.value,
)


def _hedge_ready(ctx: ScenarioContext) -> tuple[bool, bool]:
    """(nearest gamma strike close enough, gamma strike below close enough) with a front expiry."""
    if not ctx.expiries(0, chain.FRONT_EXPIRY_MAX_DTE):
        return False, False
    s = ctx.ul.price
    near = abs(chain.gamma_strike_nearest(s) - s) / s <= HEDGE_START_OTM
    below = (s - chain.gamma_strike_below(s)) / s <= HEDGE_START_OTM
    return near, below


def _sessions_to_earnings(ctx: ScenarioContext) -> int:
    """Sessions until the symbol's next earnings reaction (0 without one on the calendar)."""
    reacts = pending_reaction(ctx.symbol, ctx.today)
    return sessions_until(ctx.today, reacts) if reacts is not None else 0


def subtype_weights(family: str, ctx: ScenarioContext) -> dict[str, float]:
    """Relative weight of each subtype of ``family`` now; 0 where the market cannot host it."""
    regime = ctx.regime
    if family == "institutional_directional":
        up, down = regime == TREND_UP, regime == TREND_DOWN
        return {
            "call_sweep": 2.0 if up else 0.6 if down else 1.0,
            "put_sweep": 2.0 if down else 0.5 if up else 0.8,
            "ask_lift_accumulation": 1.0,
            "far_dated_conviction": 0.7,
        }
    if family == "retail_whale":
        chase = regime in (RETAIL_CHASE, TREND_UP)
        return {
            "0dte_call_chase": 2.0 if chase else 1.0,
            "short_dated_put_panic": 1.5 if regime == TREND_DOWN else 0.6,
            "attention_contract_spike": 1.0 if regime == RETAIL_CHASE else 0.7,
        }
    if family == "event_driven":
        if ctx.after_event:
            return {"earnings_vol_probe": 0.0, "pre_event_directional_ramp": 0.0, "post_gap_followthrough": 1.0}
        calm = regime in (ARB_CALM, MEAN_REVERT)
        # Weeks ahead of a report, event money buys the expiry's vol; directional bets wait for the
        # last sessions before the number.
        early = _sessions_to_earnings(ctx) > IN_PLAY_DAYS
        return {
            "earnings_vol_probe": (1.5 if calm else 1.0) * (1.5 if early else 1.0),
            "pre_event_directional_ramp": (1.5 if regime == EVENT_RAMP else 1.0) * (0.2 if early else 1.0),
            "post_gap_followthrough": 0.0,
        }
    if family == "vol_seller":
        calm = regime in (ARB_CALM, MEAN_REVERT)
        return {"covered_call_overwrite": 1.0, "cash_secured_put_write": 1.0,
                "short_straddle_harvest": 2.0 if calm else 0.8}
    if family == "arbitrage":
        return {"parity_vertical": 1.0, "conversion_reversal": 1.0, "box_spread": 0.8}
    if family == "hedge_reactive":
        near, below = _hedge_ready(ctx)
        dropping = ctx.ul.underlying_move_bps < -5.0
        return {
            "gamma_pinch_call_hedge": 1.0 if near else 0.0,
            "reactive_put_wall": 2.0 if below and dropping else 0.0,
            "dealer_unwind": (1.5 if regime == DEALER_GAMMA else 0.8) if near else 0.0,
        }
    if family == NEUTRAL_NOISE:
        return noise_weights(ctx.session)
    raise KeyError(family)


def noise_weights(session: SessionState) -> dict[str, float]:
    """The neutral noise's subtype weights: dirty quote regimes leave more stale or missing quotes."""
    dirty = 1.0 - min(max(session.quote_cleanliness, 0.0), 1.0)
    stale = 0.08 + 0.6 * dirty      # never 0: the noise always hosts (stale_quote_noise)
    return {"single_print_mid": (1.0 - stale) * 0.6, "two_sided_scalp": (1.0 - stale) * 0.4,
            "stale_quote_noise": stale}


# family_allowed depends only on whether the symbol is an event symbol: both answers as sets.
_ALLOWED_ON_EVENT_SYMBOL = frozenset(f for f in FAMILY_IDS if f not in NOT_ON_EVENT_SYMBOLS)
_ALLOWED_ELSEWHERE = frozenset(f for f in FAMILY_IDS if f not in EVENT_ONLY)


def allowed_families(is_event_symbol: bool) -> frozenset[str]:
    """The families ``family_allowed`` admits on an event symbol (or on any other symbol)."""
    return _ALLOWED_ON_EVENT_SYMBOL if is_event_symbol else _ALLOWED_ELSEWHERE


def family_allowed(family: str, ctx: ScenarioContext) -> bool:
    """The placement rules of the footprint doc: event families on event symbols only, and vice versa."""
    if ctx.is_event_symbol:
        return family not in NOT_ON_EVENT_SYMBOLS
    return family not in EVENT_ONLY


def can_host(family: str, ctx: ScenarioContext) -> bool:
    """Placement rules allow the family here and at least one of its subtypes is possible now."""
    return family_allowed(family, ctx) and any(w > 0.0 for w in subtype_weights(family, ctx).values())


def pick(weights: Mapping[str, float], u: float) -> str | None:
    """Inverse-CDF pick over positive weights in a fixed (insertion) order; None when all are 0."""
    total = sum(w for w in weights.values() if w > 0.0)
    if total <= 0.0:
        return None
    x = u * total
    last = None
    for key, w in weights.items():
        if w <= 0.0:
            continue
        last = key
        x -= w
        if x < 0.0:
            return key
    return last
