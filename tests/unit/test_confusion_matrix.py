"""The classifier against the real options generator: print-level confusion of family vs profile."""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict

import pytest

from flow_svc.classifier import SmartMoneyClassifier
from synthmarket.domain.calendar import trading_day
from synthmarket.domain.control import SyntheticControlState
from synthmarket.domain.marketdata import SmartMoneyEvent
from synthmarket.domain.profiles import NEUTRAL_NOISE, PUBLIC_PROFILE_IDS
from synthmarket.domain.universe import DEFAULT_SYMBOLS

NONE = "none"
MIN_RECALL = 0.9
MIN_PRECISION = 0.9
STEP_MS = 5_000
RUNS = (  # (seed, trading day, session start): two hours of balanced_demo, different days and seeds
    (20260101, dt.date(2026, 11, 24), "10:00"),
    (424242, dt.date(2026, 11, 25), "13:30"),
)


def _run(seed: int, date: dt.date, start: str, minutes: int = 60):
    from options_svc.generator import OptionsGenerator  # labels live here; the classifier never imports it
    from synthmarket import engine

    control = SyntheticControlState(shared_seed=seed)
    symbols = DEFAULT_SYMBOLS
    t0 = trading_day(date).at(start)
    # Open interest reaches the event, never a decision: left out, it spares a replay per seed.
    gen = OptionsGenerator(control, symbols, start_ts=t0, open_interest=False)
    clf = SmartMoneyClassifier(
        event_symbol_source=lambda ts: engine.get_session_state(ts - ts % 1000, control, symbols).event_symbols)
    events: list[SmartMoneyEvent] = []
    t = t0
    end = t0 + minutes * 60_000
    while t < end:
        for p in gen.step(t, t + STEP_MS):
            events.extend(clf.observe(p))
        t += STEP_MS
        events.extend(clf.flush(t))
    # Scenarios still running at the end are cut short: close the open clusters on the full tape.
    events.extend(clf.flush(end + clf.thresholds.longest_window_ms))
    return gen.pop_labels(), events


@pytest.fixture(scope="module")
def confusion():
    matrix: dict[str, Counter] = defaultdict(Counter)
    subtypes: dict[str, Counter] = defaultdict(Counter)
    n_events = 0
    for seed, date, start in RUNS:
        labels, events = _run(seed, date, start)
        n_events += len(events)
        explained: dict[str, str] = {}
        for e in events:
            for pid in e.print_ids:
                assert pid not in explained, f"print {pid} explained twice"
                explained[pid] = e.profile_id
        assert set(explained) <= set(labels), "an event explains a print the generator never emitted"
        for pid, (family, subtype) in labels.items():
            got = explained.get(pid, NONE)
            matrix[family][got] += 1
            subtypes[subtype][got] += 1
    return matrix, subtypes, n_events


def _render(matrix: dict[str, Counter], subtypes: dict[str, Counter]) -> str:
    cols = list(PUBLIC_PROFILE_IDS) + [NONE]
    head = f"{'family / subtype':32}" + "".join(f"{c[:10]:>11}" for c in cols)
    lines = [head]
    for family in list(PUBLIC_PROFILE_IDS) + [NEUTRAL_NOISE]:
        lines.append(f"{family:32}" + "".join(f"{matrix[family][c]:>11}" for c in cols))
    lines.append("")
    for subtype in sorted(subtypes):
        lines.append(f"  {subtype:30}" + "".join(f"{subtypes[subtype][c]:>11}" for c in cols))
    return "\n".join(lines)


def test_per_family_recall_and_precision(confusion):
    matrix, subtypes, n_events = confusion
    table = _render(matrix, subtypes)
    failures = []
    for profile in PUBLIC_PROFILE_IDS:
        labeled = sum(matrix[profile].values())
        hit = matrix[profile][profile]
        claimed = sum(matrix[f][profile] for f in matrix)
        recall = hit / labeled if labeled else 0.0
        precision = hit / claimed if claimed else 0.0
        if labeled < 30:
            failures.append(f"{profile}: only {labeled} labeled prints (need >= 30 for a meaningful rate)")
        if recall < MIN_RECALL or precision < MIN_PRECISION:
            failures.append(f"{profile}: recall {recall:.3f}, precision {precision:.3f} "
                            f"(each must be >= {MIN_RECALL})")
    assert not failures, "\n".join(failures) + f"\n{n_events} events\n" + table


def test_no_event_explains_neutral_noise(confusion):
    matrix, subtypes, _ = confusion
    noise = matrix[NEUTRAL_NOISE]
    assert sum(noise.values()) > 0, "the runs produced no neutral noise to check"
    wrong = {k: v for k, v in noise.items() if k != NONE}
    assert not wrong, f"neutral_noise prints explained by events: {wrong}\n" + _render(matrix, subtypes)
