"""The US equities trading calendar: session open/close in epoch milliseconds (UTC)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
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


def is_trading_date(date: dt.date) -> bool:
    # Weekends only; exchange holidays are not modelled (a synthetic market may trade them).
    return date.weekday() < 5


def trading_day(date: dt.date) -> TradingDay:
    if not is_trading_date(date):
        raise CalendarError(f"{date.isoformat()} is a {date.strftime('%A')}, not a trading day")
    open_local = dt.datetime.combine(date, OPEN_TIME, EXCHANGE_TZ)
    close_local = dt.datetime.combine(date, CLOSE_TIME, EXCHANGE_TZ)
    return TradingDay(date, int(open_local.timestamp() * 1000), int(close_local.timestamp() * 1000))


def exchange_date(ts_ms: int) -> dt.date:
    return dt.datetime.fromtimestamp(ts_ms / 1000, EXCHANGE_TZ).date()


def trading_day_for(ts_ms: int) -> TradingDay:
    """The trading day a timestamp belongs to; weekend timestamps map to the previous Friday."""
    date = exchange_date(ts_ms)
    while not is_trading_date(date):
        date -= dt.timedelta(days=1)
    return trading_day(date)
