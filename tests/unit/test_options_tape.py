"""The whole option tape of a session against what real tapes show: sizes, sides, venues, sweeps, quotes, prices.

One flow-only session (default control, 2026-11-20, the 20-name universe) through the offline loop
and the classifier; each test states its tolerance. The facts are MARKET_FACTS, "Options
microstructure and volatility" and "What options-flow tools show".
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from collections import Counter, defaultdict

import numpy as np
import pytest

from flow_svc.rules import DEFAULT_THRESHOLDS
from options_svc import orders
from options_svc.generator import OptionsGenerator
from options_svc.ordinary import DEFAULT_SCALE, ORDINARY_SUBTYPE
from options_svc.venues import VENUE_SHARES
from synthmarket.domain import chain
from synthmarket.domain.calendar import trading_day
from synthmarket.domain.control import DEFAULT_CONTROL
from synthmarket.domain.marketdata import OptionPrint
from synthmarket.domain.universe import DEFAULT_SYMBOLS
from synthmarket_cli.offline import SimulationSpec, run_session

DAY = trading_day(dt.date(2026, 11, 20))
EPS = 1e-9


@dataclasses.dataclass
class Session:
    prints: list[OptionPrint]
    explained: set[str]
    labels: dict[str, str]          # print id -> hidden subtype


@pytest.fixture(scope="module")
def session() -> Session:
    spec = SimulationSpec(DEFAULT_CONTROL, DAY, DAY.open_ms, DAY.close_ms, DEFAULT_SYMBOLS, with_labels=True,
                          with_equities=False)
    prints, explained, labels = [], set(), {}
    for step in run_session(spec):
        prints.extend(step.options)
        explained.update(pid for e in step.events for pid in e.print_ids)
        labels.update((pid, sub) for pid, _fam, sub in step.labels)
    return Session(prints, explained, labels)


def _fresh(p: OptionPrint) -> bool:
    return p.bid is not None and p.ask is not None and p.quote_age_ms < chain.STALE_QUOTE_MS


def _intrinsic(p: OptionPrint) -> float:
    return max(p.underlying_price - p.strike if p.right == "C" else p.strike - p.underlying_price, 0.0)


def test_most_prints_are_one_or_two_contracts_with_a_heavy_tail(session):
    sizes = np.array([p.size for p in session.prints])
    assert np.median(sizes) in (1, 2), np.median(sizes)
    # Tolerance: the mean is pulled far above the median by the tail (OCC: a mean near eight), blocks
    # are rare but present: 0.5-15% of prints are 100+ contracts (mostly the smart-money families'),
    # some 1,000+.
    assert sizes.mean() >= 4 * np.median(sizes), sizes.mean()
    assert 0.005 <= np.mean(sizes >= 100) <= 0.15 and sizes.max() >= 1_000
    # The ordinary flow's own tail is a power law: Hill exponent above 10 contracts in 0.9-1.8.
    ordinary = np.array([p.size for p in session.prints if session.labels[p.id] == ORDINARY_SUBTYPE])
    tail = ordinary[ordinary >= 10]
    hill = len(tail) / np.sum(np.log(tail / 10.0))
    assert 0.9 <= hill <= 1.8, hill


def test_smart_money_events_explain_a_small_minority_of_prints(session):
    share = len(session.explained) / len(session.prints)
    # Tolerance: under a fifth of the tape (real tapes: a small minority); at least some flow is read.
    assert 0.02 <= share <= 0.20, share
    ordinary = {pid for pid, sub in session.labels.items() if sub == ORDINARY_SUBTYPE}
    assert len(ordinary) >= 0.7 * len(session.prints), "ordinary flow is most of the tape"
    assert not ordinary & session.explained, "ordinary flow never makes an event"


def test_prints_over_a_million_dollars_are_rare(session):
    big = sum(1 for p in session.prints if chain.premium(p.price, p.size) > 1_000_000)
    # Tolerance: dozens a day on this 20-name universe at the default sample, not hundreds.
    assert 10 <= big <= 100, big
    assert all(chain.premium(p.price, p.size) <= orders.MAX_PREMIUM + EPS for p in session.prints
               if session.labels[p.id] == ORDINARY_SUBTYPE)


def test_buys_and_sells_split_near_the_touch_and_mid(session):
    sides = Counter(chain.side_of(p.price, p.bid, p.ask, p.quote_age_ms) for p in session.prints if _fresh(p))
    total = sum(sides.values())
    share = {side: n / total for side, n in sides.items()}
    # Tolerance: at or near the ask 35-50%, at or near the bid 25-42%, mid 12-30% (fresh quotes).
    assert 0.35 <= share[chain.SIDE_BUY] <= 0.50, share
    assert 0.25 <= share[chain.SIDE_SELL] <= 0.42, share
    assert 0.12 <= share[chain.SIDE_MID] <= 0.30, share


def test_venues_take_uneven_market_shares(session):
    counts = Counter(p.exchange for p in session.prints)
    total = sum(counts.values())
    share = {v: counts[v] / total for v in chain.OPTION_EXCHANGES}
    assert set(counts) == set(chain.OPTION_EXCHANGES) and len(chain.OPTION_EXCHANGES) == 18
    ranked = sorted(share.values(), reverse=True)
    # Tolerance: the largest 10-16%, the two largest over a fifth together, the smallest under 1%.
    assert 0.10 <= ranked[0] <= 0.16 and ranked[0] + ranked[1] >= 0.22 and ranked[-1] < 0.01, share
    total_share = sum(VENUE_SHARES.values())
    assert all(abs(share[v] - VENUE_SHARES[v] / total_share) < 0.015 for v in share), share


def _sweeps(prints: list[OptionPrint]) -> list[list[OptionPrint]]:
    """ISO legs of one contract chained within 50 ms of the previous leg."""
    by_contract: dict[str, list[OptionPrint]] = defaultdict(list)
    for p in prints:
        if p.condition in chain.SWEEP_CONDITIONS:
            by_contract[p.contract].append(p)
    out = []
    for legs in by_contract.values():
        group = [legs[0]]
        for p in legs[1:]:
            if p.ts - group[-1].ts <= 50:
                group.append(p)
            else:
                out.append(group)
                group = [p]
        out.append(group)
    return out


def test_sweeps_hit_several_venues_within_milliseconds(session):
    sweeps = _sweeps(session.prints)
    wide = [s for s in sweeps if len({p.exchange for p in s}) >= 3]
    assert len(wide) >= 100, len(wide)
    for s in sweeps:
        assert len({p.exchange for p in s}) == len(s), "one leg per venue"
        assert s[-1].ts - s[0].ts <= 50
        prices = [p.price for p in s]
        bought = all(abs(p.price - p.ask) < EPS or p.price > p.ask for p in s if p.ask is not None)
        # One price level, or walking the book (up for a buyer, down for a seller).
        assert prices == sorted(prices) if bought else prices == sorted(prices, reverse=True), s
    walked = sum(1 for s in wide if len({p.price for p in s}) > 1)
    assert 0 < walked < len(wide), "some sweeps walk the book, most take one level"


def test_multi_leg_prints_carry_the_complex_order_condition(session):
    groups: dict[str, list[OptionPrint]] = defaultdict(list)
    for p in session.prints:
        # Multi-leg conditions ride on legs of one order; stock-tied ones on several legs or on one.
        if p.multi_leg_id is not None:
            assert p.condition in chain.COMPLEX_CONDITIONS, p
        else:
            assert p.condition not in chain.MULTI_LEG_CONDITIONS, p
        if p.multi_leg_id:
            groups[p.multi_leg_id].append(p)
    assert len(groups) >= 500
    assert all(len(legs) >= 2 and len({p.ts for p in legs}) == 1 for legs in groups.values())


def test_near_term_at_the_money_spy_and_qqq_quote_one_or_two_cents_midday(session):
    widths = []
    for p in session.prints:
        minute = (p.ts - DAY.open_ms) / 60_000
        if (p.underlying in ("SPY", "QQQ") and _fresh(p) and 60 <= minute <= 330 and chain.dte(p.ts, p.expiry) <= 7
                and abs(chain.otm_frac(p.right, p.strike, p.underlying_price)) <= 0.005):
            widths.append(round((p.ask - p.bid) / 0.01))
    # Tolerance: at least 80% of these quotes one or two ticks wide.
    assert len(widths) >= 1_000 and min(widths) >= 1
    assert sum(1 for w in widths if w <= 2) / len(widths) >= 0.8, Counter(widths)


def test_quotes_and_trades_sit_on_the_penny_interval_grid(session):
    half_ticks = 0
    for p in session.prints:
        root = p.underlying
        if p.bid is not None:
            assert chain.on_grid(root, p.bid) and chain.on_grid(root, p.ask) and p.ask > p.bid, p
        if not chain.on_grid(root, p.price):
            # Only mid and complex prints trade between two grid prices, at the half tick.
            half = chain.grid_floor(root, p.price) + 0.5 * chain.tick_size(root, p.price)
            assert abs(p.price - half) < EPS, p
            assert p.condition in chain.COMPLEX_CONDITIONS or chain.side_of(p.price, p.bid, p.ask, 0) == chain.SIDE_MID, p
            half_ticks += 1
    assert half_ticks > 0
    ticks = {chain.tick_size(p.underlying, p.ask) for p in session.prints if p.ask is not None}
    assert ticks == {0.01, 0.05, 0.1}, "penny, nickel and dime grids all trade"


def test_no_print_below_intrinsic_and_no_zero_price(session):
    for p in session.prints:
        assert p.price > 0.0 and p.price >= _intrinsic(p) - EPS, p
        if p.bid is not None:
            assert p.bid >= 0.0 and (p.bid == 0.0 or p.bid >= chain.grid_ceil(p.underlying, _intrinsic(p)) - EPS), p
            assert not (p.bid == 0.0 and p.price <= p.bid + EPS), "a zero bid never fills"


def test_flow_concentrates_near_the_money_and_short_dated(session):
    index = [p for p in session.prints if p.underlying in chain.DAILY_EXPIRY_ROOTS]
    dte = np.array([chain.dte(p.ts, p.expiry) for p in index])
    # Tolerance: on index ETFs 0DTE is a third or more of the prints and weeklies (<= 7 DTE) most.
    assert np.mean(dte == 0) >= 0.3 and np.mean(dte <= 7) >= 0.6
    otm = np.array([abs(chain.otm_frac(p.right, p.strike, p.underlying_price)) for p in session.prints])
    assert np.mean(otm <= 0.05) >= 0.7


def test_ordinary_flow_zones_are_the_classifier_rules():
    th = DEFAULT_THRESHOLDS
    assert th.min_contracts == orders.READ_MIN_CONTRACTS
    assert (th.hedge_max_otm, th.retail_min_otm, th.accum_min_dte) == \
        (orders.HEDGE_MAX_OTM, orders.RETAIL_MIN_OTM, orders.ACCUM_MIN_DTE)
    # Every buy on an event symbol counts as readable: rule 3 up to event_max_dte, rule 7 beyond.
    assert th.event_max_dte >= th.accum_min_dte
    assert (th.vol_sell_min_otm, th.vol_sell_min_dte) == (orders.VOL_SELL_MIN_OTM, orders.VOL_SELL_MIN_DTE)
    assert th.hedge_max_dte == chain.FRONT_EXPIRY_MAX_DTE and th.retail_max_dte <= th.accum_min_dte
    assert th.block_min_dte >= th.accum_min_dte      # blocks are read only where accumulation is


def _hour(scale: float) -> tuple[int, list[OptionPrint]]:
    """Prints in an hour of the session at ``scale``, and the ordinary flow's among them."""
    start = DAY.open_ms + 120 * 60_000
    gen = OptionsGenerator(DEFAULT_CONTROL, DEFAULT_SYMBOLS, start_ts=start, ordinary_scale=scale)
    n, ordinary = 0, []
    for t in range(start, start + 60 * 60_000, 1_000):
        batch = gen.step(t, t + 1_000)
        labels = gen.pop_labels()
        n += len(batch)
        ordinary.extend(p for p in batch if labels[p.id][1] == ORDINARY_SUBTYPE)
        gen.pop_scenarios()
    return n, ordinary


def test_the_prints_per_day_knob_scales_the_count_not_the_distributions():
    (n_full, full), (n_third, third) = _hour(DEFAULT_SCALE), _hour(DEFAULT_SCALE / 3)
    # Tolerance: the ordinary count follows the knob within 15%; the scenarios do not move.
    assert 2.55 <= len(full) / len(third) <= 3.45, (len(full), len(third))
    assert n_full - len(full) == n_third - len(third)

    def stats(ps: list[OptionPrint]) -> tuple[float, ...]:
        sizes = np.array([p.size for p in ps])
        sides = Counter(chain.side_of(p.price, p.bid, p.ask, p.quote_age_ms) for p in ps)
        venues = Counter(p.exchange for p in ps)
        dte = np.array([chain.dte(p.ts, p.expiry) for p in ps])
        return (np.mean(sizes == 1), np.mean(sizes <= 2), np.mean(sizes >= 10), sides[chain.SIDE_BUY] / len(ps),
                sides[chain.SIDE_MID] / len(ps), venues.most_common(1)[0][1] / len(ps), np.mean(dte == 0))

    # Tolerance: each share within 4 points at a third of the sample.
    for a, b in zip(stats(full), stats(third)):
        assert math.isclose(a, b, abs_tol=0.04), (stats(full), stats(third))


def test_every_print_carries_one_opra_condition_in_a_realistic_mix(session):
    # OPRA's tape: most prints are auto-executions; ISO sweeps, complex orders, auctions and floor
    # trades are a minority of prints, stock-tied trades rarer still. Checked on a full session:
    # AUTO 70-92% of prints, multi-leg (MLET/MLAT/MLFT) 4-20% with MLET the largest of the three,
    # sweep legs (ISOI/SLAI) 1-10%, single-leg auctions (SLAN) 1-10%, floor (SLFT, MLFT) 0.1-3%,
    # stock-tied (TL*) 0.02-2%.
    n = len(session.prints)
    count = Counter(p.condition for p in session.prints)
    assert set(count) <= set(chain.OPTION_CONDITIONS), count
    share = {c: count[c] / n for c in chain.OPTION_CONDITIONS}
    multi = sum(share[c] for c in chain.MULTI_LEG_CONDITIONS)
    assert 0.70 <= share[chain.COND_AUTO] <= 0.92, share
    assert 0.04 <= multi <= 0.20 and share[chain.COND_MLET] > max(share[chain.COND_MLAT], share[chain.COND_MLFT]), share
    assert 0.01 <= share[chain.COND_ISOI] + share[chain.COND_SLAI] <= 0.10, share
    assert 0.01 <= share[chain.COND_SLAN] <= 0.10, share
    assert 0.001 <= share[chain.COND_SLFT] + share[chain.COND_MLFT] <= 0.03, share
    assert 0.0002 <= sum(share[c] for c in chain.STOCK_TIED_CONDITIONS) <= 0.02, share


def test_large_blocks_and_structures_go_to_auctions_and_the_floor(session):
    # Large labelled blocks (250+ contracts, one print) often cross in an auction or on the floor;
    # boxes mostly do; conversions carry their stock leg. Checked: over 40% of far-dated blocks and
    # over half of boxes print SLAN/SLFT or MLAT/MLFT; every conversion/reversal prints stock-tied.
    by_sub: dict[str, list[OptionPrint]] = defaultdict(list)
    for p in session.prints:
        by_sub[session.labels.get(p.id, "")].append(p)
    blocks = by_sub["far_dated_conviction"]
    boxes = by_sub["box_spread"]
    conversions = by_sub["conversion_reversal"]
    assert len(blocks) >= 10 and len(boxes) >= 8 and len(conversions) >= 4, (len(blocks), len(boxes), len(conversions))
    crossed = {chain.COND_SLAN, chain.COND_SLFT, chain.COND_MLAT, chain.COND_MLFT}
    assert sum(p.condition in crossed for p in blocks) / len(blocks) >= 0.4
    assert sum(p.condition in crossed for p in boxes) / len(boxes) >= 0.5
    assert all(p.condition in chain.STOCK_TIED_CONDITIONS for p in conversions)
