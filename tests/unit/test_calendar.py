"""The trading calendar: sessions in New York time, weekends and NYSE market holidays closed."""

from __future__ import annotations

import datetime as dt

import pytest

from synthmarket.domain.calendar import CalendarError, is_trading_date, market_holidays, trading_day, trading_day_for

D = dt.date

# Published NYSE full-day closures.
NYSE = {
    2021: [D(2021, 1, 1), D(2021, 1, 18), D(2021, 2, 15), D(2021, 4, 2), D(2021, 5, 31), D(2021, 7, 5),
           D(2021, 9, 6), D(2021, 11, 25), D(2021, 12, 24)],
    2022: [D(2022, 1, 17), D(2022, 2, 21), D(2022, 4, 15), D(2022, 5, 30), D(2022, 6, 20), D(2022, 7, 4),
           D(2022, 9, 5), D(2022, 11, 24), D(2022, 12, 26)],
    2026: [D(2026, 1, 1), D(2026, 1, 19), D(2026, 2, 16), D(2026, 4, 3), D(2026, 5, 25), D(2026, 6, 19),
           D(2026, 7, 3), D(2026, 9, 7), D(2026, 11, 26), D(2026, 12, 25)],
    2027: [D(2027, 1, 1), D(2027, 1, 18), D(2027, 2, 15), D(2027, 3, 26), D(2027, 5, 31), D(2027, 6, 18),
           D(2027, 7, 5), D(2027, 9, 6), D(2027, 11, 25), D(2027, 12, 24)],
}


@pytest.mark.parametrize("year", sorted(NYSE))
def test_market_holidays_match_the_exchange_calendar(year):
    assert sorted(market_holidays(year)) == NYSE[year]
    assert all(not is_trading_date(d) for d in NYSE[year])


def test_saturday_new_year_is_not_observed_on_the_friday_before():
    # 2022-01-01 was a Saturday: the exchange stayed open on Friday 2021-12-31.
    assert is_trading_date(D(2021, 12, 31))


def test_sessions_are_0930_to_1600_new_york_on_trading_days_only():
    day = trading_day(D(2026, 11, 25))
    assert day.close_ms - day.open_ms == 390 * 60_000
    assert trading_day(D(2026, 11, 27)).open_ms - day.open_ms == 2 * 86_400_000
    with pytest.raises(CalendarError, match="Thanksgiving Day, a market holiday"):
        trading_day(D(2026, 11, 26))
    with pytest.raises(CalendarError, match="Saturday"):
        trading_day(D(2026, 11, 28))
    # A holiday timestamp belongs to the trading day before it.
    assert trading_day_for(trading_day(D(2026, 11, 25)).open_ms + 86_400_000).date == D(2026, 11, 25)
