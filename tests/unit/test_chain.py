"""Tests for the public option-chain conventions."""

from __future__ import annotations

import datetime as dt
import math

import pytest

from synthmarket.domain import chain
from synthmarket.domain.calendar import trading_day

DAY = trading_day(dt.date(2026, 11, 25))  # a Wednesday


def test_occ_symbol_format_and_round_trip():
    sym = chain.occ_symbol("AAPL", dt.date(2026, 12, 18), "C", 230)
    assert sym == "AAPL  261218C00230000"
    assert chain.occ_symbol("GOOGL", "2027-01-15", "P", 172.5) == "GOOGL 270115P00172500"
    for root, exp, right, k in [("SPY", dt.date(2026, 11, 25), "P", 585.0), ("BAC", dt.date(2028, 1, 21), "C", 44.5),
                                ("NFLX", dt.date(2027, 6, 18), "C", 1250.0)]:
        c = chain.parse_occ(chain.occ_symbol(root, exp, right, k))
        assert (c.root, c.expiry, c.right, c.strike) == (root, exp, right, k)


@pytest.mark.parametrize("bad", ["AAPL261218C00230000", "AAPL  261318C00230000", "AAPL  261218X00230000", ""])
def test_parse_occ_rejects_malformed(bad):
    with pytest.raises(chain.OccSymbolError):
        chain.parse_occ(bad)


def test_expiry_calendar_spans_0dte_to_leaps():
    spy = chain.expiries("SPY", DAY.date)
    aapl = chain.expiries("AAPL", DAY.date)
    assert spy[0] == DAY.date  # SPY has a 0DTE every weekday
    assert aapl[0] == dt.date(2026, 11, 27)  # next Friday weekly
    # Fridays, except where the Friday is a market holiday: Christmas 2026, New Year's Day 2027 and
    # Juneteenth 2027 (observed Friday 06-18) expire on the Thursday before.
    shifted = [e for e in aapl if e.weekday() != 4]
    assert shifted == [dt.date(2026, 12, 24), dt.date(2026, 12, 31), dt.date(2027, 6, 17)]
    assert dt.date(2026, 12, 24) in aapl and dt.date(2026, 12, 25) not in aapl
    assert dt.date(2026, 12, 31) in aapl and dt.date(2027, 1, 1) not in aapl
    assert dt.date(2026, 11, 26) not in spy, "no daily expiry on Thanksgiving"
    assert dt.date(2026, 12, 18) in aapl  # third Friday of December
    assert dt.date(2027, 1, 15) in aapl and dt.date(2028, 1, 21) in aapl  # January LEAPS
    assert list(spy) == sorted(set(spy))
    dtes = [(e - DAY.date).days for e in aapl]
    assert min(dtes) <= 7 and max(dtes) >= 400
    assert any(180 <= d <= 720 for d in dtes)


def test_friday_expiries_on_good_friday_move_to_thursday():
    # Good Friday 2026 is 04-03 and 2027's is 03-26: a Friday expiry there moves to the Thursday.
    assert chain.expiry_on(dt.date(2026, 4, 3)) == dt.date(2026, 4, 2)
    assert chain.expiry_on(dt.date(2026, 4, 17)) == dt.date(2026, 4, 17)
    for root in ("AAPL", "SPY"):    # a weekly, and a daily list that has no Good Friday either
        april = chain.expiries(root, dt.date(2026, 3, 30))
        assert dt.date(2026, 4, 2) in april and dt.date(2026, 4, 3) not in april, root
    march = chain.expiries("AAPL", dt.date(2027, 3, 22))
    assert dt.date(2027, 3, 25) in march and dt.date(2027, 3, 26) not in march


def test_dte_and_years_to_expiry():
    ts = DAY.at("10:00")
    assert chain.dte(ts, "2026-11-25") == 0
    assert chain.dte(ts, dt.date(2026, 12, 18)) == 23
    assert chain.years_to_expiry(ts, "2026-11-25") == pytest.approx(6 / (365 * 24))
    assert chain.discount_factor(ts, "2027-11-25") == pytest.approx(math.exp(-0.045 * (365 + 0.25) / 365), rel=1e-6)


def test_strike_increments_divide_gamma_step():
    for spot in (12.0, 44.0, 62.0, 138.0, 228.0, 299.0, 330.0, 585.0, 880.0):
        for d in (0, 30, 365):
            inc = chain.strike_increment(spot, d)
            step = chain.gamma_strike_step(spot)
            assert inc in (0.5, 1.0, 2.5, 5.0, 10.0)
            assert abs(step / inc - round(step / inc)) < 1e-9
    assert chain.strike_increment(585.0, 3, "SPY") == 1.0
    assert chain.strike_increment(585.0, 400, "SPY") == 10.0


def test_otm_and_gamma_strikes():
    assert chain.otm_pct("C", 105, 100) == pytest.approx(5.0)
    assert chain.otm_pct("P", 95, 100) == pytest.approx(5.0)
    assert chain.otm_frac("C", 95, 100) == pytest.approx(-0.05)
    assert chain.gamma_strike_step(299.9) == 5 and chain.gamma_strike_step(300) == 10
    assert chain.is_gamma_strike(230, 228) and not chain.is_gamma_strike(232.5, 228)
    assert chain.is_gamma_strike(590, 585) and not chain.is_gamma_strike(585, 585.2)
    assert chain.gamma_strike_nearest(587.0) == 590 and chain.gamma_strike_below(587.0) == 580


def test_side_of():
    assert chain.side_of(1.10, 1.00, 1.10, 0) == "buy"
    assert chain.side_of(1.13, 1.00, 1.10, 0) == "buy"
    assert chain.side_of(1.08, 1.00, 1.10, 0) == "buy"  # within the top quarter
    assert chain.side_of(1.00, 1.00, 1.10, 0) == "sell"
    assert chain.side_of(1.02, 1.00, 1.10, 0) == "sell"
    assert chain.side_of(1.05, 1.00, 1.10, 0) == "mid"
    assert chain.side_of(1.10, None, 1.10, 0) == "unknown"
    assert chain.side_of(1.10, 1.00, 1.10, 2_000) == "unknown"
    assert chain.side_of(1.10, 1.00, 1.10, 1_999) == "buy"


def test_premium():
    assert chain.premium(2.5, 100) == pytest.approx(25_000.0)
