"""The hidden scenario families: subtype table, placement sets and dispatch to the 21 subtype functions.

Footprints are the contract in docs/flow_footprints.md. A subtype function returns None when the
market of the moment cannot host it (no suitable expiry, strike or premium); the caller then
picks another subtype or family.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from options_svc import directional, structural
from options_svc.legs import BIG_TICKET_SHARE, Draft, ScenarioContext
from options_svc.structural import HEDGE_OTM, HEDGE_START_OTM  # noqa: F401  (re-exported)
from synthmarket.domain.profiles import NEUTRAL_NOISE

Rng = np.random.Generator
ScenarioFn = Callable[[ScenarioContext, Rng], "list[Draft] | None"]

SUBTYPES: dict[str, tuple[str, ...]] = {
    "institutional_directional": ("call_sweep", "put_sweep", "ask_lift_accumulation", "far_dated_conviction"),
    "retail_whale": ("0dte_call_chase", "short_dated_put_panic", "attention_contract_spike"),
    "event_driven": ("earnings_vol_probe", "pre_event_directional_ramp", "post_gap_followthrough"),
    "vol_seller": ("covered_call_overwrite", "cash_secured_put_write", "short_straddle_harvest"),
    "arbitrage": ("parity_vertical", "conversion_reversal", "box_spread"),
    "hedge_reactive": ("gamma_pinch_call_hedge", "reactive_put_wall", "dealer_unwind"),
    NEUTRAL_NOISE: ("single_print_mid", "two_sided_scalp", "stale_quote_noise"),
}
FAMILY_OF: dict[str, str] = {s: f for f, subs in SUBTYPES.items() for s in subs}
ALL_SUBTYPES: tuple[str, ...] = tuple(FAMILY_OF)

# Families that never trade a name with a pending/just-released event, and the one that only does.
NOT_ON_EVENT_SYMBOLS = frozenset({"institutional_directional", "retail_whale", "hedge_reactive"})
EVENT_ONLY = frozenset({"event_driven"})

MAX_ATTEMPTS = 5


SCENARIOS: dict[str, ScenarioFn] = {
    "call_sweep": directional.call_sweep,
    "put_sweep": directional.put_sweep,
    "ask_lift_accumulation": directional.ask_lift_accumulation,
    "far_dated_conviction": directional.far_dated_conviction,
    "0dte_call_chase": directional.zero_dte_call_chase,
    "short_dated_put_panic": directional.short_dated_put_panic,
    "attention_contract_spike": directional.attention_contract_spike,
    "earnings_vol_probe": directional.earnings_vol_probe,
    "pre_event_directional_ramp": directional.pre_event_directional_ramp,
    "post_gap_followthrough": directional.post_gap_followthrough,
    "covered_call_overwrite": structural.covered_call_overwrite,
    "cash_secured_put_write": structural.cash_secured_put_write,
    "short_straddle_harvest": structural.short_straddle_harvest,
    "parity_vertical": structural.parity_vertical,
    "conversion_reversal": structural.conversion_reversal,
    "box_spread": structural.box_spread,
    "gamma_pinch_call_hedge": structural.gamma_pinch_call_hedge,
    "reactive_put_wall": structural.reactive_put_wall,
    "dealer_unwind": structural.dealer_unwind,
    "single_print_mid": structural.single_print_mid,
    "two_sided_scalp": structural.two_sided_scalp,
    "stale_quote_noise": structural.stale_quote_noise,
}
assert set(SCENARIOS) == set(ALL_SUBTYPES)


def build(subtype: str, ctx: ScenarioContext, rng: Rng, attempts: int = MAX_ATTEMPTS) -> list[Draft] | None:
    """Draft one scenario of ``subtype``, retrying fresh parameters a few times."""
    fn = SCENARIOS[subtype]
    ctx.big_ticket = bool(rng.random() < BIG_TICKET_SHARE)
    for _ in range(attempts):
        drafts = fn(ctx, rng)
        if drafts:
            return drafts
    return None
