"""Cost of the regime engine: one instant for 20 symbols, and a whole day at 1-second resolution.

Run from the repository root: .venv/bin/python -m bench.bench_engine [seed]
Target on the 2-core reference machine: the whole 6.5 h day at 1-second resolution for 20 symbols
(session state per second + vectorised underlying paths) under 2 s on one core, caches cold.
"""

from __future__ import annotations

import datetime as dt
import statistics
import sys
import time

import numpy as np

from synthmarket import engine
from synthmarket.domain.calendar import SESSION_MINUTES, trading_day
from synthmarket.domain.control import SyntheticControlState
from synthmarket.domain.universe import DEFAULT_SYMBOLS

DAY = trading_day(dt.date(2026, 11, 24))
SECONDS = SESSION_MINUTES * 60


def instant_cost(control: SyntheticControlState, samples: int = 2000) -> tuple[float, float]:
    """Median µs of session state + 20 underlyings at one ts (warm caches), and of one cold instant."""
    engine.clear_caches()
    start = time.perf_counter()
    ts0 = DAY.open_ms + 200 * 60_000
    session = engine.get_session_state(ts0, control)
    for sym in DEFAULT_SYMBOLS:
        engine.get_underlying_state(sym, ts0, control, session)
    cold_us = (time.perf_counter() - start) * 1e6
    rng = np.random.default_rng(1)
    offsets = rng.integers(0, SECONDS * 1000, size=samples)
    costs = []
    for off in offsets:
        ts = DAY.open_ms + int(off)
        t = time.perf_counter()
        session = engine.get_session_state(ts, control)
        for sym in DEFAULT_SYMBOLS:
            engine.get_underlying_state(sym, ts, control, session)
        costs.append((time.perf_counter() - t) * 1e6)
    return statistics.median(costs), cold_us


def whole_day_vectorised(control: SyntheticControlState) -> tuple[float, float, float]:
    """Seconds for a cold full day: session states per second (scalar) + underlying_path per symbol."""
    engine.clear_caches()
    ts = DAY.open_ms + np.arange(SECONDS) * 1000
    start = time.perf_counter()
    sessions = [engine.get_session_state(int(t), control) for t in ts]
    mid = time.perf_counter()
    paths = {sym: engine.underlying_path(sym, ts, control) for sym in DEFAULT_SYMBOLS}
    end = time.perf_counter()
    assert len(sessions) == SECONDS and all(p["price"].size == SECONDS for p in paths.values())
    return end - start, mid - start, end - mid


def whole_day_scalar(control: SyntheticControlState) -> float:
    """Seconds for the same day with the scalar API only (caches warm from the day's first call)."""
    engine.clear_caches()
    start = time.perf_counter()
    for second in range(SECONDS):
        ts = DAY.open_ms + second * 1000
        session = engine.get_session_state(ts, control)
        for sym in DEFAULT_SYMBOLS:
            engine.get_underlying_state(sym, ts, control, session)
    return time.perf_counter() - start


def main(seed: int = 20260101) -> None:
    control = SyntheticControlState(shared_seed=seed)
    median_us, cold_us = instant_cost(control)
    print(f"one instant, session + 20 underlyings: median {median_us:,.1f} µs warm "
          f"({median_us / 21:,.1f} µs per call); first call of the day (cold caches) {cold_us / 1000:,.1f} ms")
    best = min((whole_day_vectorised(control) for _ in range(3)), key=lambda r: r[0])
    print(f"whole day, 1 s resolution, 20 symbols ({SECONDS:,} instants, cold caches): {best[0]:.2f} s "
          f"= {best[1]:.2f} s session states (scalar, per second) + {best[2]:.2f} s underlying_path "
          f"(vectorised)  [target < 2 s]")
    scalar = whole_day_scalar(control)
    print(f"whole day, 1 s resolution, 20 symbols, scalar API only ({SECONDS * 21:,} calls): {scalar:.2f} s")


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:2]))
