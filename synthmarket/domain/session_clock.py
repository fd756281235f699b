"""The session clock: maps a wall-clock instant to a synthetic regular-session timestamp.

The live market must look open at any hour, and independent processes must agree on "now"
without talking to each other, so the mapping is a pure function of
``(wall_ms, speed, start_ms)``:

- elapsed = (wall − anchor) × speed, where the anchor is ``start_ms`` when given, else
  09:30 America/New_York on the wall date;
- the session minute is elapsed modulo 390 minutes, on the most recent trading date (as of
  the anchor), each completed 390-minute cycle moving on to the next trading date (and each
  cycle before the anchor moving back one).

Inside a real regular session at speed 1 (no fixed start) this is the identity: the session
timestamp is the wall timestamp. Before 09:30 the clock replays the previous session(s), so at
09:30 it lands on the real open right after the previous session's close.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

from synthmarket.domain.calendar import (
    EXCHANGE_TZ,
    MS_PER_MINUTE,
    OPEN_TIME,
    SESSION_MINUTES,
    exchange_date,
    is_trading_date,
    market_holidays,
    trading_day,
    trading_day_for,
)

SESSION_MS = SESSION_MINUTES * MS_PER_MINUTE


@dataclass(frozen=True)
class SessionReading:
    """Where the synthetic session stands at one wall-clock instant."""

    wall_ms: int
    ts: int                     # synthetic session timestamp, epoch ms UTC, inside [open, close)
    trading_date: dt.date       # the trading date ``ts`` falls on
    minute_of_session: float    # 0 at 09:30, < 390
    cycle: int                  # completed 390-minute cycles since the anchor (negative before it)

    @property
    def is_wall_time(self) -> bool:
        """True when the session timestamp is the real wall-clock time."""
        return self.ts == self.wall_ms


def _open_of_calendar_date(date: dt.date) -> int:
    """09:30 New York on any calendar date (weekends included), in epoch ms."""
    local = dt.datetime.combine(date, OPEN_TIME, EXCHANGE_TZ)
    return int(local.timestamp()) * 1000


def _holidays_in(after: dt.date, until: dt.date) -> int:
    """Market holidays d with after < d <= until (all of them fall on weekdays)."""
    return sum(after < d <= until for year in range(after.year, until.year + 1) for d in market_holidays(year))


def add_trading_days(date: dt.date, count: int) -> dt.date:
    """The trading date ``count`` trading days after (``count`` < 0: before) trading date ``date``."""
    if not is_trading_date(date):
        raise ValueError(f"{date.isoformat()} is not a trading date")
    step = dt.timedelta(days=1 if count >= 0 else -1)
    remaining = abs(count)
    # Whole weeks first so long runs at high speed stay cheap: a week holds five weekdays, less
    # the holidays among them, so the jump never overshoots and the holidays are made up after.
    weeks, remaining = divmod(remaining, 5)
    landing = date + step * (7 * weeks)
    if count >= 0:
        remaining += _holidays_in(date, landing)
    else:
        remaining += _holidays_in(landing - dt.timedelta(days=1), date - dt.timedelta(days=1))
    date = landing
    while remaining:
        date += step
        if is_trading_date(date):
            remaining -= 1
    return date


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
    cycle, offset_ms = divmod(elapsed, SESSION_MS)
    date = add_trading_days(base_date, cycle)
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
