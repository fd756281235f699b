"""Seller, structure and dealer scenarios: vol_seller, arbitrage, hedge_reactive and neutral noise."""

from __future__ import annotations

import datetime as dt

import numpy as np

from options_svc import conditions as cond
from options_svc.legs import (
    PLACE_ASK,
    PLACE_BELOW_BID,
    PLACE_BID,
    PLACE_MID,
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
    pick_venue,
    required_contracts,
    spaced_times,
    split_total,
    strikes_in_otm,
    within_span,
)
from synthmarket.domain import chain

Rng = np.random.Generator


# ---------------------------------------------------------------------------------------------
# vol_seller


def _write(ctx: ScenarioContext, rng: Rng, right: str, total_lo: int, total_hi: int) -> list[Draft] | None:
    exps = ctx.expiries(14, 60)
    if not exps:
        return None
    expiry = choice(rng, exps)
    strikes = strikes_in_otm(ctx, expiry, right, 0.035, 0.095)
    if not strikes:
        return None
    strike = choice(rng, strikes)
    bid = ctx.quote(ctx.ts, ctx.ul.price, expiry, strike, right).bid
    need = max(total_lo, required_contracts(TARGET_EVENT_PREMIUM, max(bid - 0.03, 0.01)))
    if need > total_hi or bid < 0.05:
        return None
    n = int(rng.integers(1, 4))
    each_hi = capped(ctx, bid, 10, total_hi)
    total = min(max(draw_size(rng, total_lo, total_hi), need), total_hi, n * each_hi)
    sizes = split_total(rng, total, n, 10, each_hi)
    if sizes is None or total < need:
        return None
    times = live(ctx, spaced_times(rng, ctx.ts, n, 1_000, 20_000))
    out = [ctx.fill(rng, t, expiry, strike, right, PLACE_BID if rng.random() < 0.75 else PLACE_BELOW_BID,
                    sz, pick_venue(rng)) for t, sz in zip(times, sizes)]
    out = [d for d in keep_otm(out, 0.03, 0.10) if d.bid is not None and d.bid > 0.0 and d.price <= d.bid]
    if not out or sum(d.size for d in out) < total_lo:
        return None
    return cond.each(out, rng, cond.OVERWRITE if right == "C" else cond.PUT_WRITE)


def covered_call_overwrite(ctx: ScenarioContext, rng: Rng) -> list[Draft] | None:
    return _write(ctx, rng, "C", 300, 5000)


def cash_secured_put_write(ctx: ScenarioContext, rng: Rng) -> list[Draft] | None:
    return _write(ctx, rng, "P", 200, 3000)


def short_straddle_harvest(ctx: ScenarioContext, rng: Rng) -> list[Draft] | None:
    exps = ctx.expiries(3, 45)
    if not exps:
        return None
    expiry = choice(rng, exps)
    k = atm_strike(ctx, expiry)
    bids = (ctx.quote(ctx.ts, ctx.ul.price, expiry, k, "C").bid, ctx.quote(ctx.ts, ctx.ul.price, expiry, k, "P").bid)
    if min(bids) <= 0.0:
        return None
    hi = capped(ctx, max(bids), 100, 1000)
    size = max(draw_size(rng, 100, hi), required_contracts(TARGET_EVENT_PREMIUM, sum(bids)))
    if size > hi:
        return None
    venue, mlid = pick_venue(rng), mleg_id(ctx)
    legs = [ctx.fill(rng, ctx.ts, expiry, k, r, PLACE_BID, size, venue, multi_leg_id=mlid, ul=ctx.ul)
            for r in ("C", "P")]
    return cond.order(legs, rng, cond.SPREAD)


# ---------------------------------------------------------------------------------------------
# arbitrage: every leg at mid; put and call at one strike share an IV, so parity holds by build


def _mid_legs(ctx: ScenarioContext, rng: Rng, expiry, legs: list[tuple[float, str]],
              mix: cond.Mix = cond.SPREAD) -> list[Draft] | None:
    quotes = [ctx.quote(ctx.ts, ctx.ul.price, expiry, k, r) for k, r in legs]
    if any(q.bid < 0.05 for q in quotes):
        return None
    gross = sum(0.5 * (q.bid + q.ask) for q in quotes)
    hi = capped(ctx, max(q.ask for q in quotes), 100, 2000)
    size = max(draw_size(rng, 100, hi), required_contracts(TARGET_EVENT_PREMIUM, gross))
    if size > hi:
        return None
    venue, mlid = pick_venue(rng), mleg_id(ctx)
    drafts = [ctx.fill(rng, ctx.ts, expiry, k, r, PLACE_MID, size, venue, multi_leg_id=mlid, ul=ctx.ul)
              for k, r in legs]
    return cond.order(drafts, rng, mix)


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
    expiry = choice(rng, exps)
    ks = _two_strikes(ctx, rng, expiry)
    if ks is None:
        return None
    right = "C" if rng.random() < 0.5 else "P"
    return _mid_legs(ctx, rng, expiry, [(ks[0], right), (ks[1], right)])


def conversion_reversal(ctx: ScenarioContext, rng: Rng) -> list[Draft] | None:
    exps = ctx.expiries(7, 180)
    if not exps:
        return None
    expiry = choice(rng, exps)
    inc = chain.strike_increment(ctx.ul.price, (expiry - ctx.today).days, ctx.symbol)
    k = round(atm_strike(ctx, expiry) + inc * int(rng.integers(-2, 3)), 4)
    return _mid_legs(ctx, rng, expiry, [(k, "C"), (k, "P")], cond.STOCK_TIED)


def box_spread(ctx: ScenarioContext, rng: Rng) -> list[Draft] | None:
    exps = ctx.expiries(30, 365)
    if not exps:
        return None
    expiry = choice(rng, exps)
    ks = _two_strikes(ctx, rng, expiry)
    if ks is None:
        return None
    k1, k2 = ks
    return _mid_legs(ctx, rng, expiry, [(k1, "C"), (k2, "C"), (k2, "P"), (k1, "P")], cond.BOX)


# ---------------------------------------------------------------------------------------------
# hedge_reactive (DTE <= 2, gamma-heavy strike, |OTM| <= 0.75%)

HEDGE_OTM = 0.0075
HEDGE_START_OTM = 0.006     # start well inside the band so a drifting spot rarely leaves it


def _hedge_expiry(ctx: ScenarioContext):
    exps = ctx.expiries(0, chain.FRONT_EXPIRY_MAX_DTE)
    return exps[0] if exps else None


def _hedge(ctx: ScenarioContext, rng: Rng, strike: float, right: str, n_lo: int, n_hi: int,
           size_lo: int, size_hi: int, place: str) -> list[Draft] | None:
    expiry = _hedge_expiry(ctx)
    if expiry is None or abs(chain.otm_frac(right, strike, ctx.ul.price)) > HEDGE_START_OTM:
        return None
    n = int(rng.integers(n_lo, n_hi + 1))
    times = live(ctx, within_span(rng, ctx.ts, n, 10_000, 110_000))
    shock = max(ctx.ul.execution_iv_shock, 0) * (1 if place == PLACE_ASK else -0.5)
    q = ctx.quote(ctx.ts, ctx.ul.price, expiry, strike, right, shock)
    ref = q.ask if place == PLACE_ASK else q.bid
    each_min = max(size_lo, required_contracts(TARGET_EVENT_PREMIUM / max(len(times), 1), max(ref, 0.01)))
    size_hi = capped(ctx, ref * 1.1, size_lo, size_hi)
    if each_min > size_hi or ref < 0.03:
        return None
    out = [ctx.fill(rng, t, expiry, strike, right, place, draw_size(rng, each_min, size_hi), pick_venue(rng))
           for t in times]
    # A dealer sells only into a bid (one that vanished late in a 0DTE is no print at the bid).
    out = [d for d in out if abs(chain.otm_frac(d.right, d.strike, d.underlying_price)) <= HEDGE_OTM
           and (place == PLACE_ASK or d.price == d.bid)]
    if len(out) < n_lo:
        return None
    return cond.each(out, rng, cond.DEALER if place == PLACE_ASK else cond.DEALER_UNWIND)


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


def _noise_contract(ctx: ScenarioContext, rng: Rng) -> tuple[dt.date, float, str]:
    """A near-money contract, always: the noise never fails to host (see stale_quote_noise)."""
    exps = ctx.expiries(0, 120)
    expiry = choice(rng, exps[: max(4, len(exps) // 2)])
    right = "C" if rng.random() < 0.55 else "P"
    strikes = strikes_in_otm(ctx, expiry, right, -0.05, 0.10)
    return (expiry, choice(rng, strikes) if strikes else atm_strike(ctx, expiry), right)


def single_print_mid(ctx: ScenarioContext, rng: Rng) -> list[Draft] | None:
    picked = _noise_contract(ctx, rng)
    d = ctx.fill(rng, ctx.ts, *picked, PLACE_MID, int(rng.integers(1, 10)), pick_venue(rng), ul=ctx.ul)
    if d.bid is None or d.bid <= 0.0:
        return None
    d.size = max(1, min(d.size, int(7_999 // (d.price * 100))))
    return [d] if d.premium < 8_000 else None


def two_sided_scalp(ctx: ScenarioContext, rng: Rng) -> list[Draft] | None:
    picked = _noise_contract(ctx, rng)
    t2 = ctx.ts + int(rng.integers(1_000, 20_001))
    if not ctx.in_session(t2):
        return None
    first, second = (PLACE_ASK, PLACE_BID) if rng.random() < 0.5 else (PLACE_BID, PLACE_ASK)
    out = [ctx.fill(rng, ctx.ts, *picked, first, int(rng.integers(1, 10)), pick_venue(rng), ul=ctx.ul),
           ctx.fill(rng, t2, *picked, second, int(rng.integers(1, 10)), pick_venue(rng))]
    # Nobody sells into a zero bid: a contract without a bid cannot host the scalp.
    return out if all(d.bid is not None and d.bid > 0.0 for d in out) else None


def stale_quote_noise(ctx: ScenarioContext, rng: Rng) -> list[Draft]:
    """Never fails (nor does _noise_contract), and its weight is never zero: the neutral noise always
    hosts, which lets the open-interest replay count its scenarios without drafting them."""
    picked = _noise_contract(ctx, rng)
    d = ctx.fill(rng, ctx.ts, *picked, PLACE_MID, int(rng.integers(1, 10)), pick_venue(rng), ul=ctx.ul)
    if rng.random() < 0.4:
        d.bid = d.ask = None
        d.quote_age_ms = 0
    else:
        d.quote_age_ms = int(rng.integers(2_000, 30_001))
    # The print trades away from a quote that no longer reflects the market (a few ticks either
    # way, on the grid, never below intrinsic or at zero).
    step = int(rng.integers(-3, 4))
    tick = chain.tick_size(ctx.symbol, d.price)
    intrinsic = max(d.underlying_price - d.strike if d.right == "C" else d.strike - d.underlying_price, 0.0)
    moved = chain.grid_floor(ctx.symbol, d.price + step * tick + 1e-9)
    d.price = max(moved, chain.grid_ceil(ctx.symbol, intrinsic), tick)
    return [d]
