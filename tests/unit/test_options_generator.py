"""OptionsGenerator over whole sessions: ordering, determinism, footprints, burstiness, coverage, regimes."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import statistics
from collections import Counter, defaultdict
from functools import lru_cache

import pytest

from options_svc.generator import OptionsGenerator
from synthmarket import engine
from synthmarket.domain import chain
from synthmarket.domain.calendar import trading_day
from synthmarket.domain.control import DEFAULT_CONTROL, SyntheticProfileWeightMap
from synthmarket.domain.marketdata import OptionPrint
from synthmarket.domain.profiles import NEUTRAL_NOISE, PUBLIC_PROFILE_IDS
from tests.support.footprints import footprint_violations

SYMBOLS = ("SPY", "QQQ", "IWM", "AAPL", "NVDA", "TSLA", "JPM", "AMD")
DAY = trading_day(dt.date(2026, 11, 25))    # every regime visits this day for the default seed
STEP_MS = 60_000


def _run(control, start, end, step, symbols=SYMBOLS, engine_impl=None, ordinary=True):
    # ``ordinary=False`` leaves out the ordinary flow where only the scenarios are judged (faster).
    extra = {} if ordinary else {"ordinary_scale": 0.0}
    # Open interest has its own tests (tests/unit/test_open_interest.py); here it would only cost a
    # replay of the previous session per seed.
    g = OptionsGenerator(control, symbols, start_ts=start, engine=engine_impl, open_interest=False, **extra)
    prints, ts = [], start
    while ts < end:
        t1 = min(ts + step, end)
        batch = g.step(ts, t1)
        assert all(ts <= p.ts < t1 for p in batch), "a step emits only prints inside [t0, t1)"
        assert [p.ts for p in batch] == sorted(p.ts for p in batch), "a step emits in ts order"
        prints.extend(batch)
        ts = t1
    return g, prints


@pytest.fixture(scope="module")
def tape():
    g, prints = _run(DEFAULT_CONTROL, DAY.open_ms, DAY.close_ms, STEP_MS)
    return g, prints, g.labels_for(p.id for p in prints), g.pop_scenarios()


@lru_cache(maxsize=1024)
def _session(minute_ts: int):
    return engine.get_session_state(minute_ts, DEFAULT_CONTROL, SYMBOLS)


def _regime_at(ts: int) -> str:
    return _session(ts - ts % 60_000).regime.value


def test_ids_unique_and_well_formed(tape):
    _, prints, labels, _ = tape
    assert len(prints) > 3_000
    assert len({p.id for p in prints}) == len(prints)
    assert all(re.fullmatch(rf"o-{p.underlying}-{p.ts}-\d+", p.id) for p in prints)
    assert set(labels) == {p.id for p in prints}, "every print has a test-only label"
    assert all(chain.parse_occ(p.contract).symbol == p.contract for p in prints[:2000])


def test_prints_are_the_records_their_constructor_builds(tape):
    # Prints are filled in without the dataclass __init__ (the hot path): each must hold exactly
    # the declared fields, in order, and equal a normal construction.
    _, prints, _, _ = tape
    names = [f.name for f in dataclasses.fields(OptionPrint)]
    for p in prints[:500]:
        assert list(vars(p)) == names
        assert OptionPrint(**vars(p)) == p


def test_every_emitted_scenario_stays_inside_its_footprint_and_placement(tape):
    _, prints, _, scenarios = tape
    by_id = {p.id: p for p in prints}
    seen = Counter()
    for r in scenarios:
        ps = [by_id[i] for i in r.print_ids]
        assert ps, r
        assert footprint_violations(r.subtype, ps) == [], (r, ps)
        events = _session(r.ts - r.ts % 60_000).event_symbols
        if r.family in ("institutional_directional", "retail_whale", "hedge_reactive"):
            assert r.symbol not in events, "never on an event symbol"
        if r.family == "event_driven":
            assert r.symbol in events, "event scenarios only on event symbols"
        seen[r.family] += 1
    assert set(seen) == set(PUBLIC_PROFILE_IDS) | {NEUTRAL_NOISE}, "every family shows up in a session"


def test_labels_are_separate_from_prints(tape):
    g, prints, labels, _ = tape
    assert all(not hasattr(p, "family") and not hasattr(p, "subtype") for p in prints[:10])
    some = [p.id for p in prints[:5]]
    assert g.labels_for(some) == {i: labels[i] for i in some}
    popped = g.pop_labels()
    assert len(popped) == len(prints) and g.labels_for(some) == {}


def test_same_inputs_and_other_step_sizes_give_identical_prints(tape):
    _, prints, _, _ = tape
    end = DAY.open_ms + 75 * 60_000
    expected = [p for p in prints if p.ts < end]
    _, a = _run(DEFAULT_CONTROL, DAY.open_ms, end, 1_000)
    _, b = _run(DEFAULT_CONTROL, DAY.open_ms, end, 7_777)
    assert a == expected and b == expected


def test_arrivals_are_bursty_not_on_a_rhythm(tape):
    _, _, _, scenarios = tape
    labeled = [r for r in scenarios if r.family != NEUTRAL_NOISE]
    ts = sorted(r.ts for r in labeled)
    gaps = [b - a for a, b in zip(ts, ts[1:])]
    cv = statistics.pstdev(gaps) / statistics.mean(gaps)
    assert cv > 1.0, f"pooled CV of inter-arrival times {cv:.2f} should exceed 1 (Poisson = 1)"
    per_symbol = []
    for sym in SYMBOLS:
        t = sorted(r.ts for r in labeled if r.symbol == sym)
        g = [b - a for a, b in zip(t, t[1:])]
        per_symbol.append(statistics.pstdev(g) / statistics.mean(g))
    assert statistics.median(per_symbol) > 1.2, per_symbol


class _NoBoostEngine:
    """The real engine, except that asking for a coverage boost fails the test."""

    def __getattr__(self, name):
        return getattr(engine, name)

    def get_coverage_boost(self, *args, **kwargs):
        raise AssertionError("coverage boost requested with coverage_assist off")


def test_coverage_assist_off_never_boosts(tape):
    g_on = tape[0]
    assert g_on.boosts_applied > 0, "with coverage assist on, missing profiles get boosted"
    control = DEFAULT_CONTROL.with_update(coverage_assist=False)
    g, _ = _run(control, DAY.open_ms, DAY.open_ms + 120 * 60_000, STEP_MS, engine_impl=_NoBoostEngine(), ordinary=False)
    assert g.boosts_applied == 0
    assert sum(g.hit_counts().values()) > 0


def test_hit_counts_cover_the_rolling_window(tape):
    g, _, _, scenarios = tape
    window = DEFAULT_CONTROL.coverage_window_minutes * 60_000
    expected = Counter(r.family for r in scenarios if r.ts > DAY.close_ms - window and r.family != NEUTRAL_NOISE)
    assert g.hit_counts() == {p: expected.get(p, 0) for p in PUBLIC_PROFILE_IDS}


def test_set_control_applies_from_the_next_step():
    g = OptionsGenerator(DEFAULT_CONTROL, SYMBOLS, start_ts=DAY.open_ms)
    g.step(DAY.open_ms, DAY.open_ms + 60_000)
    g.set_control(DEFAULT_CONTROL.with_update(coverage_window_minutes=10, coverage_assist=False))
    assert g.control.coverage_window_minutes == 20
    before = g.boosts_applied
    g.step(DAY.open_ms + 60_000, DAY.open_ms + 40 * 60_000)
    assert g.control.coverage_window_minutes == 10 and g.boosts_applied == before


@lru_cache(maxsize=16)
def _shares(control) -> Counter:
    g, _ = _run(control, DAY.open_ms, DAY.close_ms, 300_000, ordinary=False)
    return Counter(r.family for r in g.pop_scenarios())


@pytest.mark.parametrize("profile", ["event_driven", "hedge_reactive", "vol_seller"])
def test_raising_a_profile_raises_its_share(profile):
    base, raised = Counter(), Counter()
    for seed in (1, 2):
        control = DEFAULT_CONTROL.with_update(shared_seed=seed)
        b = _shares(control)
        r = _shares(control.with_update(profile_weights=SyntheticProfileWeightMap({profile: 1.6})))
        assert all(r[p] > 0 for p in PUBLIC_PROFILE_IDS), f"no profile disappears (seed {seed}): {r}"
        base.update(b)
        raised.update(r)
    ratio = (raised[profile] / sum(raised.values())) / (base[profile] / sum(base.values()))
    # Tolerance: pooled over two seeds; the expected lift is ~1.4-1.7x.
    assert ratio >= 1.3, f"{profile}: share lifted only {ratio:.2f}x ({base[profile]} -> {raised[profile]})"


def _by_regime(prints, labels):
    out = defaultdict(list)
    for p in prints:
        out[_regime_at(p.ts)].append((p, labels[p.id]))
    return out


def _share(rows, pred) -> float:
    return sum(1 for r in rows if pred(r)) / max(len(rows), 1)


def test_dealer_gamma_brings_short_dated_atm_prints(tape):
    _, prints, labels, _ = tape
    rows = _by_regime([p for p in prints if labels[p.id][0] != NEUTRAL_NOISE], labels)

    def atm(r) -> bool:
        return (chain.dte(r[0].ts, r[0].expiry) <= 2
                and abs(chain.otm_frac(r[0].right, r[0].strike, r[0].underlying_price)) <= 0.01)

    dealer = _share(rows["dealer_gamma"], atm)
    other = _share([r for k, v in rows.items() if k != "dealer_gamma" for r in v], atm)
    assert dealer >= 1.5 * other, f"dealer_gamma {dealer:.3f} vs others {other:.3f} (tolerance 1.5x)"


def test_retail_chase_brings_short_dated_otm_calls_and_richer_execution(tape):
    g, prints, labels, scenarios = tape
    rows = _by_regime([p for p in prints if labels[p.id][0] != NEUTRAL_NOISE], labels)

    def otm_calls(r) -> bool:
        return (r[0].right == "C" and chain.dte(r[0].ts, r[0].expiry) <= 7
                and chain.otm_frac("C", r[0].strike, r[0].underlying_price) >= 0.01)

    chase = _share(rows["retail_chase"], otm_calls)
    other = _share([r for k, v in rows.items() if k != "retail_chase" for r in v], otm_calls)
    assert chase >= 1.5 * other, f"retail_chase {chase:.3f} vs others {other:.3f} (tolerance 1.5x)"
    by_id = {p.id: p for p in prints}
    shocks = defaultdict(list)
    for r in scenarios:
        first = by_id[r.print_ids[0]]
        if r.family == NEUTRAL_NOISE or first.ts != r.ts or abs(first.price - first.ask) > 1e-9:
            continue
        ctx = g.scenario_context(r.symbol, r.ts)
        exp = dt.date.fromisoformat(first.expiry)
        base_iv = ctx.surface.iv(first.strike, chain.years_to_expiry(r.ts, exp), ctx.event_expiry(exp))
        shocks[_regime_at(r.ts) == "retail_chase"].append(first.iv - base_iv)
    assert len(shocks[True]) >= 20 and len(shocks[False]) >= 100
    hot, calm = statistics.mean(shocks[True]), statistics.mean(shocks[False])
    assert hot > calm + 0.005, f"execution IV shock {hot:.4f} in retail_chase vs {calm:.4f} (tolerance 0.5 vol)"


def test_arb_calm_brings_more_neutral_multi_leg_structures(tape):
    _, prints, labels, _ = tape
    rows = _by_regime([p for p in prints if labels[p.id][0] != NEUTRAL_NOISE], labels)
    mleg = lambda r: r[0].multi_leg_id is not None  # noqa: E731
    calm = _share(rows["arb_calm"], mleg)
    other = _share([r for k, v in rows.items() if k != "arb_calm" for r in v], mleg)
    assert calm >= 1.5 * other, f"arb_calm MLEG share {calm:.3f} vs others {other:.3f} (tolerance 1.5x)"


def test_stale_quotes_and_option_spreads_differ_by_regime(tape):
    _, prints, labels, _ = tape
    rows = {k: v for k, v in _by_regime(prints, labels).items() if len(v) >= 300}
    assert len(rows) >= 5
    stale = {k: _share(v, lambda r: r[0].bid is None or r[0].quote_age_ms >= 2_000) for k, v in rows.items()}
    spread = {
        k: statistics.median((p.ask - p.bid) / ((p.ask + p.bid) / 2) for p, _ in v if p.bid and p.quote_age_ms < 2_000)
        for k, v in rows.items()
    }
    # Tolerance: the dirtiest regime shows at least 1.3x the stale share and median spread of the cleanest.
    assert max(stale.values()) >= 1.3 * min(stale.values()), stale
    assert max(spread.values()) >= 1.3 * min(spread.values()), spread
    assert stale["retail_chase"] > stale["arb_calm"] and spread["retail_chase"] > spread["arb_calm"]
