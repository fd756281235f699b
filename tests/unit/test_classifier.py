"""Classifier rules on hand-built prints: one footprint per test, plus noise and edge cases."""

from __future__ import annotations

import ast
import datetime as dt
import pathlib
from dataclasses import replace

import pytest

from flow_svc.classifier import SmartMoneyClassifier
from flow_svc.reasons import REPEAT_PREFIX
from synthmarket.domain import chain
from synthmarket.domain.marketdata import SmartMoneyEvent
from tests.support.option_tape import DAY, T0, VENUES, Tape, run

S = 1_000  # ms


def only(events: list[SmartMoneyEvent]) -> SmartMoneyEvent:
    assert len(events) == 1, [(e.profile_id, e.reason) for e in events]
    return events[0]


def ids(prints) -> tuple[str, ...]:
    return tuple(p.id for p in prints)


def pattern(events: list[SmartMoneyEvent], prints, first: int) -> SmartMoneyEvent:
    """One pattern read on time: its first event is the first ``first`` prints, stamped with the
    last of them; every later print is a repeat hit of the same profile, stamped with its last
    print; together the events explain ``prints`` in order, each print once."""
    assert events, "no event"
    head = events[0]
    assert head.print_ids == ids(prints[:first]) and head.ts == prints[first - 1].ts, (head.print_ids, head.ts)
    assert not head.reason.startswith(REPEAT_PREFIX)
    by_id = {p.id: p for p in prints}
    for e in events[1:]:
        assert (e.profile_id, e.direction) == (head.profile_id, head.direction)
        assert e.reason.startswith(REPEAT_PREFIX) and e.premium >= 10_000, e.reason
    for e in events:
        assert e.ts == max(by_id[i].ts for i in e.print_ids)
    assert tuple(i for e in events for i in e.print_ids) == ids(prints)
    return head


# -- rule 2: sweeps -------------------------------------------------------------------------------

@pytest.mark.parametrize("right,direction", [("C", "bullish"), ("P", "bearish")])
def test_sweep_across_four_venues_is_institutional(right, direction):
    t = Tape()
    legs = [t.opt(T0 + 4 * k, right=right, exchange=VENUES[k], cond="ISOI", size=250, price=3.0 + 0.01 * k,
                  dte=32, otm=0.04) for k in range(4)]
    e = only(run(legs))
    assert (e.profile_id, e.direction) == ("institutional_directional", direction)
    assert e.print_ids == ids(legs) and e.contracts == 1_000
    assert "sweep across 4 venues" in e.reason and "32 DTE" in e.reason
    assert e.ts == legs[-1].ts  # stamped with its last leg (decided once the 50 ms gap has passed)


def test_iso_auction_legs_count_as_sweep_legs():
    # OPRA prints an ISO that went through a single-leg auction as SLAI: still a sweep leg.
    t = Tape()
    conds = ["ISOI", "SLAI", "ISOI", "SLAI"]
    legs = [t.opt(T0 + 4 * k, exchange=VENUES[k], cond=c, size=250, price=3.0, dte=32, otm=0.04)
            for k, c in enumerate(conds)]
    e = only(run(legs))
    assert e.order_type == "sweep" and "sweep across 4 venues" in e.reason


def test_iso_legs_on_two_venues_are_not_a_sweep():
    t = Tape()
    legs = [t.opt(T0 + 3 * k, exchange=VENUES[k], cond="ISOI", size=200, price=3.0) for k in range(2)]
    assert run(legs) == []


def test_sweep_on_event_symbol_short_dated_is_event_driven():
    t = Tape()
    legs = [t.opt(T0 + 2 * k, und="NFLX", spot=880, exchange=VENUES[k], cond="ISOI", size=100, price=9.0, dte=12)
            for k in range(3)]
    e = only(run(legs, SmartMoneyClassifier(event_symbols=["NFLX"])))
    assert (e.profile_id, e.direction) == ("event_driven", "bullish")


# -- rule 7: far-dated blocks and accumulation ----------------------------------------------------

@pytest.mark.parametrize(("right", "word", "direction"), [("P", "put", "bearish"), ("C", "call", "bullish")])
def test_far_dated_block_is_institutional(right, word, direction):
    t = Tape()
    block = t.opt(T0, right=right, dte=400, otm=0.10, size=1_200, price=8.5)
    e = only(run([block]))
    assert (e.profile_id, e.direction, e.print_ids) == ("institutional_directional", direction, (block.id,))
    assert f"Far-dated {word} block" in e.reason and "400 DTE" in e.reason


def test_ask_lift_accumulation_is_institutional():
    t = Tape()
    prints = [t.opt(T0 + 25 * S * k, dte=45, otm=0.05, size=120, price=4.0) for k in range(5)]
    events = run(prints)
    e = pattern(events, prints, first=3)  # the third print makes it accumulation, at once
    assert (e.profile_id, e.direction) == ("institutional_directional", "bullish")
    assert len(events) == 3  # then each $48k print is a repeat hit
    assert run(prints[:2]) == []  # two prints are not accumulation


# -- rule 5: retail ---------------------------------------------------------------------------------

def test_0dte_call_chase_is_retail_whale():
    t = Tape()
    prints = [t.opt(T0 + 5 * S * k, und="SPY", spot=585.0, dte=0, otm=0.02, size=80, price=0.9) for k in range(8)]
    events = run(prints)
    # $7.2k a print: the fourth reaches $25k; then every two reach the $10k repeat floor.
    e = pattern(events, prints, first=4)
    assert (e.profile_id, e.direction) == ("retail_whale", "bullish")
    assert [len(x.print_ids) for x in events] == [4, 2, 2]
    assert "0DTE" in e.reason


def test_short_dated_put_panic_is_retail_whale_bearish():
    t = Tape()
    prints = [t.opt(T0 + 3 * S * k, right="P", dte=2, otm=0.03, size=100, price=0.8, strike=None) for k in range(6)]
    e = pattern(run(prints), prints, first=4)
    assert (e.profile_id, e.direction) == ("retail_whale", "bearish")


def test_attention_contract_spike_is_retail_whale():
    t = Tape()
    prints = [t.opt(T0 + 8 * S * k, und="PLTR", spot=62.0, dte=9, otm=0.15, size=300, price=0.35)
              for k in range(10)]
    events = run(prints)
    assert pattern(events, prints, first=3).profile_id == "retail_whale"
    assert len(events) == 8


def test_chase_below_premium_floor_is_not_an_event():
    t = Tape()
    prints = [t.opt(T0 + 5 * S * k, dte=0, otm=0.02, size=20, price=0.5) for k in range(8)]  # $8k in all
    assert run(prints) == []


# -- rule 6 and multi-leg sells: vol sellers --------------------------------------------------------

def test_covered_call_overwrite_is_vol_seller_neutral():
    t = Tape()
    prints = [t.opt(T0 + 40 * S * k, side="sell", dte=30, otm=0.06, size=700, price=1.4) for k in range(2)]
    e = pattern(run(prints), prints, first=1)
    assert (e.profile_id, e.direction) == ("vol_seller", "neutral")
    assert "overwrite" in e.reason and "in 1 print," in e.reason


def test_cash_secured_put_write_is_vol_seller_bullish():
    t = Tape()
    e = only(run([t.opt(T0, right="P", side="sell", dte=40, otm=0.07, size=1_500, price=1.9)]))
    assert (e.profile_id, e.direction) == ("vol_seller", "bullish")


def test_short_straddle_at_the_bid_is_vol_seller():
    t = Tape()
    legs = [t.opt(T0, right=r, strike=230, side="sell", dte=21, size=400, price=p, mleg="ss1")
            for r, p in (("C", 7.1), ("P", 8.4))]
    e = only(run(legs))
    assert (e.profile_id, e.direction, e.print_ids) == ("vol_seller", "neutral", ids(legs))
    assert "straddle" in e.reason


def test_sells_too_close_to_the_money_are_ignored():
    t = Tape()
    assert run([t.opt(T0, side="sell", dte=30, otm=0.01, size=1_000, price=4.0)]) == []


# -- rule 1: arbitrage ------------------------------------------------------------------------------

def _mid_legs(t: Tape, mleg: str, legs, size=500, spread=0.10, dte=30, spot=228.0):
    return [t.opt(T0, right=r, strike=k, side="mid", price=p, size=size, mleg=mleg, spread=spread, dte=dte,
                  spot=spot) for r, k, p in legs]


def test_vertical_at_mid_within_bounds_is_arbitrage():
    t = Tape()
    legs = _mid_legs(t, "v1", [("C", 225, 7.20), ("C", 230, 4.60)])
    e = only(run(legs))
    assert (e.profile_id, e.direction, e.print_ids) == ("arbitrage", "neutral", ids(legs))
    assert "vertical" in e.reason


def test_vertical_breaking_its_bound_is_not_arbitrage():
    t = Tape()
    assert run(_mid_legs(t, "v2", [("C", 225, 9.50), ("C", 230, 2.00)])) == []  # debit 7.5 > width 5


def test_conversion_at_mid_passing_parity_is_arbitrage():
    t = Tape()
    expiry = (DAY.date + dt.timedelta(days=30)).isoformat()
    fair = 228.0 - 225 * chain.discount_factor(T0, expiry)
    put = 5.10
    legs = _mid_legs(t, "c1", [("C", 225, round(put + fair, 2)), ("P", 225, put)])
    e = only(run(legs))
    assert e.profile_id == "arbitrage" and "conversion" in e.reason


def test_conversion_off_parity_is_not_arbitrage():
    t = Tape()
    assert run(_mid_legs(t, "c2", [("C", 225, 12.0), ("P", 225, 5.10)])) == []


def _box(t: Tape, mleg: str, skew: float):
    expiry = (DAY.date + dt.timedelta(days=30)).isoformat()
    width = 10 * chain.discount_factor(T0, expiry)
    c1, c2, p2 = 9.40, 4.10, 6.20
    p1 = round(c1 - c2 + p2 - width - skew, 2)  # net = width + skew
    return _mid_legs(t, mleg, [("C", 220, c1), ("C", 230, c2), ("P", 230, p2), ("P", 220, p1)], size=300)


def test_box_at_mid_passing_parity_is_arbitrage():
    t = Tape()
    legs = _box(t, "b1", 0.0)
    e = only(run(legs))
    assert (e.profile_id, len(e.print_ids)) == ("arbitrage", 4) and "box" in e.reason


def test_box_violating_parity_is_not_arbitrage():
    t = Tape()
    # 1.20 over the discounted width: above K2 - K1 e^(-rT) (the American bound, 0.86 over) plus the
    # half-spreads (0.20).
    legs = _box(t, "b2", 1.20)
    assert run(legs) == []


def test_multi_leg_group_with_a_leg_off_mid_is_not_arbitrage():
    t = Tape()
    legs = _mid_legs(t, "v3", [("C", 225, 7.20)]) + [t.opt(T0, strike=230, side="buy", price=4.6, size=500,
                                                           mleg="v3")]
    assert run(legs) == []


# -- rules 1 and 3: event-driven --------------------------------------------------------------------

def test_event_straddle_buy_is_event_driven_only_on_event_symbols():
    t = Tape()
    legs = [t.opt(T0, und="NVDA", spot=138.0, right=r, strike=140, dte=3, size=200, price=p, mleg="e1")
            for r, p in (("C", 3.1), ("P", 4.9))]
    e = only(run(legs, SmartMoneyClassifier(event_symbols=["NVDA"])))
    assert (e.profile_id, e.direction, e.print_ids) == ("event_driven", "neutral", ids(legs))
    assert run(legs, SmartMoneyClassifier()) == []  # no event, no event_driven reading


def test_directional_ramp_on_event_symbol_is_event_driven():
    t = Tape()
    prints = [t.opt(T0 + 10 * S * k, und="AMD", spot=140.0, dte=6, otm=0.02, size=150, price=1.6)
              for k in range(5)]
    clf = SmartMoneyClassifier()
    clf.set_event_symbols(T0 - 60 * S, ["AMD", "NFLX"])
    e = pattern(run(prints, clf), prints, first=2)
    assert (e.profile_id, e.direction) == ("event_driven", "bullish")
    # The same prints on a symbol without an event read as a retail chase.
    assert pattern(run(prints), prints, first=3).profile_id == "retail_whale"


def test_event_symbols_from_a_source_callable():
    t = Tape()
    prints = [t.opt(T0 + 10 * S * k, und="AMD", spot=140.0, right="P", dte=6, otm=0.01, size=150, price=1.6)
              for k in range(4)]
    clf = SmartMoneyClassifier(event_symbol_source=lambda ts: ("AMD",) if ts >= T0 else ())
    e = pattern(run(prints, clf), prints, first=2)
    assert (e.profile_id, e.direction) == ("event_driven", "bearish")


# -- rule 4: hedge-reactive -------------------------------------------------------------------------

def test_gamma_strike_call_hedging_is_hedge_reactive_bullish():
    t = Tape()
    prints = [t.opt(T0 + 20 * S * k, spot=228.6, strike=230, dte=1, size=300, price=1.5) for k in range(4)]
    e = pattern(run(prints), prints, first=2)  # the second print at the strike makes it hedging
    assert (e.profile_id, e.direction) == ("hedge_reactive", "bullish")
    assert "230" in e.reason


def test_reactive_put_wall_is_hedge_reactive_bearish():
    t = Tape()
    prints = [t.opt(T0 + 15 * S * k, spot=226.0, right="P", strike=225, dte=0, size=400, price=1.1)
              for k in range(3)]
    e = pattern(run(prints), prints, first=2)
    assert (e.profile_id, e.direction) == ("hedge_reactive", "bearish")


def test_dealer_unwind_at_the_bid_is_hedge_reactive_neutral():
    t = Tape()
    prints = [t.opt(T0 + 30 * S * k, und="QQQ", spot=503.0, strike=500, right="P", side="sell", dte=2, size=900,
                    price=2.2) for k in range(3)]
    e = pattern(run(prints), prints, first=2)
    assert (e.profile_id, e.direction) == ("hedge_reactive", "neutral")
    assert "unwind" in e.reason and "2 put prints at the bid over 30 s" in e.reason


def test_non_gamma_strike_near_spot_is_not_hedging():
    t = Tape()
    prints = [t.opt(T0 + 20 * S * k, spot=228.6, strike=229, dte=1, size=300, price=1.5) for k in range(4)]
    assert run(prints) == []


# -- noise ------------------------------------------------------------------------------------------

def test_noise_prints_are_never_explained():
    t = Tape()
    chase = [t.opt(T0 + 5 * S * k, dte=0, otm=0.03, size=60, price=1.5) for k in range(7)]  # $9k a print
    noise = [
        t.opt(T0 + 5 * S + 1, dte=0, otm=0.03, size=9, price=1.5),                # under 10 contracts
        t.opt(T0 + 6 * S, dte=0, otm=0.03, size=200, price=1.5, age=2_000),        # stale quote
        t.opt(T0 + 7 * S, dte=0, otm=0.03, size=200, price=1.5, quote=False),      # missing quote
        t.opt(T0 + 8 * S, dte=0, otm=0.03, size=200, price=1.5, side="mid"),       # single leg at mid
        t.opt(T0 + 9 * S, dte=0, otm=0.03, size=5, price=1.5, side="sell"),        # scalp leg
    ]
    events = run(sorted(chase + noise, key=lambda p: p.ts))
    pattern(events, chase, first=3)


def test_quiet_noise_tape_emits_nothing():
    t = Tape()
    prints = [t.opt(T0 + 700 * k, size=1 + k % 9, side=("buy", "sell", "mid")[k % 3], dte=(0, 7, 30, 400)[k % 4],
                    otm=0.01 * (k % 12)) for k in range(2_000)]
    assert run(prints) == []


# -- structure of the package ----------------------------------------------------------------------

def test_dte_cache_matches_chain():
    clf = SmartMoneyClassifier()
    for hours in range(0, 24 * 9, 5):
        ts = T0 + hours * 3_600_000
        for expiry in ("2026-11-25", "2026-11-27", "2027-01-15"):
            assert clf._dte(ts, expiry) == chain.dte(ts, expiry)


def test_classifier_never_imports_the_generator_where_labels_live():
    # Purity (no I/O, clock or network) is checked for every pure module by test_purity.py.
    banned = {"options_svc"}
    root = pathlib.Path(__file__).resolve().parents[2] / "flow_svc"
    for name in ("classifier.py", "clusters.py", "context.py", "reasons.py", "rules.py", "structures.py"):
        tree = ast.parse((root / name).read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                mods = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                mods = [node.module or ""]
            else:
                continue
            for mod in mods:
                assert mod.split(".")[0] not in banned, f"{name} imports {mod}"


# -- what a flow trader reads on a row ---------------------------------------------------------------

def test_rows_carry_side_order_type_price_iv_and_the_contracts_volume_today():
    t = Tape()
    legs = [t.opt(T0 + 4 * k, exchange=VENUES[k], cond="ISOI", size=250, price=3.0 + 0.01 * k, dte=32, otm=0.04)
            for k in range(4)]
    small = t.opt(T0 - 5 * S, dte=32, otm=0.04, size=7, price=2.9)   # under 10 contracts: volume, not an event
    sweep = only(run([small, *legs]))
    assert (sweep.order_type, sweep.side) == ("sweep", "ask")
    assert sweep.price == pytest.approx(3.015) and sweep.iv == pytest.approx(0.3)
    assert sweep.volume == 1_007  # the lead contract's contracts today, small prints included

    block = only(run([t.opt(T0, dte=400, size=1_200, price=8.5 + 0.05, spread=0.3)]))
    assert block.order_type == "block"
    above = t.opt(T0, dte=400, size=1_200, price=8.5)
    above = replace(above, price=8.6)                                      # through the offer
    assert only(run([above])).side == "above_ask"

    chase = [t.opt(T0 + 5 * S * k, und="SPY", spot=585.0, dte=0, otm=0.02, size=80, price=0.9) for k in range(4)]
    assert run(chase)[0].order_type == "split"
    legs = [t.opt(T0, right=r, strike=230, side="sell", dte=21, size=400, price=p, mleg="ss9")
            for r, p in (("C", 7.1), ("P", 8.4))]
    straddle = only(run(legs))
    assert (straddle.order_type, straddle.side) == ("multi_leg", "bid")
