"""Hand-built option prints for classifier tests, and whole-stream properties of the classifier."""

from __future__ import annotations

from collections import Counter

from flow_svc.classifier import SmartMoneyClassifier
from flow_svc.reasons import REPEAT_PREFIX
from synthmarket.domain import rng
from synthmarket.domain.marketdata import OptionPrint, SmartMoneyEvent
from synthmarket.domain.profiles import PUBLIC_PROFILE_IDS
from tests.support.option_tape import T0, VENUES, Tape, run


def synthetic_stream(n_scenarios: int, seed: int, noise_per_scenario: int = 6) -> tuple[list[OptionPrint], set[str]]:
    """A mixed tape of rule-shaped bursts and small noise; returns the prints and the noise ids."""
    tape = Tape(f"s{seed}-")
    prints: list[OptionPrint] = []
    noise: set[str] = set()
    ts = T0
    symbols = ("AAPL", "MSFT", "NVDA", "AMD", "JPM", "XOM")
    for i in range(n_scenarios):
        ts += int(2_000 + 20_000 * rng.uniform(seed, i, "gap"))
        und = symbols[int(rng.uniform(seed, i, "sym") * len(symbols))]
        kind = int(rng.uniform(seed, i, "kind") * 5)
        if kind == 0:       # sweep
            for leg in range(4):
                prints.append(tape.opt(ts + 3 * leg, und=und, exchange=VENUES[leg], cond="ISOI", size=150, price=3.0))
        elif kind == 1:     # chase
            for k in range(6):
                prints.append(tape.opt(ts + 4_000 * k, und=und, dte=0, otm=0.03, size=60, price=1.2))
        elif kind == 2:     # overwrite
            prints.append(tape.opt(ts, und=und, side="sell", otm=0.05, size=800, price=1.5))
        elif kind == 3:     # box at mid
            mleg = f"m{seed}-{i}"
            for right, strike, price in (("C", 220, 12.0), ("C", 230, 5.0), ("P", 230, 5.0), ("P", 220, 2.02)):
                prints.append(tape.opt(ts, und=und, right=right, strike=strike, side="mid", price=price,
                                       size=200, mleg=mleg, spread=0.20))
        else:               # far-dated block
            prints.append(tape.opt(ts, und=und, dte=400, size=900, price=9.0))
        for k in range(noise_per_scenario):
            size = 1 + int(9 * rng.uniform(seed, i, k, "nsize"))
            p = tape.opt(ts + 500 * k + 1, und=und, size=min(size, 9), side="buy" if k % 2 else "mid",
                         age=5_000 if k == 3 else 100, quote=k != 5)
            prints.append(p)
            noise.add(p.id)
    return sorted(prints, key=lambda p: p.ts), noise


def test_stream_is_deterministic_and_independent_of_flush_cadence():
    prints, _ = synthetic_stream(60, seed=7)
    a = run(prints)
    b = run(prints)
    assert a == b and len(a) >= 50, f"expected ~60 identical events, got {len(a)} and {len(b)}"
    # Flushing on a 250 ms clock between prints must give exactly the same events (an event's ts
    # is its decision instant, not the flush call's).
    clf = SmartMoneyClassifier()
    c: list[SmartMoneyEvent] = []
    clock = prints[0].ts
    for p in prints:
        while clock + 250 <= p.ts:
            clock += 250
            c.extend(clf.flush(clock))
        c.extend(clf.observe(p))
    c.extend(clf.flush(prints[-1].ts + 3_600_000))
    assert sorted(c, key=lambda e: e.event_id) == sorted(a, key=lambda e: e.event_id)


def test_each_print_in_at_most_one_event_and_noise_never_explained():
    prints, noise = synthetic_stream(80, seed=11)
    events = run(prints)
    counts = Counter(pid for e in events for pid in e.print_ids)
    assert max(counts.values()) == 1, [pid for pid, n in counts.items() if n > 1][:5]
    assert not noise & set(counts), "noise prints (< 10 contracts, stale or missing quote) were explained"
    assert len({e.event_id for e in events}) == len(events)


def test_events_are_public_and_well_formed():
    prints, _ = synthetic_stream(40, seed=3)
    by_id = {p.id: p for p in prints}
    for e in run(prints):
        assert e.profile_id in PUBLIC_PROFILE_IDS
        assert e.direction in ("bullish", "bearish", "neutral")
        assert e.reason and len(e.reason) < 200
        assert e.premium >= (10_000 if e.reason.startswith(REPEAT_PREFIX) else 25_000)
        assert e.event_id == f"sm-{e.print_ids[0]}"
        explained = [by_id[i] for i in e.print_ids]
        assert abs(e.premium - sum(p.price * p.size * 100 for p in explained)) < 0.01
        assert e.contracts == sum(p.size for p in explained)
        assert e.ts == max(p.ts for p in explained)  # stamped with its last print
        assert e.contract in {p.contract for p in explained}


def test_memory_is_bounded_by_the_longest_window():
    clf = SmartMoneyClassifier()
    prints, _ = synthetic_stream(300, seed=5)
    peak = 0
    for p in prints:
        clf.observe(p)
        peak = max(peak, clf.open_clusters)
    # 300 scenarios ~11 s apart over ~55 min; only those within the 10-minute window stay open.
    assert peak < 120, f"open clusters peaked at {peak}"
    clf.flush(prints[-1].ts + clf.thresholds.longest_window_ms)
    assert clf.open_clusters == 0
