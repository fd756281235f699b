"""Scheduled single-name events of a day: when they happen, how big the gap is, on which symbol."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from synthmarket.domain import rng
from synthmarket.domain.calendar import SESSION_MINUTES
from synthmarket.domain.catalysts import EARNINGS, catalysts_between, next_trading_date
from synthmarket.domain.universe import UNIVERSE

# Events sit inside this window of session minutes: never in the opening rush, and early
# enough that their after-event window and follow-through still fit into the session.
EVENT_FIRST_MINUTE = 50
EVENT_LAST_MINUTE = 355
# Where the first and last event of a day sit (drawn per day inside these ranges).
FIRST_CENTRE_MIN, FIRST_CENTRE_MAX = 72.0, 92.0
LAST_CENTRE_MIN, LAST_CENTRE_MAX = 333.0, 348.0
MAX_CALENDAR_HOLE = 18
# An event symbol is "on the calendar" this long before and after its event.
UPCOMING_MINUTES = 90
RECENT_MINUTES = 40
AFTER_EVENT_MIN = 20
AFTER_EVENT_MAX = 40
# Positioning for earnings shows in the flow this many trading days ahead.
IN_PLAY_DAYS = 3
GAP_MIN = 0.015
GAP_MAX = 0.08


@dataclass(frozen=True)
class EventSlot:
    """One scheduled event, independent of which symbol carries it."""

    index: int
    minute: int            # session minute of the event (the gap happens at its start)
    after_minutes: int     # length of the after_event phase window
    gap_sign: int          # +1 gap up, -1 gap down
    gap_scale: float       # 0..1, where the gap sits between GAP_MIN and GAP_MAX for the name


def event_slots(seed: int, ordinal: int, count: int, close_minute: int) -> tuple[EventSlot, ...]:
    """Event times for a day: a jittered grid whose ends and jitter move from day to day.

    With three or more events the calendar windows (UPCOMING_MINUTES before to RECENT_MINUTES
    after each event) chain with holes of at most ~20 minutes, so an event name is on the
    calendar in every 20-minute stretch; fewer events leave quiet stretches by design.
    ``count`` is per full session: an early close (``close_minute`` < SESSION_MINUTES) holds its
    share of the events (at least one), on the grid of a full session shrunk to fit before the close.
    """
    if count <= 0:
        return ()
    shrink = close_minute / SESSION_MINUTES
    count = max(1, round(count * shrink))
    first = FIRST_CENTRE_MIN + rng.uniform(seed, ordinal, "event-first") * (FIRST_CENTRE_MAX - FIRST_CENTRE_MIN)
    last = LAST_CENTRE_MIN + rng.uniform(seed, ordinal, "event-last") * (LAST_CENTRE_MAX - LAST_CENTRE_MIN)
    if count == 1:
        centres = [first + rng.uniform(seed, ordinal, "event-single") * (last - first)]
        jitter = 0.0
    else:
        step = (last - first) / (count - 1)
        centres = [first + i * step for i in range(count)]
        window = UPCOMING_MINUTES + RECENT_MINUTES
        # Largest jitter that keeps holes between calendar windows under MAX_CALENDAR_HOLE.
        jitter = 0.4 * step if step > window + MAX_CALENDAR_HOLE else min(0.4 * step, (window + MAX_CALENDAR_HOLE - step) / 2)
    slots = []
    for i, centre in enumerate(centres):
        # Keyed per (day, index) so the draws do not depend on the order they are made in.
        u = rng.uniform(seed, ordinal, "event-time", count, i)
        t = centre + (2 * u - 1) * jitter
        if count >= 3:
            # The outer events never drift inwards past the range that keeps the open and close covered.
            t = min(t, FIRST_CENTRE_MAX) if i == 0 else max(t, LAST_CENTRE_MIN) if i == count - 1 else t
        minute = int(round(min(EVENT_LAST_MINUTE, max(EVENT_FIRST_MINUTE, t)) * shrink))
        after = AFTER_EVENT_MIN + int(rng.uniform(seed, ordinal, "event-after", i) * (AFTER_EVENT_MAX - AFTER_EVENT_MIN + 1))
        sign = 1 if rng.uniform(seed, ordinal, "event-sign", i) < 0.55 else -1
        scale = rng.uniform(seed, ordinal, "event-size", i)
        slots.append(EventSlot(i, minute, after, sign, scale))
    return tuple(slots)


def event_candidates(symbols: tuple[str, ...]) -> tuple[str, ...]:
    """Single names carry scheduled events; index ETFs only when nothing else is available."""
    names = tuple(s for s in symbols if UNIVERSE[s].sector != "index_etf")
    return names or symbols


def assign_event_symbols(seed: int, ordinal: int, slots: tuple[EventSlot, ...],
                         symbols: tuple[str, ...]) -> tuple[str, ...]:
    """The symbol of each event slot: names with a catalyst in play first (earnings reacting today
    or due within IN_PLAY_DAYS trading days, on the catalyst calendar), then a keyed ranking of the
    rest, so the pick is stable per name and the day's news is about the names on the calendar."""
    if not slots or not symbols:
        return ()
    candidates = event_candidates(symbols)
    in_play = earnings_in_play(dt.date.fromordinal(ordinal), candidates)
    ranked = sorted(candidates, key=lambda s: (s not in in_play, rng.uniform(seed, ordinal, "event-symbol", s), s))
    return tuple(ranked[i % len(ranked)] for i in range(len(slots)))


def earnings_in_play(date: dt.date, symbols: tuple[str, ...]) -> frozenset[str]:
    """Names whose earnings react today or within the next IN_PLAY_DAYS trading days."""
    horizon = date
    for _ in range(IN_PLAY_DAYS):
        horizon = next_trading_date(horizon)
    return frozenset(c.symbol for c in catalysts_between(date - dt.timedelta(days=4), horizon, symbols)
                     if c.kind == EARNINGS and date <= c.reaction_date <= horizon)


def gap_fraction(slot: EventSlot, annual_vol: float) -> float:
    """Signed log-gap at the event: a few percent, larger for more volatile names."""
    size = annual_vol * (0.06 + 0.10 * slot.gap_scale)
    return slot.gap_sign * min(GAP_MAX, max(GAP_MIN, size))
