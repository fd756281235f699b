"""The session clock maps any wall-clock instant to a regular-session timestamp, deterministically."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from synthmarket.domain.calendar import EXCHANGE_TZ, CalendarError, trading_day, trading_day_for
from synthmarket.domain.session_clock import SessionClock, session_reading

MIN = 60_000


def ny(y: int, m: int, d: int, hh: int, mm: int, ss: int = 0) -> int:
    return int(dt.datetime(y, m, d, hh, mm, ss, tzinfo=EXCHANGE_TZ).timestamp()) * 1000


# 2026-12-02 is a Wednesday; 2026-12-04 a Friday; 2026-12-05/06 the weekend.
WED = dt.date(2026, 12, 2)
THU = dt.date(2026, 12, 3)
FRI = dt.date(2026, 12, 4)
MON = dt.date(2026, 12, 7)
TUE_BEFORE = dt.date(2026, 12, 1)


@pytest.mark.parametrize("hh, mm", [(9, 30), (10, 0), (12, 17), (15, 59)])
def test_inside_real_session_at_speed_one_is_wall_time(hh, mm):
    wall = ny(2026, 12, 2, hh, mm, 7)
    reading = session_reading(wall)
    assert reading.ts == wall
    assert reading.is_wall_time
    assert reading.trading_date == WED
    assert reading.cycle == 0


def test_after_the_close_the_next_trading_session_begins():
    reading = session_reading(ny(2026, 12, 2, 16, 0))
    assert (reading.trading_date, reading.minute_of_session, reading.cycle) == (THU, 0.0, 1)
    later = session_reading(ny(2026, 12, 2, 17, 15))
    assert (later.trading_date, later.minute_of_session) == (THU, 75.0)
    assert later.ts == ny(2026, 12, 3, 10, 45)


def test_before_the_open_replays_earlier_sessions_and_meets_the_real_open():
    # 09:29 is one minute before the open: the last minute of the previous session.
    reading = session_reading(ny(2026, 12, 2, 9, 29))
    assert (reading.trading_date, reading.minute_of_session, reading.cycle) == (TUE_BEFORE, 389.0, -1)
    # 03:00 is 390 minutes before the open: the start of the previous session.
    early = session_reading(ny(2026, 12, 2, 3, 0))
    assert (early.trading_date, early.minute_of_session, early.cycle) == (TUE_BEFORE, 0.0, -1)


def test_friday_evening_rolls_over_the_weekend_to_monday():
    reading = session_reading(ny(2026, 12, 4, 16, 30))
    assert (reading.trading_date, reading.minute_of_session) == (MON, 30.0)


def test_weekend_wall_time_plays_on_the_most_recent_trading_date():
    saturday = session_reading(ny(2026, 12, 5, 11, 0))
    assert (saturday.trading_date, saturday.minute_of_session) == (FRI, 90.0)
    assert not saturday.is_wall_time


def test_speed_scales_elapsed_session_time_and_wraps_every_390_minutes():
    wall = ny(2026, 12, 2, 10, 0)  # 30 real minutes after the open
    assert session_reading(wall, speed=2).minute_of_session == 60.0
    assert not session_reading(wall, speed=2).is_wall_time
    fast = session_reading(wall, speed=30)  # 900 session minutes: two cycles and 120 minutes
    assert (fast.trading_date, fast.minute_of_session, fast.cycle) == (FRI, 120.0, 2)
    slow = session_reading(wall, speed=0.5)
    assert slow.minute_of_session == 15.0


def test_fixed_start_is_minute_zero_and_counts_from_there():
    start = ny(2026, 12, 2, 21, 13, 5)  # any time of day
    clock = SessionClock(speed=60, start_ms=start)
    assert clock.reading(start).trading_date == WED
    assert clock.reading(start).minute_of_session == 0.0
    # 13 real minutes at 60x are two full sessions (780 minutes): Friday's open.
    later = clock.reading(start + 13 * MIN)
    assert (later.trading_date, later.minute_of_session) == (FRI, 0.0)
    assert clock.ts(start + 13 * MIN) == trading_day(FRI).open_ms


def test_dst_change_keeps_the_open_at_0930_new_york():
    # US DST ended on Sunday 2026-11-01: a Friday-before replay lands on 09:30 EDT and the
    # following Monday on 09:30 EST, an hour apart in UTC terms.
    friday = session_reading(ny(2026, 10, 30, 9, 45))
    monday = session_reading(ny(2026, 11, 2, 9, 45))
    for reading in (friday, monday):
        local = dt.datetime.fromtimestamp(reading.ts / 1000, EXCHANGE_TZ)
        assert (local.hour, local.minute) == (9, 45)
    assert monday.ts - friday.ts == 3 * 86_400_000 + 3_600_000


def test_whole_sessions_skip_weekends_both_ways():
    # Cycles of 390 session minutes at 390x: one trading day per wall minute from Wednesday's open.
    clock = SessionClock(speed=390, start_ms=ny(2026, 12, 2, 9, 30))
    start = ny(2026, 12, 2, 9, 30)
    for minutes, date in [(0, WED), (2, FRI), (3, MON), (5, dt.date(2026, 12, 9)), (-1, TUE_BEFORE),
                          (-2, dt.date(2026, 11, 30))]:
        reading = clock.reading(start + minutes * MIN)
        assert (reading.trading_date, reading.minute_of_session, reading.cycle) == (date, 0.0, minutes), minutes
    # Twelve sessions back crosses Thanksgiving (Thursday 2026-11-26) and the early close before it.
    # Friday 2026-11-27 is 210 minutes, so landing there is 180 minutes short of a full cycle.
    back = session_reading(start - 12 * 390 * MIN + 180 * MIN, start_ms=start)
    assert (back.trading_date, back.minute_of_session, back.cycle) == (dt.date(2026, 11, 13), 0.0, -12)


def test_market_holidays_are_skipped_like_weekends():
    # Thanksgiving (Thursday 2026-11-26): after Wednesday's close the next session is Friday's,
    # and the holiday itself replays Wednesday.
    after_close = session_reading(ny(2026, 11, 25, 16, 30))
    assert (after_close.trading_date, after_close.minute_of_session) == (dt.date(2026, 11, 27), 30.0)
    holiday = session_reading(ny(2026, 11, 26, 11, 0))
    assert (holiday.trading_date, holiday.minute_of_session) == (dt.date(2026, 11, 25), 90.0)
    assert not holiday.is_wall_time
    # Christmas Eve (an early close) moves on over Christmas Friday and the weekend to Monday.
    after_eve = session_reading(ny(2026, 12, 24, 13, 0))
    assert (after_eve.trading_date, after_eve.minute_of_session, after_eve.cycle) == (dt.date(2026, 12, 28), 0.0, 1)


def test_an_early_close_moves_on_to_the_next_trading_date_after_210_minutes():
    # Friday 2026-11-27 (the day after Thanksgiving) closes at 13:00: its session is 210 minutes.
    day = trading_day(dt.date(2026, 11, 27))
    last = session_reading(ny(2026, 11, 27, 12, 59, 59))
    assert (last.trading_date, last.ts, last.cycle) == (day.date, day.close_ms - 1000, 0)
    assert last.is_wall_time
    first = session_reading(ny(2026, 11, 27, 13, 0))
    assert (first.trading_date, first.minute_of_session, first.cycle) == (dt.date(2026, 11, 30), 0.0, 1)
    assert first.ts == trading_day(dt.date(2026, 11, 30)).open_ms
    later = session_reading(ny(2026, 11, 27, 14, 0))
    assert (later.trading_date, later.minute_of_session) == (dt.date(2026, 11, 30), 60.0)
    # A clock started at Wednesday's open at 60x: Wednesday's 390 minutes, Thanksgiving skipped,
    # Friday's 210, then Monday. Wall minute 10 is session minute 600 = 390 + 210: Monday's open.
    clock = SessionClock(speed=60, start_ms=ny(2026, 11, 25, 9, 30))
    start = ny(2026, 11, 25, 9, 30)
    assert clock.reading(start + 9 * MIN).trading_date == dt.date(2026, 11, 27)
    assert clock.reading(start + 9 * MIN).minute_of_session == 150.0
    monday = clock.reading(start + 10 * MIN)
    assert (monday.trading_date, monday.minute_of_session, monday.cycle) == (dt.date(2026, 11, 30), 0.0, 2)
    # And back: a minute before Monday's open replays the last minute of Friday's short session.
    before = session_reading(ny(2026, 11, 30, 9, 29))
    assert (before.trading_date, before.minute_of_session) == (dt.date(2026, 11, 27), 209.0)


def test_the_clock_refuses_to_run_off_the_calendar():
    with pytest.raises(CalendarError, match="left the trading calendar"):
        session_reading(ny(2099, 12, 31, 10, 0), speed=1000)


@pytest.mark.parametrize("bad", [0, -1, float("nan"), float("inf")])
def test_speed_must_be_positive_and_finite(bad):
    with pytest.raises(ValueError):
        session_reading(ny(2026, 12, 2, 10, 0), speed=bad)


wall_times = st.integers(min_value=ny(2024, 1, 1, 0, 0), max_value=ny(2030, 12, 31, 23, 59))
speeds = st.sampled_from([0.25, 1.0, 1.5, 2.0, 7.0, 60.0])


@settings(max_examples=300, deadline=None)
@given(wall=wall_times, speed=speeds)
def test_session_ts_always_inside_a_regular_session(wall, speed):
    reading = session_reading(wall, speed)
    day = trading_day(reading.trading_date)
    assert day.open_ms <= reading.ts < day.close_ms
    assert trading_day_for(reading.ts).date == reading.trading_date
    assert 0 <= reading.minute_of_session < day.minutes
    # Pure: the same inputs give the same answer every time.
    assert session_reading(wall, speed) == reading


@settings(max_examples=200, deadline=None)
@given(wall=wall_times, speed=speeds)
def test_within_a_cycle_session_time_advances_speed_times_wall_time(wall, speed):
    # One real second later the session is `speed` seconds later, unless a cycle just wrapped
    # or the wall date changed (the anchor moves at midnight New York time).
    a = session_reading(wall, speed)
    b = session_reading(wall + 1000, speed)
    if a.cycle == b.cycle and a.trading_date == b.trading_date:
        assert abs((b.ts - a.ts) - 1000 * speed) <= 1, (a, b)
    else:
        assert b.minute_of_session < a.minute_of_session or b.trading_date != a.trading_date


def test_cycle_wrap_moves_exactly_one_trading_day():
    last = session_reading(ny(2026, 12, 2, 15, 59, 59))
    first = session_reading(ny(2026, 12, 2, 16, 0, 0))
    assert last.trading_date == WED and first.trading_date == THU
    assert first.ts == trading_day(THU).open_ms
    assert last.ts == trading_day(WED).close_ms - 1000
