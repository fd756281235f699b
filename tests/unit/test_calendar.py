"""The trading calendar: NYSE sessions in New York time, weekends, holidays and special closures closed."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys

import pytest

from synthmarket.domain.calendar import (
    EXCHANGE_TZ,
    SNAPSHOT,
    CalendarError,
    exchange_from_library,
    is_trading_date,
    session_minutes,
    snapshot_text,
    trading_day,
    trading_day_for,
)

D = dt.date

# Published NYSE full-day closures (nyse.com "Holidays & Trading Hours"), special closures included.
NYSE = {
    2021: [D(2021, 1, 1), D(2021, 1, 18), D(2021, 2, 15), D(2021, 4, 2), D(2021, 5, 31), D(2021, 7, 5),
           D(2021, 9, 6), D(2021, 11, 25), D(2021, 12, 24)],
    2022: [D(2022, 1, 17), D(2022, 2, 21), D(2022, 4, 15), D(2022, 5, 30), D(2022, 6, 20), D(2022, 7, 4),
           D(2022, 9, 5), D(2022, 11, 24), D(2022, 12, 26)],
    # 2025-01-09: national day of mourning for President Carter.
    2025: [D(2025, 1, 1), D(2025, 1, 9), D(2025, 1, 20), D(2025, 2, 17), D(2025, 4, 18), D(2025, 5, 26),
           D(2025, 6, 19), D(2025, 7, 4), D(2025, 9, 1), D(2025, 11, 27), D(2025, 12, 25)],
    2026: [D(2026, 1, 1), D(2026, 1, 19), D(2026, 2, 16), D(2026, 4, 3), D(2026, 5, 25), D(2026, 6, 19),
           D(2026, 7, 3), D(2026, 9, 7), D(2026, 11, 26), D(2026, 12, 25)],
    2027: [D(2027, 1, 1), D(2027, 1, 18), D(2027, 2, 15), D(2027, 3, 26), D(2027, 5, 31), D(2027, 6, 18),
           D(2027, 7, 5), D(2027, 9, 6), D(2027, 11, 25), D(2027, 12, 24)],
}

# Published NYSE early closes (13:00 New York).
EARLY = {
    2025: [D(2025, 7, 3), D(2025, 11, 28), D(2025, 12, 24)],
    2026: [D(2026, 11, 27), D(2026, 12, 24)],
}


def _weekdays(year: int) -> list[dt.date]:
    days = (D(year, 1, 1) + dt.timedelta(days=i) for i in range(366))
    return [d for d in days if d.year == year and d.weekday() < 5]


def _ny(ms: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(ms / 1000, EXCHANGE_TZ)


@pytest.mark.parametrize("year", sorted(NYSE))
def test_closed_weekdays_are_exactly_the_published_nyse_closures(year):
    assert [d for d in _weekdays(year) if not is_trading_date(d)] == NYSE[year]


def test_the_national_day_of_mourning_for_president_carter_is_closed():
    assert not is_trading_date(D(2025, 1, 9))
    with pytest.raises(CalendarError, match=r"^2025-01-09 is not a trading day: NYSE closed \(special closure\)$"):
        trading_day(D(2025, 1, 9))
    assert is_trading_date(D(2025, 1, 8)) and is_trading_date(D(2025, 1, 10))


@pytest.mark.parametrize("year", sorted(EARLY))
def test_early_closes_end_at_1300_new_york(year):
    short = [d for d in _weekdays(year) if is_trading_date(d) and session_minutes(d) != 390]
    assert short == EARLY[year]
    for date in short:
        day = trading_day(date)
        assert (_ny(day.open_ms).time(), _ny(day.close_ms).time()) == (dt.time(9, 30), dt.time(13, 0))
        assert day.minutes == session_minutes(date) == 210


def test_the_day_after_thanksgiving_and_christmas_eve_2026_close_at_1300():
    for date in (D(2026, 11, 27), D(2026, 12, 24)):
        day = trading_day(date)
        assert _ny(day.close_ms) == dt.datetime(date.year, date.month, date.day, 13, 0, tzinfo=EXCHANGE_TZ)
        assert day.close_ms - day.open_ms == 210 * 60_000


def test_saturday_new_year_is_not_observed_on_the_friday_before():
    # 2022-01-01 was a Saturday: the exchange stayed open on Friday 2021-12-31.
    assert is_trading_date(D(2021, 12, 31))


def test_sessions_are_0930_to_1600_new_york_on_trading_days_only():
    day = trading_day(D(2026, 11, 25))
    assert day.close_ms - day.open_ms == 390 * 60_000 and day.minutes == 390
    assert trading_day(D(2026, 11, 27)).open_ms - day.open_ms == 2 * 86_400_000
    with pytest.raises(CalendarError, match=r"2026-11-26 is not a trading day: NYSE closed \(Thanksgiving\)"):
        trading_day(D(2026, 11, 26))
    with pytest.raises(CalendarError, match="2026-11-28 is not a trading day: a Saturday"):
        trading_day(D(2026, 11, 28))
    # A holiday timestamp belongs to the trading day before it.
    assert trading_day_for(trading_day(D(2026, 11, 25)).open_ms + 86_400_000).date == D(2026, 11, 25)


@pytest.mark.parametrize("date", [D(1999, 12, 31), D(2100, 1, 4)])
def test_dates_outside_the_calendar_are_refused_clearly(date):
    with pytest.raises(CalendarError, match="outside the trading calendar"):
        is_trading_date(date)
    with pytest.raises(CalendarError, match="outside the trading calendar"):
        trading_day(date)


def test_the_snapshot_is_what_the_exchange_library_says_today():
    # Stale after an exchange_calendars update that adds a closure: rebuild it with
    # `python -m synthmarket.domain.calendar`.
    assert SNAPSHOT.read_text(encoding="utf-8") == snapshot_text(exchange_from_library()), \
        "synthmarket/domain/xnys.json is stale: run python -m synthmarket.domain.calendar"


def test_looking_dates_up_never_imports_the_exchange_library():
    # exchange_calendars brings pandas (half a second): no process pays for it to look a date up.
    code = ("import sys, datetime\nimport synthmarket.domain.calendar as c\n"
            "assert c.is_trading_date(datetime.date(2026, 11, 25))\n"
            "assert not c.is_trading_date(datetime.date(2026, 11, 26))\n"
            "assert c.trading_day(datetime.date(2026, 11, 27)).minutes == 210\n"
            "assert 'exchange_calendars' not in sys.modules and 'pandas' not in sys.modules\n")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
