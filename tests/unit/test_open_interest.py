"""Open interest at the open: its shape across a chain, determinism, and the next day's carry-over."""

from __future__ import annotations

import dataclasses
import datetime as dt
import statistics

import numpy as np
import pytest

from options_svc import open_interest as oi
from options_svc import structural
from options_svc.generator import OptionsGenerator
from options_svc.legs import strikes_in_otm
from options_svc.previous_session import session_openings
from synthmarket.domain import chain
from synthmarket.domain.calendar import previous_trading_date, trading_day
from synthmarket.domain.control import SyntheticControlState
from synthmarket.domain.profiles import NEUTRAL_NOISE
from synthmarket.domain.universe import UNIVERSE

SEED = 20260101
TODAY = dt.date(2026, 11, 11)       # a Wednesday; the 2026-11-20 monthly is the front one
PREVIOUS = previous_trading_date(TODAY)
SINGLE_NAMES = [s for s in UNIVERSE if s not in oi.INDEX_ETFS]


def _book(seed: int = SEED, openings: dict[str, int] | None = None, carry: bool = True) -> oi.OpenInterestBook:
    return oi.OpenInterestBook(seed, TODAY, PREVIOUS, openings or {}, carry=carry)


def _strikes(root: str, expiry: dt.date, band: float) -> list[float]:
    spot = UNIVERSE[root].ref_price
    inc = chain.strike_increment(spot, (expiry - TODAY).days, root)
    lo, hi = int(spot * (1 - band) / inc) + 1, int(spot * (1 + band) / inc)
    return [round(k * inc, 4) for k in range(lo, hi + 1)]


def _chain_total(book: oi.OpenInterestBook, root: str, band: float = 0.2) -> int:
    return sum(book[chain.occ_symbol(root, e, r, k)] for e in chain.expiries(root, TODAY)
               for k in _strikes(root, e, band) for r in "CP")


def _expiry_total(book: oi.OpenInterestBook, root: str, expiry: dt.date, band: float = 0.2) -> int:
    return sum(book[chain.occ_symbol(root, expiry, r, k)] for k in _strikes(root, expiry, band) for r in "CP")


def test_open_interest_is_a_function_of_seed_day_and_contract():
    symbols = [chain.occ_symbol("AAPL", dt.date(2026, 12, 18), "C", k) for k in (220.0, 225.0, 230.0, 240.0)]
    first = [_book()[s] for s in symbols]
    assert first == [_book()[s] for s in symbols]
    assert first != [_book(seed=SEED + 1)[s] for s in symbols]
    assert all(v > 0 for v in first)


def test_open_interest_gathers_near_the_money():
    # Real chains: the front monthly's strikes near the money hold several times what strikes 15%
    # away hold. Checked: the median within 2% of the reference price over 5x the median 14-16% out.
    book = _book()
    front = dt.date(2026, 11, 20)
    for root in ("SPY", "AAPL", "JPM"):
        spot = UNIVERSE[root].ref_price
        ks = _strikes(root, front, 0.2)
        near = [book[chain.occ_symbol(root, front, "C", k)] for k in ks if abs(k / spot - 1) <= 0.02]
        far = [book[chain.occ_symbol(root, front, "C", k)] for k in ks if 0.14 <= k / spot - 1 <= 0.16]
        assert near and far
        assert statistics.median(near) >= 5 * statistics.median(far), (root, near, far)


def test_round_strikes_carry_more_open_interest():
    # On SPY's $1 grid, strikes on a multiple of 5 hold 1.5-3x their neighbours on real chains.
    # Checked: mean ratio within 5% of the money in [1.4, 4].
    book = _book()
    front = dt.date(2026, 11, 20)
    ks = _strikes("SPY", front, 0.05)
    round_ = [book[chain.occ_symbol("SPY", front, r, k)] for k in ks for r in "CP" if k % 5 == 0]
    other = [book[chain.occ_symbol("SPY", front, r, k)] for k in ks for r in "CP" if k % 5 != 0]
    ratio = statistics.mean(round_) / statistics.mean(other)
    assert 1.4 <= ratio <= 4.0, ratio


def test_monthly_expiries_carry_more_than_weeklies():
    # The front monthly holds 2-5x the weekly next to it on real chains. Checked: in [2, 8] for
    # SPY and for the median single name.
    book = _book()
    monthly, weekly = dt.date(2026, 11, 20), dt.date(2026, 11, 27)
    assert oi.expiry_kind(monthly) == "monthly" and oi.expiry_kind(weekly) == "weekly"
    spy = _expiry_total(book, "SPY", monthly) / _expiry_total(book, "SPY", weekly)
    singles = statistics.median(_expiry_total(book, s, monthly) / _expiry_total(book, s, weekly) for s in SINGLE_NAMES)
    assert 2.0 <= spy <= 8.0 and 2.0 <= singles <= 8.0, (spy, singles)


def test_index_etfs_hold_far_more_open_interest_than_single_names():
    # SPY's whole chain holds ~15-20 M contracts, a typical large single name's 1-3 M (OCC, 2024-25).
    # Checked: SPY's chain (strikes within 20%) in [8 M, 40 M], the median single name in
    # [0.3 M, 4 M], and SPY over 8x that median.
    book = _book()
    spy = _chain_total(book, "SPY")
    median_single = statistics.median(_chain_total(book, s) for s in SINGLE_NAMES)
    assert 8e6 <= spy <= 40e6, spy
    assert 0.3e6 <= median_single <= 4e6, median_single
    assert spy >= 8 * median_single, (spy, median_single)


def test_a_contract_listed_today_has_no_open_interest():
    # 2026-11-11's daily SPY list reaches 14 days out: 2026-11-25 first appears today.
    new = dt.date(2026, 11, 25)
    assert oi.listed_today("SPY", new, TODAY, PREVIOUS)
    book = _book(openings={chain.occ_symbol("SPY", new, "C", 585.0): 500})
    assert book[chain.occ_symbol("SPY", new, "C", 585.0)] == 0
    assert not oi.listed_today("SPY", dt.date(2026, 11, 24), TODAY, PREVIOUS)
    assert book[chain.occ_symbol("SPY", dt.date(2026, 11, 24), "C", 585.0)] > 0


def test_opening_and_closing_prints_move_the_next_day_and_never_below_zero():
    contract = chain.occ_symbol("NFLX", dt.date(2027, 6, 17), "C", 1300.0)
    base = _book()[contract]
    assert _book(openings={contract: 750})[contract] == base + 750
    assert _book(openings={contract: -10 * base - 1_000})[contract] == 0
    assert oi.net_openings([(contract, 300, "call_sweep"), (contract, 120, "dealer_unwind"),
                            (contract, 9, "two_sided_scalp")], TODAY) == {contract: 180}


@pytest.fixture(scope="module")
def yesterday():
    """The previous session's families-only tape with its labels (what the next day's book counts)."""
    day = trading_day(PREVIOUS)
    symbols = ("SPY", "AAPL", "TSLA")
    g = OptionsGenerator(SyntheticControlState(shared_seed=SEED), symbols, start_ts=day.open_ms,
                         ordinary_scale=0.0, open_interest=False)
    prints = g.step(day.open_ms, day.close_ms)
    return symbols, prints, g.pop_labels()


def test_the_next_day_counts_the_previous_sessions_opening_trades(yesterday):
    symbols, prints, labels = yesterday
    day = trading_day(TODAY)
    # A known opening trade: the largest opening print of the session on a contract alive today.
    opening = [p for p in prints if oi.SUBTYPE_EFFECT[labels[p.id][1]] == oi.OPENING
               and dt.date.fromisoformat(p.expiry) > TODAY]
    known = max(opening, key=lambda p: p.size)
    expected = sum(oi.SUBTYPE_EFFECT[labels[p.id][1]] * p.size for p in prints if p.contract == known.contract)
    assert expected >= known.size >= 10
    g = OptionsGenerator(SyntheticControlState(shared_seed=SEED), symbols, start_ts=day.open_ms)
    today = g.step(day.open_ms, day.open_ms + 60_000)
    carried = session_openings(OptionsGenerator, SEED, PREVIOUS, symbols)
    assert carried[known.contract] == expected
    book = oi.OpenInterestBook(SEED, TODAY, PREVIOUS, carried)
    without = oi.OpenInterestBook(SEED, TODAY, PREVIOUS, {})
    assert book[known.contract] - without[known.contract] == expected
    # The prints of today carry that book.
    assert today and all(p.open_interest == book[p.contract] for p in today)


def test_the_replay_counts_the_noise_without_drafting_it(yesterday):
    """The replay leaves the neutral noise undrafted (it moves no open interest): every other print
    and every scenario count are those of the drafted tape."""
    symbols, prints, labels = yesterday
    day = trading_day(PREVIOUS)
    g = OptionsGenerator(SyntheticControlState(shared_seed=SEED), symbols, start_ts=day.open_ms,
                         ordinary_scale=0.0, open_interest=False, noise_prints=False)
    undrafted = g.step(day.open_ms, day.close_ms)
    undrafted_labels = g.pop_labels()

    def fields(ps, ls, keep=lambda label: True):
        return [(p.ts, p.contract, p.size, p.price, p.exchange, ls[p.id]) for p in ps if keep(ls[p.id])]

    noise = [p for p in prints if labels[p.id][0] == NEUTRAL_NOISE]
    assert len(noise) > 100
    assert fields(undrafted, undrafted_labels) == fields(prints, labels, lambda label: label[0] != NEUTRAL_NOISE)
    drafted = OptionsGenerator(SyntheticControlState(shared_seed=SEED), symbols, start_ts=day.open_ms,
                               ordinary_scale=0.0, open_interest=False)
    drafted.step(day.open_ms, day.close_ms)
    assert g.scenario_counts == drafted.scenario_counts and g.scenario_counts[NEUTRAL_NOISE] > 100


def test_the_noise_always_hosts_even_where_no_strike_is_near_the_money():
    """What lets the replay skip the noise: stale_quote_noise drafts a print on any market, falling
    back to the nearest strike where its moneyness band lists none."""
    day = trading_day(TODAY)
    g = OptionsGenerator(SyntheticControlState(shared_seed=SEED), ("BAC",), start_ts=day.open_ms)
    ctx = g.scenario_context("BAC", day.open_ms + 3_600_000)
    empty_bands = 0
    for i, spot in enumerate(np.geomspace(0.6, 40.0, 60).tolist()):
        thin = dataclasses.replace(ctx, ul=dataclasses.replace(ctx.ul, price=spot), _surface=None, _terms=None)
        thin._quotes.clear()
        rng = np.random.default_rng(i)
        drafts = structural.stale_quote_noise(thin, rng)
        assert len(drafts) == 1 and drafts[0].price > 0.0
        empty_bands += not any(strikes_in_otm(thin, e, r, -0.05, 0.10)
                               for e in thin.expiries(0, 120)[:4] for r in "CP")
    assert empty_bands > 0      # the fallback was needed somewhere
