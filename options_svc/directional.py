"""Buyer-led scenarios: institutional_directional, retail_whale and event_driven subtypes."""

from __future__ import annotations

import numpy as np

from options_svc import conditions as cond
from options_svc.legs import (
    PLACE_ABOVE_ASK,
    PLACE_ASK,
    TARGET_EVENT_PREMIUM,
    Draft,
    ScenarioContext,
    atm_strike,
    capped,
    choice,
    draw_size,
    keep_otm,
    live,
    mleg_id,
    nearest,
    over_cap,
    pick_venue,
    pick_venues,
    required_contracts,
    spaced_times,
    split_total,
    strikes_in_otm,
    total_premium,
    within_span,
)
from synthmarket.domain import chain

Rng = np.random.Generator


# ---------------------------------------------------------------------------------------------
# institutional_directional


def _sweep(ctx: ScenarioContext, rng: Rng, right: str) -> list[Draft] | None:
    exps = ctx.expiries(10, 60)
    if not exps:
        return None
    expiry = choice(rng, exps)
    strikes = strikes_in_otm(ctx, expiry, right, 0.0, 0.08)
    if not strikes:
        return None
    target = ctx.ul.price * (1 + (1 if right == "C" else -1) * 0.06 * rng.beta(1.2, 2.5))
    strike = nearest(strikes, target)
    quote = ctx.quote(ctx.ts, ctx.ul.price, expiry, strike, right, max(ctx.ul.execution_iv_shock, 0))
    ask = quote.ask
    need = required_contracts(100_000 * 1.02, ask)
    if need > 2000:
        return None
    # Thinner books force the order across more venues.
    n = 3 + int(rng.binomial(3, 0.25 + 0.5 * (1.0 - ctx.session.liquidity_level)))
    per_leg = capped(ctx, ask * 1.02, 10, 2000)
    total = min(max(draw_size(rng, 200, 2000), need), 2000, n * per_leg)
    sizes = split_total(rng, total, n, 10, per_leg)
    if sizes is None or total < max(need, 200):
        return None
    max_gap = min(15, 49 // (n - 1))
    times = [ctx.ts]
    for _ in range(n - 1):
        times.append(times[-1] + int(rng.integers(1, max_gap + 1)))
    venues = pick_venues(rng, n)
    # One price level across the venues, or walking the book a tick at a time.
    walk = rng.random() < 0.4
    out = []
    level = 0
    for i, (t, size, venue) in enumerate(zip(times, sizes, venues)):
        if walk and i > 0 and rng.random() < 0.6:
            level = min(level + 1, 3)
        out.append(ctx.fill(rng, t, expiry, strike, right, PLACE_ABOVE_ASK if level else PLACE_ASK, size, venue,
                            condition=chain.COND_ISOI, ul=ctx.underlying(t) if ctx.in_session(t) else ctx.ul, ticks=level,
                            quote=quote))
    return cond.each(out, rng, cond.SWEEP_LEG) if total_premium(out) >= 100_000 else None


def call_sweep(ctx: ScenarioContext, rng: Rng) -> list[Draft] | None:
    return _sweep(ctx, rng, "C")


def put_sweep(ctx: ScenarioContext, rng: Rng) -> list[Draft] | None:
    return _sweep(ctx, rng, "P")


def ask_lift_accumulation(ctx: ScenarioContext, rng: Rng) -> list[Draft] | None:
    right = "C" if rng.random() < 0.7 else "P"
    exps = ctx.expiries(20, 90)
    if not exps:
        return None
    expiry = choice(rng, exps)
    strikes = strikes_in_otm(ctx, expiry, right, 0.01, 0.08) or strikes_in_otm(ctx, expiry, right, 0.0, 0.09)
    if not strikes:
        return None
    strike = choice(rng, strikes[: max(3, len(strikes) // 2)])
    n = int(rng.integers(4, 9))
    times = live(ctx, spaced_times(rng, ctx.ts, n, 5_000, 60_000))
    ask0 = ctx.quote(ctx.ts, ctx.ul.price, expiry, strike, right, max(ctx.ul.execution_iv_shock, 0)).ask
    each = required_contracts(100_000 * 1.1 / max(len(times), 1), ask0)
    hi = capped(ctx, ask0 * 1.05, 50, 400)
    if each > hi or len(times) < 4:
        return None
    out = [ctx.fill(rng, t, expiry, strike, right, PLACE_ASK, min(max(draw_size(rng, 50, hi), each), hi),
                    pick_venue(rng)) for t in times]
    out = keep_otm(out, 0.0, 0.10)
    if len(out) < 4 or total_premium(out) < 100_000:
        return None
    return cond.each(out, rng, cond.ACCUMULATION)


def far_dated_conviction(ctx: ScenarioContext, rng: Rng) -> list[Draft] | None:
    right = "C" if rng.random() < 0.75 else "P"
    exps = ctx.expiries(180, 720)
    if not exps:
        return None
    expiry = choice(rng, exps)
    strikes = strikes_in_otm(ctx, expiry, right, 0.0, 0.18)
    if not strikes:
        return None
    strike = choice(rng, strikes)
    n = 1 if rng.random() < 0.6 else 2
    times = live(ctx, spaced_times(rng, ctx.ts, n, 2_000, 40_000))
    ask = ctx.quote(ctx.ts, ctx.ul.price, expiry, strike, right, max(ctx.ul.execution_iv_shock, 0)).ask
    each = required_contracts(250_000 * 1.05 / len(times), ask)
    hi = capped(ctx, ask * 1.05, 250, 3000)
    if each > hi or over_cap(ctx, ask * 1.05, 250):
        return None
    out = [ctx.fill(rng, t, expiry, strike, right, PLACE_ASK, min(max(draw_size(rng, 250, hi), each), hi),
                    pick_venue(rng)) for t in times]
    out = keep_otm(out, 0.0, 0.20)
    return cond.each(out, rng, cond.BLOCK) if out and total_premium(out) >= 250_000 else None


# ---------------------------------------------------------------------------------------------
# retail_whale


def _chase(ctx: ScenarioContext, rng: Rng, right: str) -> list[Draft] | None:
    exps = ctx.expiries(0, 7)
    if not exps:
        return None
    # A chasing crowd is louder: more prints per burst in a retail_chase tape.
    n = int(rng.integers(8 if ctx.regime == "retail_chase" else 5, 16))
    times = live(ctx, within_span(rng, ctx.ts, n, 5_000, 60_000))
    if len(times) < 5:
        return None
    # The nearest expiry first (0DTE where it exists); later ones only when it is too cheap to matter.
    for expiry in exps:
        strikes = strikes_in_otm(ctx, expiry, right, 0.012, 0.05)
        if not strikes:
            continue
        strike = choice(rng, strikes[:3])
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
        out = keep_otm(out, 0.01, 0.06)
        if len(out) >= 5 and 25_000 <= total_premium(out) <= 500_000:
            return cond.each(out, rng, cond.RETAIL_BURST)
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
    times = live(ctx, within_span(rng, ctx.ts, n, 10_000, 88_000))
    if len(times) < 6:
        return None
    for expiry in exps:
        strikes = strikes_in_otm(ctx, expiry, right, 0.085, 0.24)
        if len(strikes) > 5:
            # A handful of candidates is enough, and pricing the whole wing is slow: five spread evenly
            # over the wing, both ends included (the picks of np.linspace(0, len - 1, 5), without numpy).
            step = (len(strikes) - 1) / 4
            strikes = [strikes[int(i * step)] for i in range(4)] + [strikes[-1]]
        priced = []
        for k in strikes:
            ask = ctx.quote(ctx.ts, ctx.ul.price, expiry, k, right, max(ctx.ul.execution_iv_shock, 0)).ask
            if 0.05 <= ask <= 1.30:
                priced.append((k, ask))
        if not priced:
            continue
        strike, ask = choice(rng, priced)
        each_min = max(20, required_contracts(TARGET_EVENT_PREMIUM / len(times), ask))
        if each_min > 500:
            continue
        out = [ctx.fill(rng, t, expiry, strike, right, PLACE_ASK, draw_size(rng, each_min, 500), pick_venue(rng))
               for t in times]
        out = [d for d in keep_otm(out, 0.08, 0.25) if d.price <= 1.50]
        return cond.each(out, rng, cond.RETAIL_BURST) if len(out) >= 6 else None
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
        k_call, k_put = choice(rng, calls), choice(rng, puts)
    shock = max(ctx.ul.execution_iv_shock, 0)
    cost = (ctx.quote(ctx.ts, ctx.ul.price, expiry, k_call, "C", shock).ask
            + ctx.quote(ctx.ts, ctx.ul.price, expiry, k_put, "P", shock).ask)
    hi = capped(ctx, cost, 50, 500)
    size = max(draw_size(rng, 50, hi), required_contracts(TARGET_EVENT_PREMIUM, cost))
    if size > hi:
        return None
    venue, mlid = pick_venue(rng), mleg_id(ctx)
    legs = [ctx.fill(rng, ctx.ts, expiry, k, r, PLACE_ASK, size, venue, multi_leg_id=mlid, ul=ctx.ul)
            for k, r in ((k_call, "C"), (k_put, "P"))]
    return cond.order(legs, rng, cond.STRADDLE_BUY)


def _event_burst(ctx: ScenarioContext, rng: Rng, expiry, right: str, otm_hi: float) -> list[Draft] | None:
    strikes = strikes_in_otm(ctx, expiry, right, 0.002, otm_hi - 0.01)
    if not strikes:
        return None
    strike = choice(rng, strikes)
    n = int(rng.integers(3, 9))
    times = live(ctx, spaced_times(rng, ctx.ts, n, 2_000, 30_000))
    ask = ctx.quote(ctx.ts, ctx.ul.price, expiry, strike, right, max(ctx.ul.execution_iv_shock, 0)).ask
    each_min = max(20, required_contracts(TARGET_EVENT_PREMIUM / max(len(times), 1), ask))
    if each_min > 400 or len(times) < 3:
        return None
    out = [ctx.fill(rng, t, expiry, strike, right, PLACE_ASK, draw_size(rng, each_min, 400), pick_venue(rng))
           for t in times]
    out = keep_otm(out, 0.0, otm_hi)
    return cond.each(out, rng, cond.EVENT_BURST) if len(out) >= 3 else None


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
    return _event_burst(ctx, rng, choice(rng, exps[:3]), right, 0.04)
