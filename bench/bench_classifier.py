"""Throughput of the smart-money classifier on a synthetic mixed tape (prints per second).

Run from the repository root: .venv/bin/python -m bench.bench_classifier [n_scenarios] [noise_per_scenario]
Target: >= 50k prints/s single-threaded on the 2-core reference machine (100k/s is a stretch goal).
"""

from __future__ import annotations

import sys
import time

from flow_svc.classifier import SmartMoneyClassifier
from tests.unit.test_classifier_tape import synthetic_stream


def main(n_scenarios: int = 20_000, noise_per_scenario: int = 12) -> None:
    prints, _ = synthetic_stream(n_scenarios, seed=42, noise_per_scenario=noise_per_scenario)
    best = 0.0
    for _ in range(3):
        clf = SmartMoneyClassifier(event_symbols=("NFLX",))
        start = time.perf_counter()
        n_events = 0
        for p in prints:
            n_events += len(clf.observe(p))
        n_events += len(clf.flush(prints[-1].ts + clf.thresholds.longest_window_ms))
        elapsed = time.perf_counter() - start
        best = max(best, len(prints) / elapsed)
    print(f"{len(prints):,} prints, {n_events:,} events, best of 3: {best:,.0f} prints/s")


if __name__ == "__main__":
    args = [int(a) for a in sys.argv[1:3]]
    main(*args)
