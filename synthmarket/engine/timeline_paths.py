"""A day's paths across control changes: from a change on, the new preset's dynamics from the old levels.

Each preset gives the day its own paths. Under a timeline, the path after a change is the new
preset's path rebased so that nothing moves at the change: prices continue multiplicatively from
where they were (the new preset's returns from there on), quote widths, implied volatilities and
the session's levels relax from where they were to the new preset's over minutes, as a real market
re-prices when conditions change. Drift, volatility, flow mix and quote quality are dynamics and
follow the new preset at once. A new seed is a new market: there the paths switch outright.
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np

from synthmarket.domain.calendar import MS_PER_MINUTE, SESSION_MINUTES
from synthmarket.domain.control import SyntheticControlState
from synthmarket.domain.control_timeline import ControlTimeline
from synthmarket.domain.presets import SyntheticControlPresetId
from synthmarket.engine.focus import universe_day
from synthmarket.engine.paths import SECONDS, SymbolPath, symbol_path

SPREAD_RELAX_S = 300.0      # a quote's width reaches the new conditions' over a few minutes
IV_RELAX_MIN = 15.0         # implied volatility re-prices over a quarter of an hour
LEVEL_RELAX_MIN = 10.0      # the session's volatility, liquidity and quote-cleanliness levels


def _key(control: SyntheticControlState) -> tuple[int, SyntheticControlPresetId]:
    return int(control.shared_seed), SyntheticControlPresetId(control.preset_id)


def _segments(timeline: ControlTimeline, open_ms: int):
    """(second index, minute index, same market, control) for each change, in order."""
    previous = timeline.initial
    for ts, control in timeline.changes:
        off = max(0, ts - open_ms)
        second = min(math.ceil(off / 1000), SECONDS + 1)
        minute = min(math.ceil(off / MS_PER_MINUTE), SESSION_MINUTES)
        yield second, minute, control.shared_seed == previous.shared_seed, control
        previous = control


def _relax(old_at: float, new: np.ndarray, tau: float, additive: bool = False) -> np.ndarray:
    """``new`` starting from ``old_at`` and drawing level with ``new`` with time constant ``tau`` (in steps)."""
    if new.size == 0:
        return new
    decay = np.exp(-np.arange(new.size) / tau)
    if additive:
        out = new + (old_at - new[0]) * decay
    else:
        ratio = old_at / new[0] if new[0] else 1.0
        out = new * (1.0 + (ratio - 1.0) * decay)
    out[0] = old_at     # exactly: the instant of the change reads as before it
    return out


@lru_cache(maxsize=96)
def stitched_path(ordinal: int, timeline: ControlTimeline, symbols: tuple[str, ...], symbol: str,
                  open_ms: int) -> SymbolPath:
    """``symbol``'s day under ``timeline`` (its changes all inside the session of ``ordinal``)."""
    seed, preset = _key(timeline.initial)
    base = symbol_path(ordinal, seed, preset, symbols, symbol, open_ms)
    price, spread = base.price_sec.copy(), base.spread_sec.copy()
    atm_iv, skew = base.atm_iv.copy(), base.skew.copy()
    minute_arrays = {name: getattr(base, name).copy()
                     for name in ("volatility", "drift_bps", "iv_shock", "is_focus", "is_event")}
    for s, m, same_market, control in _segments(timeline, open_ms):
        seed, preset = _key(control)
        new = symbol_path(ordinal, seed, preset, symbols, symbol, open_ms)
        if same_market:
            held = price[s]
            price[s:] = new.price_sec[s:] * (held / new.price_sec[s])
            price[s] = held     # exactly, so the second before the change reads as without it
            spread[s:] = _relax(spread[s], new.spread_sec[s:], SPREAD_RELAX_S)
            if m < SESSION_MINUTES:
                atm_iv[m:] = _relax(atm_iv[m], new.atm_iv[m:], IV_RELAX_MIN)
                skew[m:] = _relax(skew[m], new.skew[m:], IV_RELAX_MIN, additive=True)
        else:
            price[s:], spread[s:] = new.price_sec[s:], new.spread_sec[s:]
            atm_iv[m:], skew[m:] = new.atm_iv[m:], new.skew[m:]
        for name, values in minute_arrays.items():
            values[m:] = getattr(new, name)[m:]
    return SymbolPath(
        symbol=symbol, open_ms=open_ms, typical_spread_bps=base.typical_spread_bps,
        price_sec=price, spread_sec=spread, atm_iv=atm_iv, skew=skew,
        volatility=minute_arrays["volatility"], drift_bps=minute_arrays["drift_bps"],
        iv_shock=minute_arrays["iv_shock"], is_focus=minute_arrays["is_focus"], is_event=minute_arrays["is_event"],
    )


@lru_cache(maxsize=32)
def stitched_levels(ordinal: int, timeline: ControlTimeline, symbols: tuple[str, ...],
                    open_ms: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The session's volatility, liquidity and quote-cleanliness levels (per minute mark) under ``timeline``."""
    seed, preset = _key(timeline.initial)
    day = universe_day(ordinal, seed, preset, symbols).day
    levels = [day.vol_level.copy(), day.liquidity.copy(), day.cleanliness.copy()]
    for _s, m, same_market, control in _segments(timeline, open_ms):
        seed, preset = _key(control)
        new_day = universe_day(ordinal, seed, preset, symbols).day
        for values, new in zip(levels, (new_day.vol_level, new_day.liquidity, new_day.cleanliness), strict=True):
            # Mark m keeps its level (the minute before the change reads up to it), then relaxes.
            values[m:] = _relax(values[m], new[m:], LEVEL_RELAX_MIN) if same_market else new[m:]
    return levels[0], levels[1], levels[2]
