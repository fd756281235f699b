"""Options generator throughput: a full 6.5 h session for 20 symbols, target <= 1.6 s CPU on one core.

The target is the options generator's share of `synthmarket simulate` running a whole session
in about 6 s (100k records per CPU second). The defaults match the simulate reference session
(seed 20260101, 2026-11-20).

Run: python -m bench.bench_options [--step-ms 1000] [--symbols 20] [--date 2026-11-20]
Reports wall and CPU time (CPU time is what the target means on a shared machine); on a shared
machine compare several runs, not one.
"""

from __future__ import annotations

import argparse
import datetime as dt
import time
from collections import Counter

from options_svc.generator import OptionsGenerator
from synthmarket.domain.calendar import trading_day
from synthmarket.domain.control import DEFAULT_CONTROL
from synthmarket.domain.universe import DEFAULT_SYMBOLS

TARGET_S = 1.6


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--step-ms", type=int, default=1_000)
    ap.add_argument("--symbols", type=int, default=20)
    ap.add_argument("--date", default="2026-11-20")
    args = ap.parse_args()
    day = trading_day(dt.date.fromisoformat(args.date))
    symbols = DEFAULT_SYMBOLS[: args.symbols]
    wall, cpu = time.perf_counter(), time.process_time()
    gen = OptionsGenerator(DEFAULT_CONTROL, symbols, start_ts=day.open_ms)
    n = 0
    ts = day.open_ms
    while ts < day.close_ms:
        n += len(gen.step(ts, min(ts + args.step_ms, day.close_ms)))
        ts += args.step_ms
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    fams = Counter(r.family for r in gen.pop_scenarios())
    print(f"symbols={len(symbols)} step_ms={args.step_ms} prints={n} scenarios={sum(fams.values())}")
    print(f"families={dict(fams)}")
    print(f"wall={wall:.2f}s cpu={cpu:.2f}s target<={TARGET_S:.1f}s -> {'OK' if cpu <= TARGET_S else 'SLOW'}")


if __name__ == "__main__":
    main()
