"""Scheduled single-name events of a day: when they happen, how big the gap is, on which symbol."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import lru_cache

from synthmarket.domain import rng
from synthmarket.domain.calendar import SESSION_MINUTES
from synthmarket.domain.catalysts import (
    CPI,
    EARNINGS,
    FOMC,
    JOBS,
    catalysts_between,
    next_trading_date,
)
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


# Index ETFs trade a macro release on the calendar like a scheduled event: the 08:30 numbers gap at
# the open (on the calendar for RECENT_MINUTES from it), an FOMC decision at its minute.
MACRO_KINDS = frozenset({CPI, JOBS, FOMC})
# Off-season, the names reporting soonest stay listed if their earnings are this close (calendar days).
FILL_HORIZON_DAYS = 75
# ... the steadier large caps among them: weeks ahead, high-beta names' options trade the day's
# momentum (retail chases), not a report two months out.
FILL_MAX_BETA = 1.5


def session_minute(when: str) -> int:
    """Session minute of an HH:MM New York time (0 for a release before the open)."""
    hours, minutes = when.split(":")
    return max(0, (int(hours) - 9) * 60 + int(minutes) - 30)


@lru_cache(maxsize=64)
def upcoming_earnings(date: dt.date, symbols: tuple[str, ...]) -> tuple[tuple[str, dt.date], ...]:
    """(symbol, reaction date) of each single name's next earnings reacting after ``date``, soonest
    first (a report after today's close reacts tomorrow; one reacting today is already out)."""
    seen: dict[str, dt.date] = {}
    for c in catalysts_between(date, date + dt.timedelta(days=FILL_HORIZON_DAYS), symbols):
        if c.kind == EARNINGS and c.reaction_date > date and UNIVERSE[c.symbol].sector != "index_etf":
            seen.setdefault(c.symbol, c.reaction_date)
    return tuple(sorted(seen.items(), key=lambda item: (item[1], item[0])))


@lru_cache(maxsize=1024)
def sessions_until(date: dt.date, later: dt.date) -> int:
    """Trading sessions from ``date`` to ``later`` (1 = the next session)."""
    n, day = 0, date
    while day < later:
        day = next_trading_date(day)
        n += 1
    return n


@lru_cache(maxsize=64)
def calendar_listing(ordinal: int, symbols: tuple[str, ...], slot_names: tuple[str, ...],
                     floor: int, cap: int) -> tuple[tuple[str, int, int], ...]:
    """Runs (symbol, first minute, end minute exclusive) the catalyst calendar keeps a name on the
    public event calendar, besides the day's scheduled news (names carrying a slot are left to it).

    Single names whose earnings react within IN_PLAY_DAYS sessions stay listed all session, soonest
    first, up to ``cap``; on a day with fewer than ``floor`` of them the names reporting soonest fill
    in (positioning starts weeks ahead, and off-season the next reporters are the only story; high-beta
    names fill in only once they are near). Index
    ETFs are listed around their macro releases. Depends on the calendar and the preset, never on
    the seed: the news is the same whatever the market does with it.
    """
    date = dt.date.fromordinal(ordinal)
    out: list[tuple[str, int, int]] = []
    names = 0
    for symbol, reacts in upcoming_earnings(date, symbols):
        if symbol in slot_names:
            continue
        near = sessions_until(date, reacts) <= IN_PLAY_DAYS
        if names >= cap or (not near and names >= floor):
            break
        if not near and UNIVERSE[symbol].beta >= FILL_MAX_BETA:
            continue
        out.append((symbol, 0, SESSION_MINUTES))
        names += 1
    etfs = tuple(s for s in symbols if UNIVERSE[s].sector == "index_etf" and s not in slot_names)
    for c in catalysts_between(date, date, etfs):
        if c.kind in MACRO_KINDS:
            minute = session_minute(c.when)
            out.append((c.symbol, max(0, minute - UPCOMING_MINUTES), minute + RECENT_MINUTES))
    return tuple(out)


def listed_by_minute(listing: tuple[tuple[str, int, int], ...]) -> tuple[tuple[str, ...], ...]:
    """The names a ``calendar_listing`` puts on the event calendar at each session minute."""
    return tuple(tuple(dict.fromkeys(s for s, first, end in listing if first <= m < end))
                 for m in range(SESSION_MINUTES))


def pending_reaction(symbol: str, date: dt.date) -> dt.date | None:
    """The session that trades ``symbol``'s next earnings after ``date`` (None off the calendar): the
    expiry on or after it is the one carrying the implied move."""
    hit = upcoming_earnings(date, (symbol,))
    return hit[0][1] if hit else None
