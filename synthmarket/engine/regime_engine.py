"""The deterministic regime engine: session, underlying, scenario weights and coverage boost at any ts.

Pure functions of ``(ts, control, symbols)``: only ``preset_id`` and ``shared_seed`` of the control
matter (plus ``profile_weights`` for weights and ``coverage_assist`` for the boost), never
``updated_at`` / ``updated_by``. Each day's schedule and each symbol's day path are computed once
(bounded work) and memoised, so any instant is a handful of array lookups.

Conventions:
- ``symbols`` is the universe focus and event symbols are drawn from (default ``DEFAULT_SYMBOLS``).
  Event gaps and chase drift on prices follow that universe, so pass the same ``symbols`` to every
  call of one process (and across services) when it is not the default.
- ``SessionState.seed_bucket`` is the epoch minute (``ts // 60000``): unique across days, handy
  as a key for per-minute randomness downstream.
- ``UnderlyingState.spread_bps`` is the model spread; ``bid``/``ask`` are it rounded to the $0.01
  tick (at least one tick apart), so the quoted spread of a cheap name can be wider.
- The session runs from 09:30:00.000 to the day's close inclusive: 16:00:00.000 New York time, or
  13:00:00.000 on an early close. The day's arrays span the full 390 minutes either way; on an early
  close the engine answers only up to the close, and its phases and events follow that close.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from functools import lru_cache
from types import MappingProxyType

import numpy as np

from synthmarket.domain import records
from synthmarket.domain.calendar import (
    EXCHANGE_TZ,
    MS_PER_DAY,
    MS_PER_MINUTE,
    SESSION_MINUTES,
    TradingDay,
    exchange_date,
    is_trading_date,
    trading_day,
)
from synthmarket.domain.control import DEFAULT_CONTROL, SyntheticControlState, SyntheticProfileWeightMap
from synthmarket.domain.control_timeline import Control, ControlTimeline, control_at, latest
from synthmarket.domain.presets import SyntheticControlPresetId, preset_spec
from synthmarket.domain.session import CoverageState, ScenarioWeights, SessionState, UnderlyingState
from synthmarket.domain.universe import DEFAULT_SYMBOLS, UNIVERSE, UnknownSymbolError, resolve_symbols
from synthmarket.engine.coverage_boost import coverage_boost
from synthmarket.engine.focus import universe_day
from synthmarket.engine.market import PHASES, market_day
from synthmarket.engine.path_reads import FLOAT_KEYS, LAST_MINUTE, Scalars, fill, quote
from synthmarket.engine.paths import SPREAD_Z_SCALE, SymbolPath, symbol_path
from synthmarket.engine.timeline_paths import stitched_levels, stitched_path
from synthmarket.engine.weights import arrival_intensity, labeled_weights, with_noise

# 17:00 UTC falls inside the exchange's calendar day in both EST and EDT.
_MIDDAY_UTC_MS = 17 * 3_600_000


class OutsideSessionError(ValueError):
    """The timestamp is not inside a regular session (09:30 to the close, New York time, on a trading day)."""


@lru_cache(maxsize=64)
def _trading_day_of_utc_day(utc_day: int) -> TradingDay | None:
    # A New York regular session never crosses UTC midnight, so the UTC day finds it.
    date = exchange_date(utc_day * MS_PER_DAY + _MIDDAY_UTC_MS)
    return trading_day(date) if is_trading_date(date) else None


def _session_day(ts: int) -> TradingDay:
    td = _trading_day_of_utc_day(ts // MS_PER_DAY)
    if td is None or not td.open_ms <= ts <= td.close_ms:
        local = dt.datetime.fromtimestamp(ts / 1000, EXCHANGE_TZ)
        raise OutsideSessionError(
            f"ts={ts} ({local:%Y-%m-%d %a %H:%M:%S} New York) is outside the regular session "
            "(09:30 to the 16:00 close, 13:00 on an early close, on a trading day); map wall time into a session first"
        )
    return td


@lru_cache(maxsize=32)
def _resolve(symbols: tuple[str, ...]) -> tuple[str, ...]:
    resolved = resolve_symbols(symbols)
    if not resolved:
        raise ValueError("symbols must name at least one symbol")
    return resolved


def _universe(symbols: Iterable[str] | None) -> tuple[str, ...]:
    if symbols is None:
        return DEFAULT_SYMBOLS
    return _resolve(tuple(symbols))


# Members and their values both find the member (a str-enum member hashes by its name); looked up
# on every engine call, where the enum constructor costs several times a dict lookup.
_PRESET_IDS: dict[str, SyntheticControlPresetId] = {
    **{p: p for p in SyntheticControlPresetId}, **{p.value: p for p in SyntheticControlPresetId},
}


def _key(control: SyntheticControlState) -> tuple[int, SyntheticControlPresetId]:
    preset = _PRESET_IDS.get(control.preset_id)
    if preset is None:
        preset = SyntheticControlPresetId(control.preset_id)   # raises for an unknown id
    return int(control.shared_seed), preset


# The last timeline reduced to a session, and what it became: every call of a session passes the same
# timeline, so it is reduced once (held whole, so the identity check cannot meet a recycled id).
_last_of_day: tuple[ControlTimeline | None, int, Control] = (None, 0, DEFAULT_CONTROL)


def _of_day(control: Control, td: TradingDay) -> Control:
    """A timeline reduced to one session: a plain control unless something changed inside it."""
    global _last_of_day
    if not isinstance(control, ControlTimeline):
        return control
    last, open_ms, reduced = _last_of_day
    if last is control and open_ms == td.open_ms:
        return reduced
    reduced = control.between(td.open_ms, td.close_ms)
    _last_of_day = (control, td.open_ms, reduced)
    return reduced


def _check_symbol(symbol: str) -> None:
    if symbol not in UNIVERSE:
        raise UnknownSymbolError(symbol)


# States are built for nearly every option print and weights for every symbol every 30 s.
for _state_type in (SessionState, UnderlyingState, ScenarioWeights):
    records.plain_record(_state_type)


_PRESET_SPECS = {p: preset_spec(p) for p in SyntheticControlPresetId}
# A session needs one Scalars per name and day, and a few thousand labeled-weight keys at most.
_SCALARS_LIMIT = 256
_LABELED_LIMIT = 4096


class RegimeEngine:
    """The engine for one symbol universe, owning the caches that serve it.

    Focus and event symbols are drawn from the universe, and event gaps and chase drift on prices
    follow it, so every process of one market builds its engine from the same symbols. Safe to
    share between threads: each cache is a dict whose entries are written whole, and the
    last-profile-map memo is one tuple read and replaced in a single step.
    """

    def __init__(self, symbols: Iterable[str] | None = None) -> None:
        self.symbols: tuple[str, ...] = _universe(symbols)
        # (symbol, day ordinal, seed, preset) -> Scalars
        self._scalars: dict[tuple, Scalars] = {}
        # (preset, profile weights, regime, phase, is_event, is_focus) -> labeled family weights
        self._labeled: dict[tuple, dict[str, float]] = {}
        # The profile-weight map of the last call and its key: one map serves a whole session, and
        # an immutable SyntheticProfileWeightMap can be recognised by identity instead of re-hashed.
        self._last_profiles: tuple[Mapping[str, float] | None, tuple] = (None, ())

    def session_state(self, ts: int, control: Control) -> SessionState:
        """Market-wide state at ``ts``."""
        ts = int(ts)
        td = _session_day(ts)
        day_control = _of_day(control, td)
        if isinstance(day_control, ControlTimeline):
            return self._stitched_session_state(ts, td, day_control)
        seed, preset = _key(day_control)
        uday = universe_day(td.ordinal, seed, preset, self.symbols)
        day = uday.day
        off = ts - td.open_ms
        mark = off // MS_PER_MINUTE
        m = mark if mark < LAST_MINUTE else LAST_MINUTE
        nxt = mark + 1 if mark < SESSION_MINUTES else SESSION_MINUTES
        frac = (off % MS_PER_MINUTE) / MS_PER_MINUTE
        run = day.runs[day.run_of.item(m)]

        def level(arr: np.ndarray) -> float:
            a = arr.item(mark)
            return a + (arr.item(nxt) - a) * frac

        return records.build(SessionState, {
            "ts": ts,
            "session_phase": PHASES[day.phase.item(m)],
            "regime": run.regime,
            "volatility_level": level(day.vol_level),
            "liquidity_level": level(day.liquidity),
            "quote_cleanliness": level(day.cleanliness),
            "focus_symbols": uday.focus_by_run[run.index],
            "event_symbols": uday.event_by_minute[m],
            "seed_bucket": ts // MS_PER_MINUTE,
            "regime_started_ms": td.open_ms + run.start * MS_PER_MINUTE,
            "regime_ends_ms": min(td.open_ms + run.end * MS_PER_MINUTE, td.close_ms),
            "minute_of_session": off / MS_PER_MINUTE,
        })

    def _stitched_session_state(self, ts: int, td: TradingDay, timeline: ControlTimeline) -> SessionState:
        """The state of the control in force at ``ts``, with the levels carried across the changes."""
        state = self.session_state(ts, timeline.at(ts))
        vol, liquidity, cleanliness = stitched_levels(td.ordinal, timeline, self.symbols, td.open_ms)
        off = ts - td.open_ms
        mark = off // MS_PER_MINUTE
        nxt = mark + 1 if mark < SESSION_MINUTES else SESSION_MINUTES
        frac = (off % MS_PER_MINUTE) / MS_PER_MINUTE

        def level(arr: np.ndarray) -> float:
            a = arr.item(mark)
            return a + (arr.item(nxt) - a) * frac

        return records.build(SessionState, {
            **state.__dict__,
            "volatility_level": level(vol), "liquidity_level": level(liquidity), "quote_cleanliness": level(cleanliness),
        })

    def _path(self, symbol: str, td: TradingDay, control: Control) -> SymbolPath:
        _check_symbol(symbol)
        day_control = _of_day(control, td)
        if isinstance(day_control, ControlTimeline):
            return stitched_path(td.ordinal, day_control, self.symbols, symbol, td.open_ms)
        seed, preset = _key(day_control)
        return symbol_path(td.ordinal, seed, preset, self.symbols, symbol, td.open_ms)

    def _scalars_of(self, symbol: str, td: TradingDay, control: Control) -> Scalars:
        day_control = _of_day(control, td)
        key = (symbol, td.ordinal, *(_key(day_control) if isinstance(day_control, SyntheticControlState)
                                     else (day_control,)))
        hit = self._scalars.get(key)
        if hit is None:
            if len(self._scalars) >= _SCALARS_LIMIT:
                self._scalars.clear()
            hit = self._scalars[key] = Scalars(self._path(symbol, td, control))
        return hit

    def underlying_state(self, symbol: str, ts: int, control: Control,
                         session_state: SessionState | None = None) -> UnderlyingState:
        """One symbol at ``ts``."""
        ts = int(ts)
        td = _session_day(ts)
        sc = self._scalars_of(symbol, td, control)
        off = ts - td.open_ms
        k = off // 1000
        frac = (off % 1000) / 1000.0
        ps = sc.price
        p0 = ps[k]
        price = p0 + (ps[k + 1] - p0) * frac
        prev_off = off - MS_PER_MINUTE if off > MS_PER_MINUTE else 0
        kp = prev_off // 1000
        fp = (prev_off % 1000) / 1000.0
        q0 = ps[kp]
        prev = q0 + (ps[kp + 1] - q0) * fp
        spread = sc.spread[k]
        bid, ask = quote(price, spread)
        mark = off // MS_PER_MINUTE
        m = mark if mark < LAST_MINUTE else LAST_MINUTE
        if session_state is not None:
            is_focus = symbol in session_state.focus_symbols
            is_event = symbol in session_state.event_symbols
        else:
            is_focus = bool(sc.is_focus[m])
            is_event = bool(sc.is_event[m])
        typical = sc.path.typical_spread_bps
        return records.build(UnderlyingState, {
            "symbol": symbol,
            "ts": ts,
            "price": price,
            "bid": bid,
            "ask": ask,
            "spread_bps": spread,
            "volatility": sc.volatility[m],
            "drift_bps_per_min": sc.drift[m],
            "underlying_move_bps": (price - prev) / prev * 1e4,
            "nbbo_spread_z": (spread - typical) / (SPREAD_Z_SCALE * typical),
            "execution_iv_shock": sc.iv_shock[m],
            "atm_iv": sc.atm_iv[m],
            "skew": sc.skew[m],
            "is_focus": is_focus,
            "is_event": is_event,
        })

    def _profile_key(self, weights: Mapping[str, float]) -> tuple:
        last_map, last_key = self._last_profiles
        if weights is last_map:
            return last_key
        key = tuple(sorted(weights.items()))
        if isinstance(weights, SyntheticProfileWeightMap):
            self._last_profiles = (weights, key)
        return key

    def scenario_weights(self, symbol: str, ts: int, control: Control,
                         session_state: SessionState | None = None) -> ScenarioWeights:
        """Weights over the seven scenario families for ``symbol`` at ``ts`` (summing to 1)."""
        _check_symbol(symbol)
        state = session_state if session_state is not None else self.session_state(ts, control)
        control = control_at(control, int(ts))
        _, preset = _key(control)
        spec = _PRESET_SPECS[preset]
        # The labeled part is a function of a few discrete values, read for every symbol every 30 s.
        labeled_key = (preset, self._profile_key(control.profile_weights), state.regime,
                       state.session_phase, symbol in state.event_symbols, symbol in state.focus_symbols)
        labeled = self._labeled.get(labeled_key)
        if labeled is None:
            if len(self._labeled) >= _LABELED_LIMIT:
                self._labeled.clear()
            labeled = self._labeled[labeled_key] = labeled_weights(*labeled_key[2:], spec,
                                                                   control.profile_weights)
        weights = with_noise(labeled, state.quote_cleanliness)
        return records.build(ScenarioWeights, {
            "symbol": symbol,
            "ts": int(ts),
            "weights": MappingProxyType(weights),
            "intensity": arrival_intensity(UNIVERSE[symbol], state, spec),
        })

    def underlying_path(self, symbol: str, ts_array: np.ndarray,
                        control: Control) -> dict[str, np.ndarray]:
        """Vectorised ``underlying_state``: one array per UnderlyingState field, same numbers."""
        _check_symbol(symbol)
        ts = np.asarray(ts_array, dtype=np.int64)
        out: dict[str, np.ndarray] = {key: np.empty(ts.shape, dtype=float) for key in FLOAT_KEYS}
        out["is_focus"] = np.empty(ts.shape, dtype=bool)
        out["is_event"] = np.empty(ts.shape, dtype=bool)
        if ts.size == 0:
            return out
        utc_days = ts // MS_PER_DAY
        first, last = int(utc_days.min()), int(utc_days.max())
        for utc_day in (first,) if first == last else np.unique(utc_days).tolist():     # nearly always one day
            sel = utc_days == utc_day
            part = ts[sel]
            td = _trading_day_of_utc_day(int(utc_day))
            lo, hi = int(part.min()), int(part.max())
            if td is None or lo < td.open_ms or hi > td.close_ms:
                bad = lo if td is None or lo < td.open_ms else hi
                _session_day(bad)   # raises OutsideSessionError with the message
            assert td is not None
            fill(out, sel, part, td, self._path(symbol, td, control))
        return out

    def clear_caches(self) -> None:
        """Drop this engine's memoised values (results do not change; only the cost of the next call)."""
        self._scalars.clear()
        self._labeled.clear()
        self._last_profiles = (None, ())


@lru_cache(maxsize=32)
def _engine_of(symbols: tuple[str, ...] | None) -> RegimeEngine:
    return RegimeEngine(symbols)


def engine_for(symbols: Iterable[str] | None = None) -> RegimeEngine:
    """The shared engine of a universe (one per distinct ``symbols``; None is the default universe)."""
    return _engine_of(symbols if symbols is None or type(symbols) is tuple else tuple(symbols))


# The functions of the design's engine API, each on the shared engine of its ``symbols``.

def get_session_state(ts: int, control: Control,
                      symbols: tuple[str, ...] | None = None) -> SessionState:
    """Market-wide state at ``ts``; focus and event symbols are drawn from ``symbols`` (default universe)."""
    return engine_for(symbols).session_state(ts, control)


def get_underlying_state(symbol: str, ts: int, control: Control,
                         session_state: SessionState | None = None,
                         symbols: tuple[str, ...] | None = None) -> UnderlyingState:
    """One symbol at ``ts``. Pass the ``symbols`` used for the session state when not the default."""
    return engine_for(symbols).underlying_state(symbol, ts, control, session_state)


def get_scenario_weights(symbol: str, ts: int, control: Control,
                         session_state: SessionState | None = None,
                         symbols: tuple[str, ...] | None = None) -> ScenarioWeights:
    """Weights over the seven scenario families for ``symbol`` at ``ts`` (summing to 1)."""
    return engine_for(symbols).scenario_weights(symbol, ts, control, session_state)


def get_coverage_boost(profile_id: str, coverage_state: CoverageState, control: Control) -> float:
    """Multiplier in [1, MAX_COVERAGE_BOOST] for a public profile missing from the coverage window."""
    return coverage_boost(profile_id, coverage_state, latest(control))


def underlying_path(symbol: str, ts_array: np.ndarray, control: Control,
                    symbols: tuple[str, ...] | None = None) -> dict[str, np.ndarray]:
    """Vectorised ``get_underlying_state``: one array per UnderlyingState field, same numbers."""
    return engine_for(symbols).underlying_path(symbol, ts_array, control)


def clear_caches() -> None:
    """Drop every memoised day and path (results do not change; only the cost of the next call)."""
    # The shared engines go with their caches; they are rebuilt on the next call.
    for cached in (_trading_day_of_utc_day, _resolve, market_day, universe_day, symbol_path, stitched_path,
                   stitched_levels, _engine_of):
        cached.cache_clear()
