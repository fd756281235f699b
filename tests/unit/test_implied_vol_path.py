"""The at-the-money implied volatility of the engine against what real markets show (MARKET_FACTS)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from synthmarket.domain.calendar import is_trading_date, trading_day
from synthmarket.domain.control import DEFAULT_CONTROL
from synthmarket.domain.universe import DEFAULT_SYMBOLS
from synthmarket.engine import underlying_path

INDEX_ETFS = ("SPY", "QQQ", "IWM")


def trading_days(start: dt.date, count: int) -> list[dt.date]:
    out, day = [], start
    while len(out) < count:
        if is_trading_date(day):
            out.append(day)
        day += dt.timedelta(days=1)
    return out


@pytest.fixture(scope="module")
def sessions() -> dict[str, list[dict[str, np.ndarray]]]:
    """Minute paths of every name over 30 balanced_demo sessions (two seeds x 15 days)."""
    out: dict[str, list] = {s: [] for s in DEFAULT_SYMBOLS}
    for seed in (1, 2):
        control = DEFAULT_CONTROL.with_update(shared_seed=seed)
        for date in trading_days(dt.date(2026, 9, 8), 15):
            day = trading_day(date)
            marks = np.arange(day.open_ms, day.close_ms, 60_000)
            for symbol in DEFAULT_SYMBOLS:
                out[symbol].append(underlying_path(symbol, marks, control))
    return out


def test_index_etf_iv_sits_where_the_vix_does(sessions):
    levels = [p["atm_iv"].mean() for p in sessions["SPY"]]
    # Tolerance: SPY's daily mean ATM IV between 10% and 26% on every day, median 13-18% (VIX 12-25).
    assert min(levels) >= 0.10 and max(levels) <= 0.26
    assert 0.13 <= float(np.median(levels)) <= 0.18
    # Day to day the level moves (a VIX that never moves is a constant): 5th-95th percentile spread > 3 points.
    assert np.percentile(levels, 95) - np.percentile(levels, 5) > 0.03


def test_intraday_index_iv_moves_by_a_point_or_two(sessions):
    for symbol in INDEX_ETFS:
        ranges = [100 * (p["atm_iv"].max() - p["atm_iv"].min()) for p in sessions[symbol]]
        # Tolerance: the median day's range of ATM IV is 0.5-3.5 vol points, 90% of days under 6.
        assert 0.5 <= float(np.median(ranges)) <= 3.5, (symbol, np.median(ranges))
        assert np.percentile(ranges, 90) < 6.0, (symbol, np.percentile(ranges, 90))


def test_iv_moves_against_the_price(sessions):
    for symbol in INDEX_ETFS:
        corrs = []
        for p in sessions[symbol]:
            r = np.diff(np.log(p["price"][::30]))
            d = np.diff(p["atm_iv"][::30])
            corrs.append(np.corrcoef(r, d)[0, 1])
        # Tolerance: 30-minute returns and IV changes correlate below -0.3 on the median day
        # (SPX and the VIX: about -0.7 to -0.8 daily).
        assert float(np.median(corrs)) < -0.3, (symbol, np.median(corrs))


def test_no_name_prints_a_triple_digit_iv_on_an_ordinary_day(sessions):
    for symbol, paths in sessions.items():
        assert max(p["atm_iv"].max() for p in paths) < 1.0, symbol
    # and the high-beta names sit well above the index (40-70% for TSLA-like names).
    assert 0.4 <= float(np.median([p["atm_iv"].mean() for p in sessions["TSLA"]])) <= 0.75
