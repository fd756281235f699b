"""The 21 hidden scenario subtypes, each a function that drafts prints inside its footprint.

Footprints are the contract in docs/flow_footprints.md. A subtype function returns None when the
market of the moment cannot host it (no suitable expiry, strike or premium); the caller then
picks another subtype or family.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from options_svc.legs import (
    PLACE_ABOVE_ASK, PLACE_ASK, PLACE_BELOW_BID, PLACE_BID, PLACE_MID, Draft, ScenarioContext,
    atm_strike, draw_size, pick_venue, pick_venues, required_contracts, spaced_times,
    split_total, strikes_in_otm, within_span,
)
from synthmarket import chain
from synthmarket.profiles import NEUTRAL_NOISE

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

TARGET_EVENT_PREMIUM = 30_000.0     # comfortably above the classifier's $25k floor
MAX_ATTEMPTS = 5


def _total_premium(drafts: list[Draft]) -> float:
    return sum(d.premium for d in drafts)


def _mleg_id(ctx: ScenarioContext, n: int = 0) -> str:
    return f"m-{ctx.symbol}-{ctx.ts}-{ctx.scenario_key}-{n}"


def _choice(rng: Rng, items: list):
    return items[int(rng.integers(len(items)))]


def _nearest(items: list[float], target: float) -> float:
    return min(items, key=lambda k: (abs(k - target), k))


def _keep_otm(ctx: ScenarioContext, drafts: list[Draft], lo: float, hi: float) -> list[Draft]:
    """Drop prints whose moneyness drifted outside [lo, hi] as the underlying moved."""
    return [d for d in drafts if lo <= chain.otm_frac(d.right, d.strike, d.underlying_price) <= hi]


def _live(ctx: ScenarioContext, times: list[int]) -> list[int]:
    return [t for t in times if ctx.in_session(t)]


# ---------------------------------------------------------------------------------------------
# institutional_directional


def _sweep(ctx: ScenarioContext, rng: Rng, right: str) -> list[Draft] | None:
    exps = ctx.expiries(10, 60)
    if not exps:
        return None
    expiry = _choice(rng, exps)
    strikes = strikes_in_otm(ctx, expiry, right, 0.0, 0.08)
    if not strikes:
        return None
    target = ctx.ul.price * (1 + (1 if right == "C" else -1) * 0.06 * rng.beta(1.2, 2.5))
    strike = _nearest(strikes, target)
    ask = ctx.quote(ctx.ts, ctx.ul.price, expiry, strike, right, max(ctx.ul.execution_iv_shock, 0)).ask
    need = required_contracts(100_000 * 1.02, ask)
    if need > 2000:
        return None
    total = min(max(draw_size(rng, 200, 2000), need), 2000)
    # Thinner books force the order across more venues.
    n = 3 + int(rng.binomial(3, 0.25 + 0.5 * (1.0 - ctx.session.liquidity_level)))
    sizes = split_total(rng, total, n, 10, 2000)
    if sizes is None:
        return None
    max_gap = min(15, 49 // (n - 1))
    times = [ctx.ts]
    for _ in range(n - 1):
        times.append(times[-1] + int(rng.integers(1, max_gap + 1)))
    venues = pick_venues(rng, n)
    out = []
    for i, (t, size, venue) in enumerate(zip(times, sizes, venues)):
        place = PLACE_ASK if i == 0 or rng.random() < 0.5 else PLACE_ABOVE_ASK
        out.append(ctx.fill(rng, t, expiry, strike, right, place, size, venue,
                            condition=chain.COND_ISO, ul=ctx.ul))
    return out if _total_premium(out) >= 100_000 else None


def call_sweep(ctx: ScenarioContext, rng: Rng) -> list[Draft] | None:
    return _sweep(ctx, rng, "C")


def put_sweep(ctx: ScenarioContext, rng: Rng) -> list[Draft] | None:
    return _sweep(ctx, rng, "P")


def ask_lift_accumulation(ctx: ScenarioContext, rng: Rng) -> list[Draft] | None:
    right = "C" if rng.random() < 0.7 else "P"
    exps = ctx.expiries(20, 90)
    if not exps:
        return None
    expiry = _choice(rng, exps)
    strikes = strikes_in_otm(ctx, expiry, right, 0.01, 0.08) or strikes_in_otm(ctx, expiry, right, 0.0, 0.09)
    if not strikes:
        return None
    strike = _choice(rng, strikes[: max(3, len(strikes) // 2)])
    n = int(rng.integers(4, 9))
    times = _live(ctx, spaced_times(rng, ctx.ts, n, 5_000, 60_000))
    ask0 = ctx.quote(ctx.ts, ctx.ul.price, expiry, strike, right, max(ctx.ul.execution_iv_shock, 0)).ask
    each = required_contracts(100_000 * 1.1 / max(len(times), 1), ask0)
    if each > 400 or len(times) < 4:
        return None
    out = [ctx.fill(rng, t, expiry, strike, right, PLACE_ASK, min(max(draw_size(rng, 50, 400), each), 400),
                    pick_venue(rng)) for t in times]
    out = _keep_otm(ctx, out, 0.0, 0.10)
    if len(out) < 4 or _total_premium(out) < 100_000:
        return None
    return out


def far_dated_conviction(ctx: ScenarioContext, rng: Rng) -> list[Draft] | None:
    right = "C" if rng.random() < 0.75 else "P"
    exps = ctx.expiries(180, 720)
    if not exps:
        return None
    expiry = _choice(rng, exps)
    strikes = strikes_in_otm(ctx, expiry, right, 0.0, 0.18)
    if not strikes:
        return None
    strike = _choice(rng, strikes)
    n = 1 if rng.random() < 0.6 else 2
    times = _live(ctx, spaced_times(rng, ctx.ts, n, 2_000, 40_000))
    ask = ctx.quote(ctx.ts, ctx.ul.price, expiry, strike, right, max(ctx.ul.execution_iv_shock, 0)).ask
    each = required_contracts(250_000 * 1.05 / len(times), ask)
    if each > 3000:
        return None
    out = [ctx.fill(rng, t, expiry, strike, right, PLACE_ASK, min(max(draw_size(rng, 500, 3000), each), 3000),
                    pick_venue(rng)) for t in times]
    out = _keep_otm(ctx, out, 0.0, 0.20)
    return out if out and _total_premium(out) >= 250_000 else None


# ---------------------------------------------------------------------------------------------
# retail_whale


def _chase(ctx: ScenarioContext, rng: Rng, right: str) -> list[Draft] | None:
    exps = ctx.expiries(0, 7)
    if not exps:
        return None
    # A chasing crowd is louder: more prints per burst in a retail_chase tape.
    n = int(rng.integers(8 if ctx.regime == "retail_chase" else 5, 16))
    times = _live(ctx, within_span(rng, ctx.ts, n, 5_000, 60_000))
    if len(times) < 5:
        return None
    # The nearest expiry first (0DTE where it exists); later ones only when it is too cheap to matter.
    for expiry in exps:
        strikes = strikes_in_otm(ctx, expiry, right, 0.012, 0.05)
        if not strikes:
            continue
        strike = _choice(rng, strikes[:3])
        ask = ctx.quote(ctx.ts, ctx.ul.price, expiry, strike, right, max(ctx.ul.execution_iv_shock, 0)).ask
        if ask < 0.05:
            continue
        each_min = required_contracts(TARGET_EVENT_PREMIUM / len(times), ask)
        each_max = int(450_000 / (len(times) * ask * 100))
        if each_min > 300 or each_max < 10:
            continue
        lo, hi = max(10, each_min), min(300, each_max)
        if lo > hi:
            continue
        out = [ctx.fill(rng, t, expiry, strike, right, PLACE_ASK, draw_size(rng, lo, hi), pick_venue(rng))
               for t in times]
        out = _keep_otm(ctx, out, 0.01, 0.06)
        if len(out) >= 5 and 25_000 <= _total_premium(out) <= 500_000:
            return out
        return None
    return None


def zero_dte_call_chase(ctx: ScenarioContext, rng: Rng) -> list[Draft] | None:
    return _chase(ctx, rng, "C")


def short_dated_put_panic(ctx: ScenarioContext, rng: Rng) -> list[Draft] | None:
    return _chase(ctx, rng, "P")


def attention_contract_spike(ctx: ScenarioContext, rng: Rng) -> list[Draft] | None:
    right = "C" if rng.random() < 0.75 else "P"
    exps = ctx.expiries(0, 14)
    rng.shuffle(exps)
    n = int(rng.integers(10 if ctx.regime == "retail_chase" else 6, 21))
    times = _live(ctx, within_span(rng, ctx.ts, n, 10_000, 88_000))
    if len(times) < 6:
        return None
    for expiry in exps:
        strikes = strikes_in_otm(ctx, expiry, right, 0.085, 0.24)
        if len(strikes) > 8:
            # A handful of candidates is enough, and pricing the whole wing is slow.
            strikes = [strikes[int(i)] for i in np.linspace(0, len(strikes) - 1, 8)]
        priced = []
        for k in strikes:
            ask = ctx.quote(ctx.ts, ctx.ul.price, expiry, k, right, max(ctx.ul.execution_iv_shock, 0)).ask
            if 0.05 <= ask <= 1.30:
                priced.append((k, ask))
        if not priced:
            continue
        strike, ask = _choice(rng, priced)
        each_min = max(20, required_contracts(TARGET_EVENT_PREMIUM / len(times), ask))
        if each_min > 500:
            continue
        out = [ctx.fill(rng, t, expiry, strike, right, PLACE_ASK, draw_size(rng, each_min, 500), pick_venue(rng))
               for t in times]
        out = [d for d in _keep_otm(ctx, out, 0.08, 0.25) if d.price <= 1.50]
        return out if len(out) >= 6 else None
    return None


# ---------------------------------------------------------------------------------------------
# event_driven (event symbols only)


def _first_post_event_expiry(ctx: ScenarioContext):
    exps = ctx.expiries(1, 10)
    return exps[0] if exps else None


def earnings_vol_probe(ctx: ScenarioContext, rng: Rng) -> list[Draft] | None:
    expiry = _first_post_event_expiry(ctx)
    if expiry is None:
        return None
    if rng.random() < 0.55:
        k_call = k_put = atm_strike(ctx, expiry)
    else:
        calls = strikes_in_otm(ctx, expiry, "C", 0.02, 0.05)
        puts = strikes_in_otm(ctx, expiry, "P", 0.02, 0.05)
        if not calls or not puts:
            return None
        k_call, k_put = _choice(rng, calls), _choice(rng, puts)
    shock = max(ctx.ul.execution_iv_shock, 0)
    cost = (ctx.quote(ctx.ts, ctx.ul.price, expiry, k_call, "C", shock).ask
            + ctx.quote(ctx.ts, ctx.ul.price, expiry, k_put, "P", shock).ask)
    size = max(draw_size(rng, 50, 500), required_contracts(TARGET_EVENT_PREMIUM, cost))
    if size > 500:
        return None
    venue, mlid = pick_venue(rng), _mleg_id(ctx)
    return [ctx.fill(rng, ctx.ts, expiry, k, r, PLACE_ASK, size, venue, condition=chain.COND_MLEG,
                     multi_leg_id=mlid, ul=ctx.ul) for k, r in ((k_call, "C"), (k_put, "P"))]


def _event_burst(ctx: ScenarioContext, rng: Rng, expiry, right: str, otm_hi: float) -> list[Draft] | None:
    strikes = strikes_in_otm(ctx, expiry, right, 0.002, otm_hi - 0.01)
    if not strikes:
        return None
    strike = _choice(rng, strikes)
    n = int(rng.integers(3, 9))
    times = _live(ctx, spaced_times(rng, ctx.ts, n, 2_000, 30_000))
    ask = ctx.quote(ctx.ts, ctx.ul.price, expiry, strike, right, max(ctx.ul.execution_iv_shock, 0)).ask
    each_min = max(20, required_contracts(TARGET_EVENT_PREMIUM / max(len(times), 1), ask))
    if each_min > 400 or len(times) < 3:
        return None
    out = [ctx.fill(rng, t, expiry, strike, right, PLACE_ASK, draw_size(rng, each_min, 400), pick_venue(rng))
           for t in times]
    out = _keep_otm(ctx, out, 0.0, otm_hi)
    return out if len(out) >= 3 else None


def _lean(ctx: ScenarioContext, rng: Rng) -> str:
    drift = ctx.ul.drift_bps_per_min or ctx.ul.underlying_move_bps
    p_call = 0.7 if drift > 0 else 0.3 if drift < 0 else 0.5
    return "C" if rng.random() < p_call else "P"


def pre_event_directional_ramp(ctx: ScenarioContext, rng: Rng) -> list[Draft] | None:
    if ctx.after_event:
        return None
    expiry = _first_post_event_expiry(ctx)
    if expiry is None:
        return None
    return _event_burst(ctx, rng, expiry, _lean(ctx, rng), 0.05)


def post_gap_followthrough(ctx: ScenarioContext, rng: Rng) -> list[Draft] | None:
    if not ctx.after_event:
        return None
    # Follow the gap; without a known gap, the name's post-event drift.
    lean = ctx.gap_sign or ctx.ul.drift_bps_per_min or ctx.ul.underlying_move_bps
    right = "C" if lean >= 0 else "P"
    exps = ctx.expiries(0, 14)
    if not exps:
        return None
    return _event_burst(ctx, rng, _choice(rng, exps[:3]), right, 0.04)


# ---------------------------------------------------------------------------------------------
# vol_seller


def _write(ctx: ScenarioContext, rng: Rng, right: str, total_lo: int, total_hi: int) -> list[Draft] | None:
    exps = ctx.expiries(14, 60)
    if not exps:
        return None
    expiry = _choice(rng, exps)
    strikes = strikes_in_otm(ctx, expiry, right, 0.035, 0.095)
    if not strikes:
        return None
    strike = _choice(rng, strikes)
    bid = ctx.quote(ctx.ts, ctx.ul.price, expiry, strike, right).bid
    need = max(total_lo, required_contracts(TARGET_EVENT_PREMIUM, max(bid - 0.03, 0.01)))
    if need > total_hi or bid < 0.05:
        return None
    total = min(max(draw_size(rng, total_lo, total_hi), need), total_hi)
    n = int(rng.integers(1, 4))
    sizes = split_total(rng, total, n, 10, total_hi)
    if sizes is None:
        return None
    times = _live(ctx, spaced_times(rng, ctx.ts, n, 1_000, 20_000))
    out = [ctx.fill(rng, t, expiry, strike, right, PLACE_BID if rng.random() < 0.75 else PLACE_BELOW_BID,
                    sz, pick_venue(rng)) for t, sz in zip(times, sizes)]
    out = _keep_otm(ctx, out, 0.03, 0.10)
    if not out or sum(d.size for d in out) < total_lo:
        return None
    return out


def covered_call_overwrite(ctx: ScenarioContext, rng: Rng) -> list[Draft] | None:
    return _write(ctx, rng, "C", 300, 5000)


def cash_secured_put_write(ctx: ScenarioContext, rng: Rng) -> list[Draft] | None:
    return _write(ctx, rng, "P", 200, 3000)


def short_straddle_harvest(ctx: ScenarioContext, rng: Rng) -> list[Draft] | None:
    exps = ctx.expiries(3, 45)
    if not exps:
        return None
    expiry = _choice(rng, exps)
    k = atm_strike(ctx, expiry)
    credit = (ctx.quote(ctx.ts, ctx.ul.price, expiry, k, "C").bid
              + ctx.quote(ctx.ts, ctx.ul.price, expiry, k, "P").bid)
    size = max(draw_size(rng, 100, 1000), required_contracts(TARGET_EVENT_PREMIUM, credit))
    if size > 1000:
        return None
    venue, mlid = pick_venue(rng), _mleg_id(ctx)
    return [ctx.fill(rng, ctx.ts, expiry, k, r, PLACE_BID, size, venue, condition=chain.COND_MLEG,
                     multi_leg_id=mlid, ul=ctx.ul) for r in ("C", "P")]


# ---------------------------------------------------------------------------------------------
# arbitrage: every leg at mid; put and call at one strike share an IV, so parity holds by build


def _mid_legs(ctx: ScenarioContext, rng: Rng, expiry, legs: list[tuple[float, str]]) -> list[Draft] | None:
    quotes = [ctx.quote(ctx.ts, ctx.ul.price, expiry, k, r) for k, r in legs]
    if any(q.bid < 0.05 for q in quotes):
        return None
    gross = sum(q.mid for q in quotes)
    size = max(draw_size(rng, 100, 2000), required_contracts(TARGET_EVENT_PREMIUM, gross))
    if size > 2000:
        return None
    venue, mlid = pick_venue(rng), _mleg_id(ctx)
    return [ctx.fill(rng, ctx.ts, expiry, k, r, PLACE_MID, size, venue, condition=chain.COND_MLEG,
                     multi_leg_id=mlid, ul=ctx.ul) for k, r in legs]


def _two_strikes(ctx: ScenarioContext, rng: Rng, expiry) -> tuple[float, float] | None:
    inc = chain.strike_increment(ctx.ul.price, (expiry - ctx.today).days, ctx.symbol)
    k0 = atm_strike(ctx, expiry)
    k1 = round(k0 - inc * int(rng.integers(0, 3)), 4)
    k2 = round(k1 + inc * int(rng.integers(1, 5)), 4)
    return (k1, k2) if k1 > 0 else None


def parity_vertical(ctx: ScenarioContext, rng: Rng) -> list[Draft] | None:
    exps = ctx.expiries(7, 120)
    if not exps:
        return None
    expiry = _choice(rng, exps)
    ks = _two_strikes(ctx, rng, expiry)
    if ks is None:
        return None
    right = "C" if rng.random() < 0.5 else "P"
    return _mid_legs(ctx, rng, expiry, [(ks[0], right), (ks[1], right)])


def conversion_reversal(ctx: ScenarioContext, rng: Rng) -> list[Draft] | None:
    exps = ctx.expiries(7, 180)
    if not exps:
        return None
    expiry = _choice(rng, exps)
    inc = chain.strike_increment(ctx.ul.price, (expiry - ctx.today).days, ctx.symbol)
    k = round(atm_strike(ctx, expiry) + inc * int(rng.integers(-2, 3)), 4)
    return _mid_legs(ctx, rng, expiry, [(k, "C"), (k, "P")])


def box_spread(ctx: ScenarioContext, rng: Rng) -> list[Draft] | None:
    exps = ctx.expiries(30, 365)
    if not exps:
        return None
    expiry = _choice(rng, exps)
    ks = _two_strikes(ctx, rng, expiry)
    if ks is None:
        return None
    k1, k2 = ks
    return _mid_legs(ctx, rng, expiry, [(k1, "C"), (k2, "C"), (k2, "P"), (k1, "P")])


# ---------------------------------------------------------------------------------------------
# hedge_reactive (DTE <= 2, gamma-heavy strike, |OTM| <= 0.75%)

HEDGE_OTM = 0.0075
HEDGE_START_OTM = 0.006     # start well inside the band so a drifting spot rarely leaves it


def _hedge_expiry(ctx: ScenarioContext):
    exps = ctx.expiries(0, 2)
    return exps[0] if exps else None


def _hedge(ctx: ScenarioContext, rng: Rng, strike: float, right: str, n_lo: int, n_hi: int,
           size_lo: int, size_hi: int, place: str) -> list[Draft] | None:
    expiry = _hedge_expiry(ctx)
    if expiry is None or abs(chain.otm_frac(right, strike, ctx.ul.price)) > HEDGE_START_OTM:
        return None
    n = int(rng.integers(n_lo, n_hi + 1))
    times = _live(ctx, within_span(rng, ctx.ts, n, 10_000, 110_000))
    shock = max(ctx.ul.execution_iv_shock, 0) * (1 if place == PLACE_ASK else -0.5)
    q = ctx.quote(ctx.ts, ctx.ul.price, expiry, strike, right, shock)
    ref = q.ask if place == PLACE_ASK else q.bid
    each_min = max(size_lo, required_contracts(TARGET_EVENT_PREMIUM / max(len(times), 1), max(ref, 0.01)))
    if each_min > size_hi or ref < 0.03:
        return None
    out = [ctx.fill(rng, t, expiry, strike, right, place, draw_size(rng, each_min, size_hi), pick_venue(rng))
           for t in times]
    out = [d for d in out if abs(chain.otm_frac(d.right, d.strike, d.underlying_price)) <= HEDGE_OTM]
    return out if len(out) >= n_lo else None


def gamma_pinch_call_hedge(ctx: ScenarioContext, rng: Rng) -> list[Draft] | None:
    return _hedge(ctx, rng, chain.gamma_strike_nearest(ctx.ul.price), "C", 3, 8, 100, 800, PLACE_ASK)


def reactive_put_wall(ctx: ScenarioContext, rng: Rng) -> list[Draft] | None:
    if ctx.ul.underlying_move_bps >= -5.0:
        return None
    return _hedge(ctx, rng, chain.gamma_strike_below(ctx.ul.price), "P", 3, 8, 100, 800, PLACE_ASK)


def dealer_unwind(ctx: ScenarioContext, rng: Rng) -> list[Draft] | None:
    right = "C" if rng.random() < 0.5 else "P"
    return _hedge(ctx, rng, chain.gamma_strike_nearest(ctx.ul.price), right, 2, 5, 300, 2000, PLACE_BID)


# ---------------------------------------------------------------------------------------------
# neutral_noise: tiny prints, never labeled flow


def _noise_contract(ctx: ScenarioContext, rng: Rng):
    exps = ctx.expiries(0, 120)
    expiry = _choice(rng, exps[: max(4, len(exps) // 2)])
    right = "C" if rng.random() < 0.55 else "P"
    strikes = strikes_in_otm(ctx, expiry, right, -0.05, 0.10)
    return (expiry, _choice(rng, strikes), right) if strikes else None


def single_print_mid(ctx: ScenarioContext, rng: Rng) -> list[Draft] | None:
    picked = _noise_contract(ctx, rng)
    if picked is None:
        return None
    d = ctx.fill(rng, ctx.ts, *picked, PLACE_MID, int(rng.integers(1, 10)), pick_venue(rng), ul=ctx.ul)
    if d.bid is None or d.bid <= 0.0:
        return None
    d.size = max(1, min(d.size, int(7_999 // (d.price * 100))))
    return [d] if d.premium < 8_000 else None


def two_sided_scalp(ctx: ScenarioContext, rng: Rng) -> list[Draft] | None:
    picked = _noise_contract(ctx, rng)
    if picked is None:
        return None
    t2 = ctx.ts + int(rng.integers(1_000, 20_001))
    if not ctx.in_session(t2):
        return None
    first, second = (PLACE_ASK, PLACE_BID) if rng.random() < 0.5 else (PLACE_BID, PLACE_ASK)
    return [ctx.fill(rng, ctx.ts, *picked, first, int(rng.integers(1, 10)), pick_venue(rng), ul=ctx.ul),
            ctx.fill(rng, t2, *picked, second, int(rng.integers(1, 10)), pick_venue(rng))]


def stale_quote_noise(ctx: ScenarioContext, rng: Rng) -> list[Draft] | None:
    picked = _noise_contract(ctx, rng)
    if picked is None:
        return None
    d = ctx.fill(rng, ctx.ts, *picked, PLACE_MID, int(rng.integers(1, 10)), pick_venue(rng), ul=ctx.ul)
    if rng.random() < 0.4:
        d.bid = d.ask = None
        d.quote_age_ms = 0
    else:
        d.quote_age_ms = int(rng.integers(2_000, 30_001))
    # The print trades away from a quote that no longer reflects the market.
    d.price = round(max(d.price + 0.01 * int(rng.integers(-3, 4)), 0.01), 2)
    return [d]


SCENARIOS: dict[str, ScenarioFn] = {
    "call_sweep": call_sweep,
    "put_sweep": put_sweep,
    "ask_lift_accumulation": ask_lift_accumulation,
    "far_dated_conviction": far_dated_conviction,
    "0dte_call_chase": zero_dte_call_chase,
    "short_dated_put_panic": short_dated_put_panic,
    "attention_contract_spike": attention_contract_spike,
    "earnings_vol_probe": earnings_vol_probe,
    "pre_event_directional_ramp": pre_event_directional_ramp,
    "post_gap_followthrough": post_gap_followthrough,
    "covered_call_overwrite": covered_call_overwrite,
    "cash_secured_put_write": cash_secured_put_write,
    "short_straddle_harvest": short_straddle_harvest,
    "parity_vertical": parity_vertical,
    "conversion_reversal": conversion_reversal,
    "box_spread": box_spread,
    "gamma_pinch_call_hedge": gamma_pinch_call_hedge,
    "reactive_put_wall": reactive_put_wall,
    "dealer_unwind": dealer_unwind,
    "single_print_mid": single_print_mid,
    "two_sided_scalp": two_sided_scalp,
    "stale_quote_noise": stale_quote_noise,
}
assert set(SCENARIOS) == set(ALL_SUBTYPES)


def build(subtype: str, ctx: ScenarioContext, rng: Rng, attempts: int = MAX_ATTEMPTS) -> list[Draft] | None:
    """Draft one scenario of ``subtype``, retrying fresh parameters a few times."""
    fn = SCENARIOS[subtype]
    for _ in range(attempts):
        drafts = fn(ctx, rng)
        if drafts:
            return drafts
    return None
