"""Equities building blocks on hand-built inputs: NBBO grid and walk, trade pricing, sizes, venues, arrivals."""

from __future__ import annotations

import ast
import pathlib

import numpy as np
import pytest

from equities_svc import activity, arrivals, sizes, trades, venues
from equities_svc.batch import seq_within_ms
from synthmarket.domain import rng
from synthmarket.domain.calendar import MS_PER_MINUTE
from synthmarket.domain.universe import symbol_spec
from synthmarket.engine import nbbo

EQ_DIR = pathlib.Path(__file__).resolve().parents[2] / "equities_svc"
PURE_MODULES = ("activity", "arrivals", "auctions", "batch", "generator", "metaorders", "sizes", "trades", "venues")
FORBIDDEN = {"os", "time", "random", "grpc", "nats", "flask", "socket", "asyncio"}


@pytest.mark.parametrize("name", PURE_MODULES)
def test_pure_modules_import_no_io(name: str) -> None:
    tree = ast.parse((EQ_DIR / f"{name}.py").read_text())
    imported: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module.split(".")[0])
        elif isinstance(node, ast.Attribute) and node.attr == "now":
            raise AssertionError(f"{name}.py reads the clock")
        elif isinstance(node, ast.Name) and node.id == "hash":
            raise AssertionError(f"{name}.py uses salted hash()")
    assert not imported & FORBIDDEN, f"{name}.py imports {imported & FORBIDDEN}"


def test_nbbo_on_penny_grid_with_ask_above_bid() -> None:
    gen = rng.generator(1, "nbbo")
    mid = np.exp(gen.uniform(np.log(1.0), np.log(2000.0), 20_000))
    spread_bps = gen.uniform(0.01, 30.0, mid.size)
    for depth in (1.0, nbbo.ETF_QUEUE_DEPTH):
        bid_c, ask_c = nbbo.quoted_cents(mid, spread_bps, depth)
        assert np.all(ask_c > bid_c)
        # Tick-bound: queue priority absorbs TICK_BIND ticks of the engine's width (deep books more),
        # never below one tick.
        latent = mid * 100 * spread_bps * 1e-4 / np.sqrt(depth)
        assert np.array_equal(ask_c - bid_c, np.maximum(1, np.rint(latent - nbbo.TICK_BIND)))
        # The quote brackets the mid to within half a tick of rounding.
        assert np.all(bid_c / 100 <= mid + 0.005 + 1e-9) and np.all(ask_c / 100 >= mid - 0.005 - 1e-9)
    one_tick = nbbo.quoted_cents(np.full(3, 585.0), np.array([0.2, 0.35, 0.7]), nbbo.ETF_QUEUE_DEPTH)
    assert (one_tick[1] - one_tick[0]).tolist() == [1, 1, 2], "SPY-like spreads sit on one tick until stressed"
    prices = bid_c / nbbo.CENTS  # as the generator converts them
    assert np.all(np.abs(prices * 100 - np.rint(prices * 100)) < 1e-6)
    assert [repr(p) for p in (np.array([22812, 5, 100000]) / nbbo.CENTS).tolist()] == ["228.12", "0.05", "1000.0"]


def test_walk_moves_like_a_book() -> None:
    gen = rng.generator(3, "walk")
    n = 5_000
    ts = np.cumsum(gen.integers(100, 2_000, n))   # gaps longer than any walk: steps on distinct ms
    mid = 50_000 + np.cumsum(gen.normal(0.0, 6.0, n)).round().astype(np.int64)
    width = gen.integers(1, 6, n)
    bid, ask = mid - width // 2, mid - width // 2 + width
    w_ts, w_bid, w_ask = nbbo.walk(ts, bid, ask)
    anchors = np.isin(w_ts, ts)
    assert w_ts.size > n and np.all(np.diff(w_ts) >= 0)
    # Every anchor is reached exactly, in order; nothing crosses or locks.
    assert np.all(w_ask > w_bid)
    ends = np.searchsorted(w_ts, ts, side="right") - 1
    assert np.array_equal(w_bid[ends], bid) and np.array_equal(w_ask[ends], ask)
    assert anchors.sum() >= n
    # No step leaps through the quote before it, and each moves a side by at most the narrower width.
    assert np.all(w_bid[1:] <= w_ask[:-1]) and np.all(w_ask[1:] >= w_bid[:-1])
    step = np.maximum(np.abs(np.diff(w_bid)), np.abs(np.diff(w_ask)))
    assert np.all(step <= np.maximum(1, np.minimum(w_ask - w_bid, np.roll(w_ask - w_bid, -1))[:-1]))
    # A gap too large to walk (news) jumps at once.
    j_ts, j_bid, _ = nbbo.walk(np.array([0, 1000]), np.array([10_000, 20_000]), np.array([10_001, 20_001]))
    assert j_ts.tolist() == [0, 1000] and j_bid.tolist() == [10_000, 20_000]


def test_quote_times_sorted_in_minute_and_open_at_zero() -> None:
    keys = rng.fold(rng.mix(3, "q"), np.arange(50))
    rows, off = nbbo.quote_times(keys, np.full(50, 40.0), np.arange(50) == 0)
    assert np.array_equal(np.unique(rows), np.arange(50)), "every minute has a change"
    assert np.all(np.diff(rows) >= 0)
    for r in range(50):
        mine = off[rows == r]
        assert np.all(np.diff(mine) >= 0) and mine.min() >= 0 and mine.max() < MS_PER_MINUTE
    assert off[rows == 0][0] == 0
    # Poisson counts: mean 40 per minute (tolerance: 4 standard errors of the mean of 50 minutes).
    assert abs(np.bincount(rows).mean() - 40.0) < 4 * np.sqrt(40.0 / 50)
    # At least one NBBO change even when the rate is nil, so the in-force quote is always defined.
    rows, off = nbbo.quote_times(keys[:3], np.zeros(3), np.zeros(3, bool))
    assert rows.tolist() == [0, 1, 2] and np.all(off < MS_PER_MINUTE)


def test_a_minute_does_not_depend_on_its_batch() -> None:
    keys = rng.fold(rng.mix(8, "batch"), np.arange(20))
    rates = np.linspace(5.0, 300.0, 20)
    branching = np.linspace(0.3, 0.6, 20)
    rows, t, par = arrivals.hawkes_rows(keys, rates, branching, cap=activity.MAX_TRADES_PER_MINUTE)
    _r1, t1, p1 = arrivals.hawkes_rows(keys[7:8], rates[7:8], branching[7:8], cap=activity.MAX_TRADES_PER_MINUTE)
    mine = rows == 7
    first = int(np.argmax(mine))
    assert np.array_equal(t[mine], t1)
    assert np.array_equal(np.where(par[mine] >= 0, par[mine] - first, -1), p1)
    q_rows, q_off = nbbo.quote_times(keys, rates, np.zeros(20, bool))
    assert np.array_equal(q_off[q_rows == 7], nbbo.quote_times(keys[7:8], rates[7:8], np.zeros(1, bool))[1])


def test_poisson_rows_counts_match_their_rates() -> None:
    # 400 minutes at each of three rates; mean within 4 standard errors, variance ratio near 1.
    for rate in (0.5, 12.0, 250.0):
        keys = rng.fold(rng.mix(11, "pp", int(rate * 10)), np.arange(400))
        rows, t = nbbo.poisson_rows(keys, np.full(400, rate), tag=arrivals.STREAM_POISSON)
        counts = np.bincount(rows, minlength=400)
        assert abs(counts.mean() - rate) < 4 * np.sqrt(rate / 400), (rate, counts.mean())
        assert 0.75 < counts.var() / rate < 1.3, (rate, counts.var())
        assert np.all((t >= 0) & (t < MS_PER_MINUTE))


def _price_case(n: int = 200_000, seed: int = 7):
    gen = rng.generator(seed, "prices")
    bid_c = gen.integers(1_000, 100_000, n)
    ask_c = bid_c + gen.integers(1, 6, n)
    sides = np.where(gen.random(n) < 0.5, 1, -1)
    off = gen.random(n) < 0.45
    size = np.where(gen.random(n) < 0.3, 37, 300)
    micros, exc = trades.trade_prices_micros(gen.random((4, n)), bid_c, ask_c, sides, off, size)
    return bid_c, ask_c, sides, off, micros, exc


def test_lit_prints_on_penny_grid_inside_quote_except_rare_trade_throughs() -> None:
    bid_c, ask_c, sides, off, micros, exc = _price_case()
    lit = ~off
    assert np.all(micros[lit] % trades.MICROS_PER_CENT == 0), "lit prints must be on the $0.01 grid"
    outside = (micros < bid_c * 100) | (micros > ask_c * 100)
    rate = outside[lit].mean()
    # Trade-throughs are one tick through the touch on the aggressor's side, rate ~P_TRADE_THROUGH.
    assert 0.0 < rate < 3 * trades.P_TRADE_THROUGH, rate
    through = lit & outside
    expected = np.where(sides > 0, ask_c + 1, bid_c - 1) * 100
    assert np.array_equal(micros[through], expected[through])
    # Each is flagged, and flagged as an intermarket sweep.
    assert np.array_equal(through, exc == trades.EXC_THROUGH)
    cond = trades.conditions(exc, np.full(exc.size, 300), off, np.ones(exc.size))
    assert np.all(cond[through] == trades.ISO)


def test_off_exchange_prints_subpenny_inside_quote_and_late_reports_flagged() -> None:
    bid_c, ask_c, sides, off, micros, exc = _price_case()
    outside = (micros < bid_c * 100) | (micros > ask_c * 100)
    assert not outside[off].any(), "priced here, every TRF print is inside (late reports are repriced later)"
    late, average = exc == trades.EXC_LATE, exc == trades.EXC_AVERAGE
    assert not (late | average)[~off].any()
    assert abs(late[off].mean() - trades.P_LATE) < 5 * np.sqrt(trades.P_LATE / off.sum())
    assert abs(average[off].mean() - trades.P_AVERAGE_PRICE) < 5 * np.sqrt(trades.P_AVERAGE_PRICE / off.sum())
    cond = trades.conditions(exc, np.full(exc.size, 37), off, np.zeros(exc.size))
    assert np.all(cond[late] == trades.LATE) and np.all(cond[average] == trades.AVERAGE_PRICE)
    assert np.all(cond[off & ~late & ~average] == trades.ODD_LOT)
    inside_off = off & ~outside
    mid = (bid_c + ask_c) * 50
    at_mid = inside_off & (micros == mid)
    sub_penny = inside_off & (micros % 100 != 0)
    # Dark midpoint crosses and wholesaler price improvement are both common on the TRF.
    assert at_mid.sum() > 0.15 * inside_off.sum()
    assert sub_penny.sum() > 0.25 * inside_off.sum()
    # A wholesaler fill improves on the touch but stays on the aggressor's side of the mid.
    improved = inside_off & (micros != mid) & (micros % 100 != 0)
    buy = sides > 0
    assert np.all(micros[improved & buy] >= mid[improved & buy])
    assert np.all(micros[improved & ~buy] <= mid[improved & ~buy])
    prices = (np.array([2281250, 2281237, 1]) / trades.MICROS_PER_DOLLAR).tolist()  # as the generator converts them
    assert prices == [228.125, 228.1237, 0.0001]


def test_trade_sizes_cluster_at_round_lots_with_power_law_tail() -> None:
    gen = rng.generator(11, "sizes")
    n = 400_000
    s = sizes.trade_sizes(*gen.random((4, n)), scale=1.0)
    assert s.min() >= 1 and s.max() <= sizes.TAIL_MAX
    share_100 = np.mean(s % 100 == 0)
    # A smooth size distribution would put ~1% of prints on multiples of 100; here most are round lots.
    assert share_100 > 0.6, share_100
    for lot in (100, 200, 500, 1000):
        assert np.mean(s == lot) > 5 * np.mean(s == lot + 1), lot
    assert 0.2 < np.mean(s < 100) < 0.4, "odd lots are a real share of prints"
    alpha = float(np.sum(s > 3000) / np.sum(np.log(s[s > 3000] / 3000)))
    # Hill estimate of P(size > x) ~ x^-alpha above 3,000 shares: heavy tail, exponent below 2.
    assert 1.2 < alpha < 1.9, alpha


def test_quote_sizes_are_round_lots() -> None:
    u = rng.generator(2, "qs").random(50_000)
    for depth in (0.1, 1.0, 3.0):
        q = sizes.quote_sizes(u, depth)
        assert np.all(q % 100 == 0) and q.min() >= 100
    assert sizes.quote_sizes(u, 3.0).mean() > 2 * sizes.quote_sizes(u, 1.0).mean() * 0.9


def test_off_exchange_probability_by_size_and_regime() -> None:
    sz = np.array([50, 300, 20_000])
    base = venues.off_exchange_prob(sz, 0.0)
    assert base[0] > base[1] and base[2] > base[1], "odd lots and blocks route off exchange more"
    chase = venues.off_exchange_prob(sz, activity.regime_activity("retail_chase").off_exchange_shift)
    ramp = venues.off_exchange_prob(sz, activity.regime_activity("event_ramp").off_exchange_shift, True)
    assert np.all(chase > base) and np.all(ramp < base)
    assert np.all(venues.off_exchange_prob(sz, 5.0) <= venues.OFF_EXCHANGE_MAX)
    v = venues.venue_indices(np.linspace(0, 0.999, 1000), np.zeros(1000, bool), "technology")
    assert {venues.VENUES[i] for i in v} == set(venues.LIT_VENUES)
    assert np.all(venues.venue_indices(np.full(5, 0.3), np.ones(5, bool), "index_etf") == venues.OFF_EXCHANGE_INDEX)


def test_hawkes_mean_count_and_clustering() -> None:
    keys = rng.fold(rng.mix(5, "hk"), np.arange(3000))
    rows, t, parents = arrivals.hawkes_rows(keys, np.full(3000, 30.0), np.full(3000, 0.5),
                                            cap=activity.MAX_TRADES_PER_MINUTE)
    assert np.all(parents < np.arange(t.size)), "a trigger always precedes what it triggers"
    assert np.all(rows[parents[parents >= 0]] == rows[parents >= 0]), "a trigger sits in its follower's minute"
    assert np.all(t[parents[parents >= 0]] <= t[parents >= 0])
    counts = np.bincount(rows, minlength=3000)
    gaps = np.concatenate([np.diff(np.sort(t[rows == r])) for r in range(300)])
    # Followers past the minute are dropped, so the mean is a little under the nominal rate.
    assert 26.0 < np.mean(counts) < 30.5, np.mean(counts)
    # Counts over-dispersed and inter-arrival CV > 1: clustered, not Poisson (tolerance 10%).
    assert np.var(counts) > 1.5 * np.mean(counts)
    assert np.std(gaps) / np.mean(gaps) > 1.1


def test_hawkes_cap_keeps_the_earliest_generations() -> None:
    keys = rng.fold(rng.mix(6, "cap"), np.arange(4))
    rows, t, parents = arrivals.hawkes_rows(keys, np.full(4, 400.0), np.full(4, 0.6), cap=100)
    assert np.bincount(rows).tolist() == [100] * 4
    assert np.all(parents < np.arange(t.size)) and np.all(parents >= -1)


def test_trade_sides_inherit_and_lean() -> None:
    n = 100_000
    gen = rng.generator(4, "sides")
    parents = np.where(np.arange(n) % 2 == 1, np.arange(n) - 1, -1)
    sides = trades.trade_sides(gen.random(n), gen.random(n), parents, 0.5, 0.9)
    same = np.mean(sides[1::2] == sides[0::2])
    assert 0.93 < same < 0.97, same   # 0.9 inherit + 0.1 * 0.5 by chance
    lean = trades.trade_sides(gen.random(n), gen.random(n), np.full(n, -1), 0.7, 0.9)
    assert 0.68 < np.mean(lean > 0) < 0.72


def test_intraday_curve_is_u_shaped() -> None:
    c = nbbo.intraday_curve(np.arange(390))
    mid = c[150:240].mean()
    assert c[:30].mean() > 1.8 * mid and c[-30:].mean() > 1.8 * mid


def test_cox_factors_mean_one_and_persistent() -> None:
    f = np.array([activity.cox_factors(9, 700_000 + d, "AAPL", range(390)) for d in range(40)])
    assert 0.93 < f.mean() < 1.07, f.mean()
    x = np.log(f).ravel()
    lag1 = np.corrcoef(x[:-1], x[1:])[0, 1]
    assert lag1 > 0.4, "slow components make neighbouring minutes alike"


def test_seq_within_ms_counts_duplicates() -> None:
    assert seq_within_ms(np.array([5, 5, 6, 7, 7, 7, 9])).tolist() == [0, 1, 0, 0, 1, 2, 0]
    assert seq_within_ms(np.array([], dtype=np.int64)).tolist() == []


def test_liquidity_weight_orders_names() -> None:
    assert activity.liquidity_weight(symbol_spec("SPY")) > activity.liquidity_weight(symbol_spec("BAC"))
