"""Which symbols a day's regimes and events are about: focus symbols per run, event calendar per minute."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from synthmarket.domain import rng
from synthmarket.domain.calendar import SESSION_MINUTES
from synthmarket.domain.presets import SyntheticControlPresetId
from synthmarket.domain.regimes import Regime
from synthmarket.domain.universe import UNIVERSE, SymbolSpec
from synthmarket.engine.events import (
    RECENT_MINUTES,
    UPCOMING_MINUTES,
    EventSlot,
    assign_event_symbols,
    calendar_listing,
    listed_by_minute,
)
from synthmarket.engine.market import MarketDay, market_day
from synthmarket.engine.schedule import RegimeRun

MIN_FOCUS = 2
MAX_FOCUS = 5


def _affinity(regime: Regime, spec: SymbolSpec) -> float:
    """How much a regime is "about" a name; drives the weighted draw of focus symbols."""
    etf = spec.sector == "index_etf"
    liquid = 1.0 / (spec.typical_spread_bps ** 2)   # tight spreads = mega caps and index ETFs
    if regime is Regime.RETAIL_CHASE:
        return spec.beta ** 6 * (0.2 if etf else 1.0)
    if regime is Regime.DEALER_GAMMA:
        return liquid * (3.0 if etf else 1.0)
    if regime is Regime.ARB_CALM:
        return liquid * (2.0 if etf else 1.0)
    if regime in (Regime.TREND_UP, Regime.TREND_DOWN):
        return spec.beta ** 2 * (2.0 if etf else 1.0)
    if regime is Regime.MEAN_REVERT:
        return 1.0 / spec.annual_vol
    return spec.beta ** 2   # event_ramp fill-ins after the event names


def event_window_symbols(minute: int, slots: tuple[EventSlot, ...], names: tuple[str, ...]) -> tuple[str, ...]:
    """Event symbols whose event is upcoming within UPCOMING_MINUTES or happened within RECENT_MINUTES."""
    out: list[str] = []
    for slot, sym in zip(slots, names):
        if slot.minute - UPCOMING_MINUTES <= minute < slot.minute + RECENT_MINUTES and sym not in out:
            out.append(sym)
    return tuple(out)


def _pick_focus(day: MarketDay, run: RegimeRun, symbols: tuple[str, ...],
                event_now: tuple[str, ...]) -> tuple[str, ...]:
    n = min(len(symbols), MIN_FOCUS + int(rng.uniform(day.seed, day.ordinal, "focus-count", run.index)
                                          * (MAX_FOCUS - MIN_FOCUS + 1)))
    chosen: list[str] = []
    if run.regime is Regime.EVENT_RAMP:
        chosen.extend(event_now[:MAX_FOCUS])
    # Weighted sampling without replacement (Efraimidis-Spirakis keys u^(1/w)), keyed per name.
    keyed = []
    for sym in symbols:
        if sym in chosen:
            continue
        u = rng.uniform(day.seed, day.ordinal, "focus", run.index, sym)
        w = _affinity(run.regime, UNIVERSE[sym])
        keyed.append((-(max(u, 1e-300) ** (1.0 / w)), sym))
    keyed.sort()
    for _, sym in keyed:
        if len(chosen) >= n:
            break
        chosen.append(sym)
    return tuple(chosen)


@dataclass(frozen=True)
class UniverseDay:
    day: MarketDay
    symbols: tuple[str, ...]
    slot_symbols: tuple[str, ...]              # symbol of each event slot
    focus_by_run: tuple[tuple[str, ...], ...]
    event_by_minute: tuple[tuple[str, ...], ...]   # SESSION_MINUTES entries


@lru_cache(maxsize=64)
def universe_day(ordinal: int, seed: int, preset_id: SyntheticControlPresetId,
                 symbols: tuple[str, ...]) -> UniverseDay:
    day = market_day(ordinal, seed, preset_id)
    names = assign_event_symbols(seed, ordinal, day.slots, symbols)
    # The catalyst calendar keeps names with earnings ahead (and index ETFs around macro releases)
    # on the event calendar whatever the day's scheduled news.
    listed = listed_by_minute(calendar_listing(ordinal, symbols, names, *day.spec.catalyst_names))
    events = tuple(event_window_symbols(m, day.slots, names) + listed[m] for m in range(SESSION_MINUTES))
    focus = tuple(_pick_focus(day, run, symbols, events[run.start]) for run in day.runs)
    return UniverseDay(day, symbols, names, focus, events)


def symbol_events(uday: UniverseDay, symbol: str) -> tuple[EventSlot, ...]:
    """The event slots carried by one symbol."""
    return tuple(slot for slot, sym in zip(uday.day.slots, uday.slot_symbols) if sym == symbol)
