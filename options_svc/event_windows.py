"""A name's run on the public event calendar: where it starts and ends, and the event minute it dates.

A run that lasts the whole session is a catalyst still ahead (earnings after the close or on a later
day, synthmarket.engine.events.calendar_listing): its window is reported running past the close, so
the event it dates never happens inside the session.
"""

from __future__ import annotations

from collections.abc import Callable

from synthmarket.domain.calendar import TradingDay
from synthmarket.engine.events import RECENT_MINUTES, UPCOMING_MINUTES

# listed(symbol, session open ms, session minute): is the name on the calendar at that minute?
Listed = Callable[[str, int, int], bool]

_KEEP = 256     # windows remembered; the oldest half goes when full


class EventWindows:
    """First and last session minute of each calendar window, found once and remembered."""

    def __init__(self, listed: Listed) -> None:
        self._listed = listed
        self._known: list[tuple[str, int, int, int]] = []     # (symbol, open ms, first, last)

    def clear(self) -> None:
        self._known.clear()

    def around(self, symbol: str, day: TradingDay, minute: int) -> tuple[int, int] | None:
        """(first, last) minute of the window holding ``minute``, or None when the name is not listed;
        a window runs at most to the day's close (13:00 on an early close), except a whole-session
        run, reported RECENT_MINUTES past it (its event is after the close)."""
        open_ms = day.open_ms
        for sym, day_open, first, last in self._known:
            if sym == symbol and day_open == open_ms and first <= minute <= last:
                return first, last
        if not self._listed(symbol, open_ms, minute):
            return None
        first = minute
        while first > 0 and self._listed(symbol, open_ms, first - 1):
            first -= 1
        last = minute
        while last < day.minutes - 1 and self._listed(symbol, open_ms, last + 1):
            last += 1
        if first == 0 and last == day.minutes - 1:
            last += RECENT_MINUTES
        self._known.append((symbol, open_ms, first, last))
        if len(self._known) > _KEEP:
            del self._known[:_KEEP // 2]
        return first, last


def event_minute(first: int, last: int) -> int:
    """The session minute of the event a window surrounds.

    A name is on the calendar from UPCOMING_MINUTES before its event until RECENT_MINUTES after,
    so a window's edges date the event (one cut by the open is dated from its end).
    """
    return first + UPCOMING_MINUTES if first > 0 else last + 1 - RECENT_MINUTES
