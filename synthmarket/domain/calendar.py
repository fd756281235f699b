"""The US equities trading calendar: session open/close in epoch milliseconds (UTC).

Which days trade, and which close early, is the NYSE calendar (``exchange_calendars``' XNYS):
market holidays, special closures (e.g. a national day of mourning) and early closes at 13:00
(the day after Thanksgiving, Christmas Eve, some 3 July sessions). The library's answer for
FIRST_DATE..LAST_DATE is kept as a snapshot, ``xnys.json`` beside this module, because the library
pulls in pandas (half a second at every process start, for every service and every CLI call).
``python -m synthmarket.domain.calendar`` rewrites the snapshot from the installed library, and a
test fails when the two disagree.
"""

from __future__ import annotations

import datetime as dt
import json
import warnings
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo

EXCHANGE_TZ = ZoneInfo("America/New_York")
OPEN_TIME = dt.time(9, 30)
CLOSE_TIME = dt.time(16, 0)
SESSION_MINUTES = 390       # a full session; an early close is shorter (TradingDay.minutes)
MS_PER_MINUTE = 60_000
MS_PER_DAY = 86_400_000
# The dates the calendar answers for (the exchange calendar is built for this span, once).
FIRST_DATE = dt.date(2000, 1, 1)
LAST_DATE = dt.date(2099, 12, 31)
SPECIAL_CLOSURE = "special closure"     # an unscheduled full-day closure; the library names none
SNAPSHOT = Path(__file__).with_name("xnys.json")


class CalendarError(ValueError):
    pass


@dataclass(frozen=True)
class TradingDay:
    date: dt.date
    open_ms: int
    close_ms: int       # 16:00 New York, or the early close (13:00)

    @property
    def ordinal(self) -> int:
        """A stable integer for the day, used to key the day's randomness."""
        return self.date.toordinal()

    @property
    def minutes(self) -> int:
        """Length of the session: SESSION_MINUTES, fewer on an early close."""
        return (self.close_ms - self.open_ms) // MS_PER_MINUTE

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


@dataclass(frozen=True)
class _Exchange:
    closed: dict[dt.date, str]          # weekdays without a session -> why (holiday name or SPECIAL_CLOSURE)
    early_closes: dict[dt.date, dt.time]  # sessions that close before CLOSE_TIME -> their close


def exchange_from_library() -> _Exchange:
    """The NYSE calendar for FIRST_DATE..LAST_DATE as plain lookups, read from ``exchange_calendars``."""
    import exchange_calendars  # brings pandas: only when the snapshot is rebuilt or checked

    with warnings.catch_warnings():
        # The library's own use of pandas APIs that newer pandas deprecates; nothing for us to act on.
        warnings.simplefilter("ignore", DeprecationWarning)
        cal = exchange_calendars.get_calendar("XNYS", start=FIRST_DATE.isoformat(), end=LAST_DATE.isoformat())
        names = cal.regular_holidays.holidays(cal.first_session, cal.last_session, return_name=True)
    sessions = {ts.date() for ts in cal.sessions}
    named = {ts.date(): str(name) for ts, name in names.items()}
    closed: dict[dt.date, str] = {}
    date = FIRST_DATE
    while date <= LAST_DATE:
        if date.weekday() < 5 and date not in sessions:
            closed[date] = named.get(date, SPECIAL_CLOSURE)
        date += dt.timedelta(days=1)
    closes = cal.closes.dt.tz_convert(EXCHANGE_TZ.key)
    early = closes[(closes.dt.hour * 60 + closes.dt.minute) < CLOSE_TIME.hour * 60 + CLOSE_TIME.minute]
    return _Exchange(closed, {ts.date(): close.time() for ts, close in early.items()})


def snapshot_text(exchange: _Exchange) -> str:
    """The snapshot file's contents: sorted, one entry per line, so a library update reads as a small diff."""
    closed = {d.isoformat(): why for d, why in sorted(exchange.closed.items())}
    early = {d.isoformat(): t.strftime("%H:%M") for d, t in sorted(exchange.early_closes.items())}
    return json.dumps({"closed": closed, "early_closes": early}, indent=0) + "\n"


def exchange_from_snapshot(text: str) -> _Exchange:
    raw = json.loads(text)
    return _Exchange({dt.date.fromisoformat(d): why for d, why in raw["closed"].items()},
                     {dt.date.fromisoformat(d): dt.time.fromisoformat(t) for d, t in raw["early_closes"].items()})


@lru_cache(maxsize=1)
def _xnys() -> _Exchange:
    """The calendar lookups, read once per process (from the library when the snapshot is missing)."""
    try:
        return exchange_from_snapshot(SNAPSHOT.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return exchange_from_library()


def _check_range(date: dt.date) -> None:
    if not FIRST_DATE <= date <= LAST_DATE:
        raise CalendarError(f"{date.isoformat()} is outside the trading calendar "
                            f"({FIRST_DATE.isoformat()}..{LAST_DATE.isoformat()})")


def is_trading_date(date: dt.date) -> bool:
    """A weekday on which NYSE opens (no holiday, no special closure)."""
    _check_range(date)
    return date.weekday() < 5 and date not in _xnys().closed


def session_minutes(date: dt.date) -> int:
    """Minutes from the open to the close on trading date ``date`` (SESSION_MINUTES unless an early close)."""
    if not is_trading_date(date):
        raise CalendarError(f"{date.isoformat()} is not a trading day")
    close = _xnys().early_closes.get(date)
    if close is None:
        return SESSION_MINUTES
    return close.hour * 60 + close.minute - (OPEN_TIME.hour * 60 + OPEN_TIME.minute)


@lru_cache(maxsize=1024)
def trading_day(date: dt.date) -> TradingDay:
    if not is_trading_date(date):
        reason = _xnys().closed.get(date)
        why = f"NYSE closed ({reason})" if reason else f"a {date.strftime('%A')}"
        raise CalendarError(f"{date.isoformat()} is not a trading day: {why}")
    open_local = dt.datetime.combine(date, OPEN_TIME, EXCHANGE_TZ)
    close_local = dt.datetime.combine(date, _xnys().early_closes.get(date, CLOSE_TIME), EXCHANGE_TZ)
    return TradingDay(date, int(open_local.timestamp() * 1000), int(close_local.timestamp() * 1000))


def previous_trading_date(date: dt.date) -> dt.date:
    """The last trading date before ``date``."""
    date -= dt.timedelta(days=1)
    while not is_trading_date(date):
        date -= dt.timedelta(days=1)
    return date


def exchange_date(ts_ms: int) -> dt.date:
    return dt.datetime.fromtimestamp(ts_ms / 1000, EXCHANGE_TZ).date()


def trading_day_for(ts_ms: int) -> TradingDay:
    """The trading day a timestamp belongs to; weekend and holiday timestamps map to the trading day before."""
    date = exchange_date(ts_ms)
    while not is_trading_date(date):
        date -= dt.timedelta(days=1)
    return trading_day(date)


if __name__ == "__main__":
    SNAPSHOT.write_text(snapshot_text(exchange_from_library()), encoding="utf-8")
    print(f"wrote {SNAPSHOT}")
