"""The US equities trading calendar: session open/close in epoch milliseconds (UTC)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import lru_cache
from zoneinfo import ZoneInfo

EXCHANGE_TZ = ZoneInfo("America/New_York")
OPEN_TIME = dt.time(9, 30)
CLOSE_TIME = dt.time(16, 0)
SESSION_MINUTES = 390
MS_PER_MINUTE = 60_000
MS_PER_DAY = 86_400_000


class CalendarError(ValueError):
    pass


@dataclass(frozen=True)
class TradingDay:
    date: dt.date
    open_ms: int
    close_ms: int

    @property
    def ordinal(self) -> int:
        """A stable integer for the day, used to key the day's randomness."""
        return self.date.toordinal()

    def minute_of_session(self, ts_ms: int) -> float:
        return (ts_ms - self.open_ms) / MS_PER_MINUTE

    def at(self, hhmm: str) -> int:
        """Epoch ms of an HH:MM exchange time on this day."""
        try:
            hour, minute = (int(p) for p in hhmm.split(":"))
            local = dt.datetime.combine(self.date, dt.time(hour, minute), EXCHANGE_TZ)
        except (ValueError, TypeError):
            raise CalendarError(f"expected HH:MM exchange time, got {hhmm!r}") from None
        return int(local.timestamp() * 1000)


def _easter(year: int) -> dt.date:
    """Gregorian Easter Sunday (the anonymous Gregorian algorithm)."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = divmod(b, 4)
    g = (8 * b + 13) // 25
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    el = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 19 * el) // 433
    month = (h + el - 7 * m + 90) // 25
    return dt.date(year, month, (h + el - 7 * m + 33 * month + 19) % 32)


def _nth_weekday(year: int, month: int, weekday: int, n: int) -> dt.date:
    """The n-th ``weekday`` (0 = Monday) of a month; n = -1 for the last one."""
    if n > 0:
        first = dt.date(year, month, 1)
        return first + dt.timedelta(days=(weekday - first.weekday()) % 7 + 7 * (n - 1))
    last = dt.date(year + month // 12, month % 12 + 1, 1) - dt.timedelta(days=1)
    return last - dt.timedelta(days=(last.weekday() - weekday) % 7)


def _observed(date: dt.date) -> dt.date | None:
    """A fixed-date holiday on a weekend is observed on the Friday before or the Monday after;
    a Saturday New Year's Day is not observed at all (the exchange keeps the year's last day open)."""
    if date.weekday() == 5:
        return None if (date.month, date.day) == (1, 1) else date - dt.timedelta(days=1)
    if date.weekday() == 6:
        return date + dt.timedelta(days=1)
    return date


@lru_cache(maxsize=64)
def market_holidays(year: int) -> dict[dt.date, str]:
    """Full-day closures of the US equity and options exchanges (NYSE rules) in ``year``.

    Early closes (13:00 on the day after Thanksgiving, Christmas Eve and some 3 July sessions)
    are traded as full sessions here: every session has the same 390 minutes.
    """
    fixed = [(dt.date(year, 1, 1), "New Year's Day"), (dt.date(year, 7, 4), "Independence Day"),
             (dt.date(year, 12, 25), "Christmas Day")]
    if year >= 2022:
        fixed.append((dt.date(year, 6, 19), "Juneteenth"))
    days = {observed: name for date, name in fixed if (observed := _observed(date)) is not None}
    days.update({
        _nth_weekday(year, 1, 0, 3): "Martin Luther King Jr. Day",
        _nth_weekday(year, 2, 0, 3): "Washington's Birthday",
        _easter(year) - dt.timedelta(days=2): "Good Friday",
        _nth_weekday(year, 5, 0, -1): "Memorial Day",
        _nth_weekday(year, 9, 0, 1): "Labor Day",
        _nth_weekday(year, 11, 3, 4): "Thanksgiving Day",
    })
    return days


def is_trading_date(date: dt.date) -> bool:
    """A weekday on which the exchanges open (see ``market_holidays``)."""
    return date.weekday() < 5 and date not in market_holidays(date.year)


def trading_day(date: dt.date) -> TradingDay:
    if not is_trading_date(date):
        why = market_holidays(date.year).get(date)
        what = f"{why}, a market holiday" if why else f"a {date.strftime('%A')}"
        raise CalendarError(f"{date.isoformat()} is {what}, not a trading day")
    open_local = dt.datetime.combine(date, OPEN_TIME, EXCHANGE_TZ)
    close_local = dt.datetime.combine(date, CLOSE_TIME, EXCHANGE_TZ)
    return TradingDay(date, int(open_local.timestamp() * 1000), int(close_local.timestamp() * 1000))


def exchange_date(ts_ms: int) -> dt.date:
    return dt.datetime.fromtimestamp(ts_ms / 1000, EXCHANGE_TZ).date()


def trading_day_for(ts_ms: int) -> TradingDay:
    """The trading day a timestamp belongs to; weekend and holiday timestamps map to the trading day before."""
    date = exchange_date(ts_ms)
    while not is_trading_date(date):
        date -= dt.timedelta(days=1)
    return trading_day(date)
