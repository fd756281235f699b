"""Classifier rules at their edges: a threshold met exactly counts, a hair under does not, and the
reason a flow trader reads is the exact sentence for the pattern.

The thresholds are flow_svc.rules.Thresholds' defaults ($25k premium floor, sweeps from 10 DTE
on 3+ venues, event sweeps up to 14 DTE); docs/flow_footprints.md states them.
"""

from __future__ import annotations

import dataclasses

from flow_svc.classifier import SmartMoneyClassifier
from synthmarket.domain.marketdata import SmartMoneyEvent
from tests.support.option_tape import T0, VENUES, Tape, run


def _read(events: list[SmartMoneyEvent]) -> list[tuple[str, str, str]]:
    return [(e.profile_id, e.direction, e.reason) for e in events]


def _sweep(t: Tape, *, size: int = 25, price: float = 2.5, dte: int = 30, right: str = "C", und: str = "AAPL",
           spot: float = 228.0, venues: int = 4):
    return [t.opt(T0 + 4 * k, und=und, spot=spot, right=right, exchange=VENUES[k], cond="ISOI", size=size,
                  price=price, dte=dte, otm=0.04) for k in range(venues)]


def test_a_sweep_at_exactly_the_premium_floor_is_read_and_a_cent_under_is_not():
    t = Tape()
    assert _read(run(_sweep(t))) == [
        ("institutional_directional", "bullish", "Call sweep across 4 venues at the ask, $25k, 30 DTE, 3.9% OTM")]
    assert run(_sweep(t, price=2.4999)) == []


def test_a_put_sweep_reads_as_a_bearish_put_sweep():
    t = Tape()
    assert _read(run(_sweep(t, right="P", size=100, price=3.0))) == [
        ("institutional_directional", "bearish", "Put sweep across 4 venues at the ask, $120k, 30 DTE, 3.9% OTM")]


def test_a_sweep_needs_three_venues_and_ten_days():
    t = Tape()
    assert _read(run(_sweep(t, venues=3, size=40)))[0][2].startswith("Call sweep across 3 venues")
    assert _read(run(_sweep(t, dte=10)))[0][2] == "Call sweep across 4 venues at the ask, $25k, 10 DTE, 3.9% OTM"
    # Nine days is a short-dated chase, not a sweep.
    assert [r for r in _read(run(_sweep(t, dte=9))) if "sweep" in r[2]] == []


def test_an_event_symbol_sweep_is_event_driven_up_to_14_days_and_institutional_after():
    t = Tape()
    event = SmartMoneyClassifier(event_symbols=["NFLX"])
    assert _read(run(_sweep(t, und="NFLX", spot=880, size=100, price=3.0, dte=14), event)) == [
        ("event_driven", "bullish",
         "Call sweep across 4 venues at the ask on an event symbol, $120k, 14 DTE, 4.0% OTM")]
    later = SmartMoneyClassifier(event_symbols=["NFLX"])
    assert _read(run(_sweep(t, und="NFLX", spot=880, size=100, price=3.0, dte=15), later)) == [
        ("institutional_directional", "bullish", "Call sweep across 4 venues at the ask, $120k, 15 DTE, 4.0% OTM")]


def _pair(t: Tape, mleg: str, legs, *, side: str = "buy", dte: int = 3, size: int = 200, und: str = "NVDA",
          spot: float = 138.0):
    return [t.opt(T0, und=und, spot=spot, right=r, strike=k, dte=dte, size=size, price=p, side=side, mleg=mleg)
            for r, k, p in legs]


def test_long_straddles_and_strangles_on_event_symbols_name_their_shape_and_strikes():
    t = Tape()
    straddle = _pair(t, "e1", [("C", 140, 3.1), ("P", 140, 2.2)])
    assert _read(run(straddle, SmartMoneyClassifier(event_symbols=["NVDA"]))) == [
        ("event_driven", "neutral", "Long straddle 140 bought at the ask on an event symbol, $106k, 3 DTE")]
    strangle = _pair(t, "e2", [("C", 140, 3.1), ("P", 135, 2.2)])
    assert _read(run(strangle, SmartMoneyClassifier(event_symbols=["NVDA"]))) == [
        ("event_driven", "neutral", "Long strangle 135/140 bought at the ask on an event symbol, $106k, 3 DTE")]


def test_a_short_straddle_at_exactly_the_floor_is_read_and_a_cent_under_is_not():
    t = Tape()
    at_floor = _pair(t, "s1", [("C", 230, 2.5), ("P", 230, 2.5)], side="sell", dte=21, size=50, und="AAPL",
                     spot=228.0)
    assert _read(run(at_floor)) == [("vol_seller", "neutral", "Short straddle 230 sold at the bid, $25k, 21 DTE")]
    under = _pair(t, "s2", [("C", 230, 2.5), ("P", 230, 2.4999)], side="sell", dte=21, size=50, und="AAPL",
                  spot=228.0)
    assert run(under) == []


def test_a_sold_strangle_is_not_read_as_a_short_straddle():
    t = Tape()
    strangle = _pair(t, "s3", [("C", 235, 4.0), ("P", 220, 4.0)], side="sell", dte=21, size=200, und="AAPL",
                     spot=228.0)
    assert [r for r in _read(run(strangle)) if "straddle" in r[2]] == []


def test_an_event_carries_its_lead_contract_as_printed():
    # What a flow trader's row shows comes from the lead print itself, field for field.
    t = Tape()
    legs = _sweep(t, size=100, price=3.0, dte=30)
    legs = [dataclasses.replace(p, open_interest=4_321, iv=0.287, underlying_price=228.31) for p in legs]
    e = run(legs)[0]
    lead = legs[0]
    assert (e.underlying, e.contract, e.expiry, e.strike, e.right) == (
        lead.underlying, lead.contract, lead.expiry, lead.strike, lead.right)
    assert (e.spot, e.iv, e.open_interest, e.price) == (228.31, 0.287, 4_321, 3.0)
    assert (e.contracts, e.volume, e.premium) == (400, 400, 120_000.0)
    assert e.ts == legs[-1].ts and e.event_id == f"sm-{legs[0].id}"


def _vertical(t: Tape, mleg: str, right: str, legs: list[tuple[float, float, float]]):
    """Legs (strike, price, quote width) of one multi-leg order at mid, 500 contracts each."""
    return [t.opt(T0, right=right, strike=k, side="mid", price=p, spread=w, size=500, mleg=mleg, dte=30)
            for k, p, w in legs]


def _is_vertical(events: list[SmartMoneyEvent]) -> bool:
    return [(e.profile_id, "vertical" in e.reason) for e in events] == [("arbitrage", True)]


def test_a_vertical_may_cost_its_width_plus_both_half_spreads_and_no_more():
    # Quotes 0.10 and 0.30 wide: slack 0.005 + 0.05 + 0.15 = 0.205 on either side of [0, width].
    t = Tape()
    assert _is_vertical(run(_vertical(t, "v1", "C", [(225, 7.30, 0.10), (230, 2.10, 0.30)])))      # debit 5.20
    assert run(_vertical(t, "v2", "C", [(225, 7.31, 0.10), (230, 2.10, 0.30)])) == []              # 5.21
    assert _is_vertical(run(_vertical(t, "v3", "C", [(225, 2.00, 0.10), (230, 2.20, 0.30)])))      # credit 0.20
    assert run(_vertical(t, "v4", "C", [(225, 2.00, 0.10), (230, 2.21, 0.30)])) == []              # 0.21


def test_a_put_vertical_is_worth_more_at_the_higher_strike():
    t = Tape()
    assert _is_vertical(run(_vertical(t, "p1", "P", [(225, 2.00, 0.10), (230, 4.50, 0.10)])))
    # The same prices the other way round are a credit no vertical can pay.
    assert run(_vertical(t, "p2", "P", [(225, 4.50, 0.10), (230, 2.00, 0.10)])) == []


def test_a_call_and_a_put_at_two_strikes_are_not_a_vertical():
    t = Tape()
    legs = [t.opt(T0, right=r, strike=k, side="mid", price=p, size=500, mleg="m1", dte=30)
            for r, k, p in (("C", 225, 7.20), ("P", 230, 4.60))]
    assert [e for e in run(legs) if "vertical" in e.reason] == []


def test_a_far_dated_block_at_exactly_the_premium_floor_is_read_and_a_hair_under_is_not():
    t = Tape()
    block = t.opt(T0, right="C", dte=400, otm=0.10, size=250, price=1.0)      # 250 x $1.00 x 100 = $25k
    assert _read(run([block])) == [
        ("institutional_directional", "bullish", "Far-dated call block at the ask: 250 contracts, $25k, 400 DTE, 10% OTM")]
    assert run([t.opt(T0, right="C", dte=400, otm=0.10, size=250, price=0.9999)]) == []


def test_accumulation_at_exactly_the_premium_floor_is_read_and_a_hair_under_is_not():
    t = Tape()

    def lifts(price: float):    # three lifts of the ask 25 s apart: 50 + 25 + 25 contracts
        return [t.opt(T0 + 25_000 * k, dte=45, otm=0.05, size=size, price=price) for k, size in enumerate((50, 25, 25))]

    assert _read(run(lifts(2.5))) == [
        ("institutional_directional", "bullish", "Call accumulation: 3 prints lifting the ask over 50 s, $25k, 45 DTE, 5.0% OTM")]
    assert run(lifts(2.4999)) == []
