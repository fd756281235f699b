"""What each hidden scenario subtype's prints must look like: the footprint check the generator tests share."""

from __future__ import annotations

from options_svc import families
from synthmarket.domain import chain
from synthmarket.domain.marketdata import OptionPrint

EPS = 1e-6
_SINGLE_LEG = frozenset({chain.COND_AUTO, chain.COND_SLAN, chain.COND_SLFT, chain.COND_TLET})


def _otm(p) -> float:
    return chain.otm_frac(p.right, p.strike, p.underlying_price)


def _dte(p) -> int:
    return chain.dte(p.ts, p.expiry)


def _side(p) -> str:
    return chain.side_of(p.price, p.bid, p.ask, p.quote_age_ms)


def _prem(ps) -> float:
    return sum(chain.premium(p.price, p.size) for p in ps)


def _span(ps) -> int:
    return max(p.ts for p in ps) - min(p.ts for p in ps)


def _at_ask(p) -> bool:
    return abs(p.price - p.ask) < EPS


def _at_bid(p) -> bool:
    return abs(p.price - p.bid) < EPS


def _one_contract(ps) -> bool:
    return len({p.contract for p in ps}) == 1


def _mleg(ps) -> bool:
    ids = {p.multi_leg_id for p in ps}
    return len(ids) == 1 and None not in ids and len({p.condition for p in ps}) == 1 \
        and all(p.condition in chain.COMPLEX_CONDITIONS for p in ps)


def _plain(ps) -> bool:
    # One-leg orders: electronic, auction or floor; an overwrite may be a buy-write (tied to stock).
    return all(p.condition in _SINGLE_LEG and p.multi_leg_id is None for p in ps)


def _sizes(ps, lo, hi) -> bool:
    return all(lo <= p.size <= hi for p in ps)


def _otm_in(ps, lo, hi) -> bool:
    return all(lo - EPS <= _otm(p) <= hi + EPS for p in ps)


def _dte_in(ps, lo, hi) -> bool:
    return all(lo <= _dte(p) <= hi for p in ps)


def _hedge_strike(ps) -> bool:
    return all(chain.is_gamma_strike(p.strike, p.underlying_price) and abs(_otm(p)) <= 0.0075 + EPS
               and _dte(p) <= chain.FRONT_EXPIRY_MAX_DTE for p in ps)


def _ticks_above(root: str, price: float, n: int) -> float:
    for _ in range(n):
        price = chain.grid_ceil(root, price + chain.tick_size(root, price))
    return price


def _structure_ok(ps) -> bool:
    """Parity / box / vertical bound of mid-placed arbitrage legs, and per-leg American price bounds
    (no dividends: a call at least S - K e^(-rT), a put at least its intrinsic value, at most K)."""
    df = chain.discount_factor(ps[0].ts, ps[0].expiry)
    s = ps[0].underlying_price
    t = chain.years_to_expiry(ps[0].ts, ps[0].expiry)
    for p in ps:
        lo = max(0.0, s - p.strike * df) if p.right == "C" else max(0.0, p.strike - s)
        hi = s if p.right == "C" else p.strike
        if not lo - 0.01 <= p.price <= hi + 0.01 or t <= 0:
            return False
    half = sum((p.ask - p.bid) / 2 for p in ps)
    by = {(p.right, p.strike): p for p in ps}
    if len(ps) == 2 and ps[0].right == ps[1].right:
        k1, k2 = sorted(p.strike for p in ps)
        net = abs(by[(ps[0].right, k1)].price - by[(ps[0].right, k2)].price)
        return k1 < k2 and -EPS <= net <= k2 - k1 + EPS
    if len(ps) == 2:
        k = ps[0].strike
        # American, no dividends: S - K <= C - P <= S - K e^(-rT).
        c_minus_p = by[("C", k)].price - by[("P", k)].price
        return ps[1].strike == k and s - k - half - EPS <= c_minus_p <= s - k * df + half + EPS
    if len(ps) == 4:
        k1, k2 = sorted({p.strike for p in ps})
        net = by[("C", k1)].price - by[("C", k2)].price + by[("P", k2)].price - by[("P", k1)].price
        # American, no dividends: C(K) - P(K) within [S - K, S - K e^(-rT)] at both strikes.
        return k2 * df - k1 - half - EPS <= net <= k2 - k1 * df + half + EPS
    return False


def footprint_violations(subtype: str, ps: list[OptionPrint]) -> list[str]:
    """What is outside the footprint of ``subtype`` (an empty list means inside)."""
    bad: list[str] = []

    def need(cond: bool, what: str) -> None:
        if not cond:
            bad.append(what)

    ps = sorted(ps, key=lambda p: p.ts)
    n = len(ps)
    family = families.FAMILY_OF[subtype]
    if family == "neutral_noise":
        need(_sizes(ps, 1, 9), "noise prints are 1-9 contracts")
    else:
        need(_sizes(ps, 10, 10**9), "labeled prints are >= 10 contracts")
        need(all(p.bid is not None and p.ask is not None and p.quote_age_ms < 2_000 for p in ps), "fresh quote")
    if subtype in ("call_sweep", "put_sweep"):
        right = "C" if subtype == "call_sweep" else "P"
        gaps = [b.ts - a.ts for a, b in zip(ps, ps[1:])]
        need(3 <= n <= 6 and _one_contract(ps) and all(p.right == right for p in ps), "3-6 legs of one contract")
        need(len({p.exchange for p in ps}) == n, "distinct exchanges")
        need(_span(ps) <= 50 and all(1 <= g <= 15 for g in gaps), "within 50 ms, 1-15 ms apart")
        need(all(p.condition in chain.SWEEP_CONDITIONS for p in ps), "ISO")
        need(all(p.ask - EPS <= p.price <= _ticks_above(p.underlying, p.ask, 3) + EPS for p in ps),
             "at the ask or up to 3 ticks above")
        need(all(a.price <= b.price + EPS for a, b in zip(ps, ps[1:])), "walking up the book, never down")
        need(_dte_in(ps, 10, 60) and _otm_in(ps, 0.0, 0.08), "DTE 10-60, OTM 0-8%")
        need(200 <= sum(p.size for p in ps) <= 2000 and _prem(ps) >= 100_000, "200-2000 contracts, >= $100k")
    elif subtype == "ask_lift_accumulation":
        gaps = [b.ts - a.ts for a, b in zip(ps, ps[1:])]
        need(4 <= n <= 8 and _one_contract(ps) and _plain(ps), "4-8 single-venue prints of one contract")
        need(all(_at_ask(p) for p in ps) and _sizes(ps, 50, 400), "at the ask, 50-400 each")
        need(all(5_000 <= g <= 60_000 for g in gaps), "5-60 s apart")
        need(_dte_in(ps, 20, 90) and _otm_in(ps, 0.0, 0.10) and _prem(ps) >= 100_000, "DTE 20-90, OTM 0-10%, $100k")
    elif subtype == "far_dated_conviction":
        need(1 <= n <= 2 and _one_contract(ps) and _plain(ps), "1-2 block prints")
        need(all(_at_ask(p) for p in ps) and _sizes(ps, 250, 3000), "at the ask, 250-3000")
        need(_dte_in(ps, 180, 720) and _otm_in(ps, 0.0, 0.20) and _prem(ps) >= 250_000, "DTE 180-720, OTM 0-20%")
    elif subtype in ("0dte_call_chase", "short_dated_put_panic"):
        right = "C" if subtype == "0dte_call_chase" else "P"
        need(5 <= n <= 15 and _one_contract(ps) and _plain(ps) and ps[0].right == right, "5-15 prints")
        need(all(_at_ask(p) for p in ps) and _sizes(ps, 10, 300) and _span(ps) <= 60_000, "at ask, 10-300, 60 s")
        need(_dte_in(ps, 0, 7) and _otm_in(ps, 0.01, 0.06), "DTE <= 7, OTM 1-6%")
        need(25_000 <= _prem(ps) <= 500_000, "premium $25k-$500k")
    elif subtype == "attention_contract_spike":
        need(6 <= n <= 20 and _one_contract(ps) and _plain(ps), "6-20 prints of one contract")
        need(all(_at_ask(p) and p.price <= 1.50 + EPS for p in ps) and _sizes(ps, 20, 500), "at ask, <= $1.50")
        need(_dte_in(ps, 0, 14) and _otm_in(ps, 0.08, 0.25) and _span(ps) <= 90_000, "DTE<=14, OTM 8-25%, 90 s")
    elif subtype == "earnings_vol_probe":
        c = [p for p in ps if p.right == "C"]
        p_ = [p for p in ps if p.right == "P"]
        need(n == 2 and len(c) == 1 and len(p_) == 1 and _mleg(ps), "call + put, one MLEG order")
        need(ps[0].expiry == ps[1].expiry and _dte_in(ps, 1, 10), "same expiry, first after the event")
        need(all(_at_ask(p) for p in ps) and _sizes(ps, 50, 500), "both at the ask, 50-500")
        if n == 2 and c and p_:
            straddle = c[0].strike == p_[0].strike and abs(_otm(c[0])) <= 0.03
            strangle = 0.02 - EPS <= _otm(c[0]) <= 0.05 + EPS and 0.02 - EPS <= _otm(p_[0]) <= 0.05 + EPS
            need(straddle or strangle, "ATM straddle or 2-5% strangle")
    elif subtype in ("pre_event_directional_ramp", "post_gap_followthrough"):
        pre = subtype == "pre_event_directional_ramp"
        gaps = [b.ts - a.ts for a, b in zip(ps, ps[1:])]
        need(3 <= n <= 8 and len({p.right for p in ps}) == 1 and _plain(ps), "3-8 prints, one direction")
        need(all(_at_ask(p) for p in ps) and _sizes(ps, 20, 400), "at the ask, 20-400")
        need(_dte_in(ps, 1, 10) if pre else _dte_in(ps, 0, 14), "DTE window")
        need(_otm_in(ps, 0.0, 0.05 if pre else 0.04), "OTM window")
        if pre:
            need(all(2_000 <= g <= 30_000 for g in gaps), "2-30 s apart")
    elif subtype in ("covered_call_overwrite", "cash_secured_put_write"):
        right, lo, hi = ("C", 300, 5000) if subtype == "covered_call_overwrite" else ("P", 200, 3000)
        need(1 <= n <= 3 and all(p.right == right for p in ps) and _plain(ps), "1-3 prints")
        need(all(p.price <= p.bid + EPS and _side(p) == "sell" for p in ps), "at or below the bid")
        need(_otm_in(ps, 0.03, 0.10) and _dte_in(ps, 14, 60), "OTM 3-10%, DTE 14-60")
        need(lo <= sum(p.size for p in ps) <= hi, "total size")
    elif subtype == "short_straddle_harvest":
        need(n == 2 and {p.right for p in ps} == {"C", "P"} and _mleg(ps), "call + put, MLEG")
        need(ps[0].strike == ps[1].strike and ps[0].expiry == ps[1].expiry and _dte_in(ps, 3, 45), "one strike")
        need(all(abs(_otm(p)) <= 0.03 for p in ps), "ATM strike")
        need(all(_at_bid(p) for p in ps) and _sizes(ps, 100, 1000), "both at the bid, 100-1000")
    elif family == "arbitrage":
        legs = {"parity_vertical": 2, "conversion_reversal": 2, "box_spread": 4}[subtype]
        need(n == legs and _mleg(ps) and len({p.size for p in ps}) == 1 and _sizes(ps, 100, 2000), "legs, size")
        need(len({p.expiry for p in ps}) == 1 and len({p.ts for p in ps}) == 1, "one expiry, one order")
        need(all(_side(p) == "mid" for p in ps), "every leg at mid")
        if subtype == "parity_vertical":
            need(len({p.right for p in ps}) == 1, "vertical: one right")
        elif subtype == "conversion_reversal":
            need({p.right for p in ps} == {"C", "P"}, "conversion: call and put")
        need(n == legs and _structure_ok(ps), "parity / box / bounds")
    elif family == "hedge_reactive":
        need(_one_contract(ps) and _plain(ps) and _hedge_strike(ps), "gamma strike, front expiry, |OTM| <= 0.75%")
        if subtype == "gamma_pinch_call_hedge":
            need(3 <= n <= 8 and ps[0].right == "C" and _sizes(ps, 100, 800), "3-8 calls, 100-800")
            need(all(_at_ask(p) for p in ps) and _span(ps) <= 120_000, "at the ask within 120 s")
        elif subtype == "reactive_put_wall":
            need(3 <= n <= 8 and ps[0].right == "P" and _sizes(ps, 100, 800), "3-8 puts, 100-800")
            need(ps[0].strike <= ps[0].underlying_price, "strike just below spot")
            need(all(_at_ask(p) for p in ps) and _span(ps) <= 120_000, "at the ask within 120 s")
        else:
            need(2 <= n <= 5 and all(_at_bid(p) for p in ps) and _sizes(ps, 300, 2000), "2-5 at the bid")
    elif subtype == "single_print_mid":
        need(n == 1 and _side(ps[0]) == "mid" and _prem(ps) < 8_000, "one mid print < $8k")
    elif subtype == "two_sided_scalp":
        need(n == 2 and _one_contract(ps), "two prints of one contract")
        need(sorted(_side(p) for p in ps) == ["buy", "sell"], "one at the ask, one at the bid")
        need(n == 2 and 1_000 <= _span(ps) <= 20_000, "1-20 s apart")
    elif subtype == "stale_quote_noise":
        need(n == 1 and (ps[0].bid is None or 2_000 <= ps[0].quote_age_ms <= 30_000), "stale or missing quote")
    return bad
