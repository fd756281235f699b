"""Every hidden subtype stays inside its footprint (docs/flow_footprints.md), checked print by print."""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from collections import Counter

import pytest

from options_svc import families
from options_svc.american import american_price
from options_svc.legs import ScenarioContext
from synthmarket.domain import chain, rng
from synthmarket.domain.calendar import trading_day
from synthmarket.domain.marketdata import OptionPrint
from synthmarket.domain.regimes import Regime, SessionPhase
from synthmarket.domain.session import SessionState, UnderlyingState
from synthmarket.domain.universe import UNIVERSE
from tests.support.footprints import (
    EPS,
    footprint_violations,
)

DAYS = [trading_day(dt.date(2026, 11, d)) for d in (23, 25, 27)]  # Monday, Wednesday, Friday


# ---------------------------------------------------------------------------------------------
# An independent reading of the footprint table.


































# ---------------------------------------------------------------------------------------------
# Forced scenarios on hand-built market states


def _context(subtype: str, i: int) -> ScenarioContext:
    family = families.FAMILY_OF[subtype]
    u = lambda *k: rng.uniform(7, subtype, i, *k)  # noqa: E731
    day = DAYS[i % len(DAYS)]
    if family == "hedge_reactive" and day.date.weekday() == 0:
        names = ["SPY", "QQQ", "IWM"]   # single names have no DTE <= 2 expiry on a Monday
    else:
        names = sorted(UNIVERSE)
    symbol = names[int(u("sym") * len(names))]
    spec = UNIVERSE[symbol]
    price = spec.ref_price * (0.9 + 0.2 * u("px"))
    move = 20 * (u("mv") - 0.5)
    if family == "hedge_reactive":
        base = chain.gamma_strike_below(price) if subtype == "reactive_put_wall" else chain.gamma_strike_nearest(price)
        price = base * (1 + (0.004 * u("off") if subtype == "reactive_put_wall" else 0.008 * (u("off") - 0.5)))
        move = -6 - 10 * u("mv") if subtype == "reactive_put_wall" else move
    ts = day.open_ms + int(u("ts") * (day.close_ms - day.open_ms - 180_000))
    regime = list(Regime)[i % len(Regime)]
    iv = spec.annual_vol * (0.8 + 0.5 * u("iv"))
    event = family == "event_driven"
    session = SessionState(
        ts=ts, session_phase=SessionPhase.MIDDAY, regime=regime, volatility_level=1.0,
        liquidity_level=0.2 + 0.8 * u("liq"), quote_cleanliness=0.2 + 0.8 * u("cl"), focus_symbols=(),
        event_symbols=(symbol,) if event else (), seed_bucket=0,
    )
    drift = 0.0005 * (u("dr") - 0.5)     # fraction per 10 s, so long scenarios see the spot move

    def state(t: int) -> UnderlyingState:
        p = price * (1 + drift * (t - ts) / 10_000)
        return UnderlyingState(symbol, t, p, p - 0.01, p + 0.01, spec.typical_spread_bps, iv,
                               2.0 * (1 if drift >= 0 else -1), move, 2 * u("z") - 0.5, 0.04 * u("sh"), iv,
                               -0.25 * u("sk"))

    return ScenarioContext(symbol, ts, session, state(ts), ul_at=state, close_ms=day.close_ms,
                           scenario_key=str(i), event_passed=subtype == "post_gap_followthrough" if event else None,
                           gap_sign=1 if u("gap") < 0.5 else -1)


def _to_prints(drafts) -> list[OptionPrint]:
    return [OptionPrint(id=f"t-{k}", **dataclasses.asdict(d)) for k, d in enumerate(drafts)]


ATTEMPTS = 40


@pytest.mark.parametrize("subtype", families.ALL_SUBTYPES)
def test_forced_subtype_stays_inside_its_footprint(subtype):
    built = 0
    for i in range(ATTEMPTS):
        ctx = _context(subtype, i)
        drafts = families.build(subtype, ctx, rng.generator(11, subtype, i))
        if drafts is None:
            continue
        built += 1
        prints = _to_prints(drafts)
        assert footprint_violations(subtype, prints) == [], (subtype, i, prints)
        if subtype == "post_gap_followthrough":
            assert prints[0].right == ("C" if ctx.gap_sign > 0 else "P"), "follows the gap"
        if subtype == "earnings_vol_probe" or subtype == "pre_event_directional_ramp":
            first = min(e for e in chain.expiries(ctx.symbol, ctx.today) if (e - ctx.today).days >= 1)
            assert prints[0].expiry == first.isoformat(), "first expiry after the event"
        if subtype == "0dte_call_chase" or subtype == "short_dated_put_panic":
            assert chain.dte(prints[0].ts, prints[0].expiry) <= 7
    # Most random markets can host each subtype; a few (far wings, thin premium) cannot.
    assert built >= ATTEMPTS // 2, f"{subtype}: only {built}/{ATTEMPTS} built"


def test_subtype_table_matches_design():
    assert {f: len(s) for f, s in families.SUBTYPES.items()} == {
        "institutional_directional": 4, "retail_whale": 3, "event_driven": 3, "vol_seller": 3,
        "arbitrage": 3, "hedge_reactive": 3, "neutral_noise": 3}
    assert len(families.ALL_SUBTYPES) == 22 - 1 + 1  # 21 labeled-family subtypes + noise = 22 functions
    assert Counter(families.FAMILY_OF.values())["neutral_noise"] == 3


def test_chase_takes_the_nearest_expiry_and_0dte_where_it_exists():
    day = DAYS[1]
    ts = day.at("10:15")
    session = SessionState(ts=ts, session_phase=SessionPhase.OPEN, regime=Regime.RETAIL_CHASE, volatility_level=1.3,
                           liquidity_level=0.6, quote_cleanliness=0.7, focus_symbols=(), event_symbols=(),
                           seed_bucket=0)
    picked = Counter()
    for i, symbol in enumerate(["SPY", "QQQ", "IWM", "TSLA", "NVDA", "AMD"] * 4):
        spot = UNIVERSE[symbol].ref_price
        ul = UnderlyingState(symbol, ts, spot, spot - 0.01, spot + 0.01, 1.0, 0.55, 2.0, 3.0, 0.5, 0.03, 0.55, -0.1)
        ctx = ScenarioContext(symbol, ts, session, ul, close_ms=day.close_ms, scenario_key=str(i))
        drafts = families.build("0dte_call_chase", ctx, rng.generator(3, i))
        assert drafts is not None
        nearest = chain.expiries(symbol, day.date)[0]
        picked[symbol in chain.DAILY_EXPIRY_ROOTS] += drafts[0].expiry == nearest.isoformat()
    assert picked[True] == 12, "daily-expiry names chase the 0DTE contract in a hot tape"
    assert picked[False] == 12, "single names chase the nearest weekly"


def test_arbitrage_prints_respect_american_parity_with_tight_tolerance():
    """Mid legs sit on the American values (a tick per leg at most), inside the American bounds
    S - K <= C - P <= S - K e^(-rT); puts in the money carry early-exercise value, so European
    parity fails on some of them (the check that the prices are American)."""
    checked = below_european = 0
    for subtype in ("conversion_reversal", "box_spread"):
        for i in range(ATTEMPTS):
            ctx = _context(subtype, i)
            drafts = families.build(subtype, ctx, rng.generator(5, subtype, i))
            if not drafts:
                continue
            ps = _to_prints(drafts)
            expiry = dt.date.fromisoformat(ps[0].expiry)
            t = chain.years_to_expiry(ps[0].ts, expiry)
            s, df = ps[0].underlying_price, chain.discount_factor(ps[0].ts, ps[0].expiry)
            model = {(p.right, p.strike): american_price(p.right, s, p.strike, t,
                                                         ctx.surface.iv(p.strike, t, ctx.event_expiry(expiry)))
                     for p in ps}
            by = {(p.right, p.strike): p.price for p in ps}
            ks = sorted({p.strike for p in ps})
            # Each mid is within a tick of its model value (the quote is whole ticks around it).
            tol = sum(chain.tick_size(p.underlying, p.price) for p in ps) + EPS
            if subtype == "conversion_reversal":
                k = ks[0]
                got = by[("C", k)] - by[("P", k)]
                want = model[("C", k)] - model[("P", k)]
                lo, hi, european = s - k, s - k * df, s - k * df
            else:
                k1, k2 = ks
                got = by[("C", k1)] - by[("C", k2)] + by[("P", k2)] - by[("P", k1)]
                want = model[("C", k1)] - model[("C", k2)] + model[("P", k2)] - model[("P", k1)]
                lo, hi, european = k2 * df - k1, k2 - k1 * df, (k2 - k1) * df
            assert abs(got - want) <= tol, (subtype, i, got, want)
            assert lo - tol <= got <= hi + tol, (subtype, i, lo, got, hi)
            below_european += abs(got - european) > tol
            checked += 1
    assert checked >= ATTEMPTS
    # Tolerance: a few structures per 40 show early exercise beyond the rounding.
    assert below_european >= 3, f"only {below_european} structures off European parity: prices look European"


def test_option_print_carries_no_label_fields():
    names = {f.name for f in dataclasses.fields(OptionPrint)}
    assert not names & {"family", "subtype", "label", "scenario", "profile", "profile_id"}
    assert not any(math.isnan(0.0) for _ in names)
