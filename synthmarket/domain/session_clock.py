"""The session clock: maps a wall-clock instant to a synthetic regular-session timestamp.

The live market must look open at any hour, and independent processes must agree on "now"
without talking to each other, so the mapping is a pure function of
``(wall_ms, speed, start_ms)``:

- elapsed = (wall − anchor) × speed, where the anchor is ``start_ms`` when given, else
  09:30 America/New_York on the wall date;
- sessions are laid end to end: from the open of the most recent trading date (as of the
  anchor), each session's own length of elapsed time (390 minutes, 210 on an early close)
  moves on to the next trading date, and elapsed time before the anchor runs back through
  the sessions before it.

Inside a real regular session at speed 1 (no fixed start) this is the identity: the session
timestamp is the wall timestamp. Before 09:30 the clock replays the previous session(s), so at
09:30 it lands on the real open right after the previous session's close.
"""

from __future__ import annotations

import bisect
import datetime as dt
import math
from dataclasses import dataclass
from functools import lru_cache

from synthmarket.domain.calendar import (
    EXCHANGE_TZ,
    FIRST_DATE,
    LAST_DATE,
    MS_PER_MINUTE,
    OPEN_TIME,
    CalendarError,
    exchange_date,
    is_trading_date,
    session_minutes,
    trading_day,
    trading_day_for,
)


@dataclass(frozen=True)
class SessionReading:
    """Where the synthetic session stands at one wall-clock instant."""

    wall_ms: int
    ts: int                     # synthetic session timestamp, epoch ms UTC, inside [open, close)
    trading_date: dt.date       # the trading date ``ts`` falls on
    minute_of_session: float    # 0 at 09:30, < the session's length (390, 210 on an early close)
    cycle: int                  # trading dates moved on from the anchor's (negative before it)

    @property
    def is_wall_time(self) -> bool:
        """True when the session timestamp is the real wall-clock time."""
        return self.ts == self.wall_ms


def _open_of_calendar_date(date: dt.date) -> int:
    """09:30 New York on any calendar date (weekends included), in epoch ms."""
    local = dt.datetime.combine(date, OPEN_TIME, EXCHANGE_TZ)
    return int(local.timestamp()) * 1000


@dataclass(frozen=True)
class _Sessions:
    """Every trading date of the calendar, in order, laid end to end on one session-time axis."""

    index: dict[dt.date, int]   # trading date -> its position in ``dates``
    dates: list[dt.date]
    starts: list[int]           # session ms before each date's open; one more entry: the total


@lru_cache(maxsize=1)
def _sessions() -> _Sessions:
    index: dict[dt.date, int] = {}
    dates: list[dt.date] = []
    starts: list[int] = []
    elapsed = 0
    date = FIRST_DATE
    while date <= LAST_DATE:
        if is_trading_date(date):
            index[date] = len(dates)
            dates.append(date)
            starts.append(elapsed)
            elapsed += session_minutes(date) * MS_PER_MINUTE
        date += dt.timedelta(days=1)
    starts.append(elapsed)
    return _Sessions(index, dates, starts)


def session_reading(wall_ms: int, speed: float = 1.0, start_ms: int | None = None) -> SessionReading:
    """The synthetic session at ``wall_ms`` (epoch ms) for a clock running ``speed`` times real time.

    ``start_ms`` pins the anchor: the session is at minute 0 of the most recent trading date
    (as of ``start_ms``) at that instant, wherever in the day it falls.
    """
    if not (isinstance(speed, (int, float)) and math.isfinite(speed) and speed > 0):
        raise ValueError(f"speed must be a positive number, got {speed!r}")
    if start_ms is None:
        anchor_ms = _open_of_calendar_date(exchange_date(wall_ms))
        base_date = trading_day_for(wall_ms).date
    else:
        anchor_ms = int(start_ms)
        base_date = trading_day_for(anchor_ms).date
    elapsed = math.floor((wall_ms - anchor_ms) * speed)
    sessions = _sessions()
    base = sessions.index[base_date]
    position = sessions.starts[base] + elapsed
    if not 0 <= position < sessions.starts[-1]:
        raise CalendarError(f"the session clock left the trading calendar ({FIRST_DATE}..{LAST_DATE})")
    i = bisect.bisect_right(sessions.starts, position) - 1
    offset_ms = position - sessions.starts[i]
    date = sessions.dates[i]
    cycle = i - base
    ts = trading_day(date).open_ms + offset_ms
    return SessionReading(
        wall_ms=wall_ms,
        ts=ts,
        trading_date=date,
        minute_of_session=offset_ms / MS_PER_MINUTE,
        cycle=cycle,
    )


@dataclass(frozen=True)
class SessionClock:
    """A configured clock: ``clock.ts(wall_ms)``. Carries settings, never reads the wall clock."""

    speed: float = 1.0
    start_ms: int | None = None

    def reading(self, wall_ms: int) -> SessionReading:
        return session_reading(wall_ms, self.speed, self.start_ms)

    def ts(self, wall_ms: int) -> int:
        return self.reading(wall_ms).ts
