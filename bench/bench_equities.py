"""Cost and size of the equity tape: a full 6.5 h session for 20 symbols, in one step and in 1 s steps.

Run from the repository root: .venv/bin/python -m bench.bench_equities [seed]
Target on the 2-core reference machine: the whole session for the 20 default symbols in <= 8 s
on one core with the engine's caches cold, at 0.3-1 trades per second per symbol on average.
Time is process CPU time (what one core spends), so a busy machine does not skew it; wall time
is printed alongside.
"""

from __future__ import annotations

import datetime as dt
import sys
import time

from equities_svc.generator import BLOCK_MINUTES, EquitiesGenerator
from synthmarket import engine
from synthmarket.domain.calendar import SESSION_MINUTES, trading_day
from synthmarket.domain.control import SyntheticControlState
from synthmarket.domain.marketdata import EquityTrade
from synthmarket.domain.universe import DEFAULT_SYMBOLS
from synthmarket_cli.offline import EQUITY_BLOCK_MINUTES

DAY = trading_day(dt.date(2026, 11, 24))
TARGET_S = 8.0


def session(control: SyntheticControlState, step_ms: int | None, block_minutes: int) -> tuple[float, float, int, int]:
    """(cpu s, wall s, trades, quotes) for a cold full session, in one step or in ``step_ms`` steps."""
    engine.clear_caches()
    cpu0, wall0 = time.process_time(), time.perf_counter()
    gen = EquitiesGenerator(control, DEFAULT_SYMBOLS, start_ts=DAY.open_ms, block_minutes=block_minutes)
    records = []
    if step_ms is None:
        records = gen.step(DAY.open_ms, DAY.close_ms)
    else:
        for t0 in range(DAY.open_ms, DAY.close_ms, step_ms):
            records.extend(gen.step(t0, min(t0 + step_ms, DAY.close_ms)))
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    n_trades = sum(isinstance(r, EquityTrade) for r in records)
    return cpu, wall, n_trades, len(records) - n_trades


def main() -> int:
    seed = int(sys.argv[1]) if len(sys.argv) > 1 else 20260101
    control = SyntheticControlState(shared_seed=seed)
    seconds = SESSION_MINUTES * 60
    n = len(DEFAULT_SYMBOLS)
    ok = True
    # Live service blocks, then the offline replay's (the records are the same).
    runs = (("one step", None, BLOCK_MINUTES), ("1 s steps", 1_000, BLOCK_MINUTES),
            ("1 s steps", 1_000, EQUITY_BLOCK_MINUTES))
    for label, step, block in runs:
        elapsed, wall, trades, quotes = session(control, step, block)
        label = f"{label}, {block:2d}-min blocks"
        per_sym = trades / seconds / n
        print(
            f"{label:24} cpu {elapsed:5.2f} s (wall {wall:5.2f} s)  trades {trades:7d} ({per_sym:.2f}/s/symbol)  "
            f"quotes {quotes:7d} ({quotes / seconds / n:.2f}/s/symbol)  target <= {TARGET_S:.0f} s"
        )
        ok &= elapsed <= TARGET_S and 0.3 <= per_sym <= 1.0
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
