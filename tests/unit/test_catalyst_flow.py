"""Event-driven flow and the event premium hang on the catalyst calendar, on every preset.

Names with earnings ahead stay on the public event calendar (index ETFs around their macro releases),
so event-driven flow has a home in every stretch of every session; the preset scales how many names.
The coverage figure is the design's promise: every public profile inside every 20-minute window.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

import numpy as np
import pytest

from options_svc.generator import OptionsGenerator
from synthmarket.domain.calendar import MS_PER_MINUTE, SESSION_MINUTES, is_trading_date, trading_day
from synthmarket.domain.catalysts import EARNINGS, FOMC, catalysts_between
from synthmarket.domain.control import DEFAULT_CONTROL
from synthmarket.domain.presets import SyntheticControlPresetId, preset_spec
from synthmarket.domain.profiles import PUBLIC_PROFILE_IDS
from synthmarket.domain.universe import DEFAULT_SYMBOLS, UNIVERSE
from synthmarket.engine import get_session_state, underlying_path
from synthmarket.engine.events import IN_PLAY_DAYS, pending_reaction, sessions_until
from synthmarket.engine.focus import universe_day
from synthmarket.engine.paths import calendar_iv_factor
from synthmarket_cli.offline import SimulationSpec, run_session

WINDOW_MS = 20 * MS_PER_MINUTE
# Reporting season, off-season (next reports weeks away) and an FOMC day, each with its own seed.
DAYS = ((dt.date(2026, 10, 21), 3), (dt.date(2026, 3, 4), 4), (dt.date(2026, 9, 16), 5))


def _all_session(date: dt.date, seed: int, preset: SyntheticControlPresetId) -> set[str]:
    control = DEFAULT_CONTROL.with_update(preset_id=preset, shared_seed=seed)
    day = trading_day(date)
    states = [get_session_state(day.open_ms + m * MS_PER_MINUTE, control) for m in range(0, SESSION_MINUTES, 5)]
    return set.intersection(*(set(s.event_symbols) for s in states))


def test_names_reporting_soon_stay_on_the_event_calendar_all_session():
    date = dt.date(2026, 10, 21)     # reporting season: many names report within days
    for preset in SyntheticControlPresetId:
        floor, cap = preset_spec(preset).catalyst_names
        listed = _all_session(date, 3, preset)
        slots = set(universe_day(date.toordinal(), 3, preset, DEFAULT_SYMBOLS).slot_symbols)
        assert floor <= len(listed) <= cap, (preset, listed)
        ahead = {name: sessions_until(date, pending_reaction(name, date)) for name in listed}
        near = {name for name, n in ahead.items() if n <= IN_PLAY_DAYS}
        # Names reporting within days (those without a slot today) first; later reporters only fill
        # in up to the floor.
        assert near == listed or len(listed) == floor, (preset, ahead)
        # A name carrying today's scheduled news is on the calendar through its slot instead.
        assert not listed & slots, (preset, listed, slots)
    assert len(_all_session(date, 3, SyntheticControlPresetId.EVENT_DAY)) > \
        len(_all_session(date, 3, SyntheticControlPresetId.QUIET_RANGE)), "event_day lists the most names"


def test_off_season_the_steady_names_reporting_soonest_fill_in():
    date = dt.date(2026, 3, 4)
    listed = _all_session(date, 4, SyntheticControlPresetId.QUIET_RANGE)
    assert len(listed) == preset_spec(SyntheticControlPresetId.QUIET_RANGE).catalyst_names[0], listed
    upcoming = sorted((pending_reaction(s, date), s) for s in DEFAULT_SYMBOLS
                      if UNIVERSE[s].sector != "index_etf" and UNIVERSE[s].beta < 1.5)
    assert all(pending_reaction(s, date) <= upcoming[len(listed) - 1][0] for s in listed), (listed, upcoming[:4])


def test_index_etfs_are_on_the_calendar_around_an_fomc_decision():
    date = dt.date(2026, 9, 16)
    assert any(c.kind == FOMC for c in catalysts_between(date, date, ("SPY",)))
    control = DEFAULT_CONTROL.with_update(shared_seed=5)
    day = trading_day(date)
    at = {m: set(get_session_state(day.open_ms + m * MS_PER_MINUTE, control).event_symbols) for m in (90, 269, 300, 330)}
    # FOMC at 14:00 (session minute 270): listed from 12:30 until 14:40.
    assert {"SPY", "QQQ", "IWM"} <= at[269] and {"SPY", "QQQ", "IWM"} <= at[300]
    assert not {"SPY", "QQQ", "IWM"} & (at[90] | at[330])


def test_a_name_listed_all_session_has_its_event_ahead():
    date = dt.date(2026, 10, 21)
    day = trading_day(date)
    control = DEFAULT_CONTROL.with_update(shared_seed=3)
    name = sorted(_all_session(date, 3, SyntheticControlPresetId.BALANCED_DEMO))[0]
    gen = OptionsGenerator(control, DEFAULT_SYMBOLS, start_ts=day.open_ms, ordinary_scale=0.0, open_interest=False)
    for minute in (5, 200, 385):
        ctx = gen.scenario_context(name, day.open_ms + minute * MS_PER_MINUTE)
        # Pending all day: positioning flow and the implied move on the expiry, never a follow-through.
        assert ctx.is_event_symbol and not ctx.after_event, (name, minute)


def test_the_near_term_iv_climbs_into_earnings_and_is_crushed_the_next_session():
    crushes = lifts = 0
    for symbol in DEFAULT_SYMBOLS:
        spec = UNIVERSE[symbol]
        for c in catalysts_between(dt.date(2026, 4, 1), dt.date(2026, 11, 30), (symbol,)):
            if c.kind != EARNINGS:
                continue
            before = c.reaction_date
            while True:     # the last session before the reaction
                before -= dt.timedelta(days=1)
                if is_trading_date(before):
                    break
            last = calendar_iv_factor(before, spec)
            first = calendar_iv_factor(c.reaction_date, spec)
            # Tolerance: the close before the news sits >= 12% above the level, the reaction opens
            # >= 25% below that close (real front-expiry crushes: a third or more of the IV).
            lifts += last[-1] >= 1.12 and last[-1] > last[0]
            crushes += first[0] <= 0.75 * last[-1]
    assert lifts == crushes and lifts >= 40, (lifts, crushes)


def test_index_iv_is_bid_into_an_fomc_decision_and_given_back_after():
    day = trading_day(dt.date(2026, 9, 16))
    marks = day.open_ms + np.array([255, 268, 285, 300]) * MS_PER_MINUTE
    drops = []
    for seed in range(1, 9):
        iv = underlying_path("SPY", marks, DEFAULT_CONTROL.with_update(shared_seed=seed))["atm_iv"]
        drops.append(iv[2:].mean() / iv[:2].mean() - 1.0)
    # Tolerance: on average SPY's ATM IV is 3-12% lower half an hour after the decision than just
    # before it (a modest lift given back: VIX typically eases a point or so after a calm FOMC).
    assert -0.12 <= float(np.mean(drops)) <= -0.03, drops


def _misses(preset: SyntheticControlPresetId) -> tuple[int, dict[str, int]]:
    """Windows (of 19 a day) missing some public profile, over DAYS, with coverage assist on."""
    total, missing = 0, defaultdict(int)
    for date, seed in DAYS:
        day = trading_day(date)
        control = DEFAULT_CONTROL.with_update(preset_id=preset, shared_seed=seed)
        # Without the ordinary flow: it never makes an event, and the events are the same.
        spec = SimulationSpec(control, day, day.open_ms, day.close_ms, DEFAULT_SYMBOLS, with_equities=False,
                              ordinary_scale=0.0, open_interest=False)
        seen: dict[int, set[str]] = defaultdict(set)
        for step in run_session(spec):
            for e in step.events:
                if e.ts < day.close_ms:     # a window counts the events decided inside it
                    seen[(e.ts - day.open_ms) // WINDOW_MS].add(e.profile_id)
        for w in range(19):     # 09:30-09:50 ... 15:30-15:50
            total += 1
            for profile in set(PUBLIC_PROFILE_IDS) - seen[w]:
                missing[f"{date}/{w}"] += 1
                missing[profile] += 1
    return total, dict(missing)


@pytest.mark.parametrize("preset", list(SyntheticControlPresetId))
def test_every_profile_shows_in_every_20_minute_window_on_every_preset(preset):
    total, missing = _misses(preset)
    windows_missed = sum(1 for k in missing if "/" in k)
    # Tolerance: at most 1 of the 57 windows (3 sessions x 19) misses a profile (target >= 99% of
    # windows over many sessions: bench figure in docs/market_facts.md); without the catalyst
    # calendar dealer_day and quiet_range missed event_driven in 40-60% of windows.
    assert total == 57 and windows_missed <= 1, (preset.value, missing)
