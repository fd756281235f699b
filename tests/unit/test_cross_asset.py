"""Cross-asset coupling: one regime drives the option tape and the equity tape together.

Full balanced_demo sessions (two seeds, eight names) through the offline loop; every statistic
compares the same tape across regimes, so the coupling is what the market shows, not a schedule.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np
import pytest

from synthmarket.domain.calendar import MS_PER_MINUTE, trading_day
from synthmarket.domain.chain import dte, otm_frac
from synthmarket.domain.control import DEFAULT_CONTROL
from synthmarket.domain.marketdata import EquityQuote, EquityTrade
from synthmarket.engine.regime_engine import get_session_state, get_underlying_state
from synthmarket_cli.offline import SimulationSpec, run_session

SYMBOLS = ("SPY", "QQQ", "AAPL", "NVDA", "TSLA", "AMD", "JPM", "COIN")
SEEDS = (3, 4)
DATE = dt.date(2026, 11, 20)
TRENDS = ("trend_up", "trend_down")


@dataclass
class Tape:
    regime_by_minute: dict[int, str] = field(default_factory=dict)
    events_by_minute: dict[int, tuple[str, ...]] = field(default_factory=dict)
    options: list = field(default_factory=list)
    events: list = field(default_factory=list)
    last_trade: dict[tuple[str, int], float] = field(default_factory=dict)
    spreads: dict[tuple[str, int], list[float]] = field(default_factory=lambda: defaultdict(list))


@pytest.fixture(scope="module")
def tapes() -> list[Tape]:
    return build_tapes()


def build_tapes() -> list[Tape]:
    out = []
    day = trading_day(DATE)
    for seed in SEEDS:
        control = DEFAULT_CONTROL.with_update(shared_seed=seed)
        tape = Tape()
        for minute in range(390):
            state = get_session_state(day.open_ms + minute * MS_PER_MINUTE, control, symbols=SYMBOLS)
            tape.regime_by_minute[minute] = state.regime.value
            tape.events_by_minute[minute] = state.event_symbols
        # Open interest is judged elsewhere (tests/unit/test_open_interest.py): each seed would replay
        # the previous session for it.
        spec = SimulationSpec(control, day, day.open_ms, day.close_ms, SYMBOLS, open_interest=False)
        for step in run_session(spec):
            minute = (step.t0 - day.open_ms) // MS_PER_MINUTE
            tape.options.extend(step.options)
            tape.events.extend(step.events)
            for rec in step.equities:
                if isinstance(rec, EquityTrade) and not rec.off_exchange:
                    tape.last_trade[(rec.symbol, minute)] = rec.price
                elif isinstance(rec, EquityQuote):
                    mid = (rec.bid + rec.ask) / 2
                    tape.spreads[(rec.symbol, minute)].append((rec.ask - rec.bid) / mid * 1e4)
        tape.day = day
        tape.control = control
        out.append(tape)
    return out


def minute_of(tape: Tape, ts: int) -> int:
    return min(389, max(0, (ts - tape.day.open_ms) // MS_PER_MINUTE))


def share_by_regime(tapes, predicate) -> dict[str, float]:
    """Share of option prints matching ``predicate`` among all prints, per regime (pooled)."""
    hits: dict[str, int] = defaultdict(int)
    totals: dict[str, int] = defaultdict(int)
    for tape in tapes:
        for p in tape.options:
            regime = tape.regime_by_minute[minute_of(tape, p.ts)]
            totals[regime] += p.size
            if predicate(p):
                hits[regime] += p.size
    return {r: hits[r] / totals[r] for r in totals if totals[r] > 0}


def minute_returns(tape: Tape, symbol: str) -> dict[int, float]:
    prices = {m: tape.last_trade[(symbol, m)] for m in range(390) if (symbol, m) in tape.last_trade}
    return {m: np.log(prices[m] / prices[m - 1]) for m in prices if m - 1 in prices}


def test_dealer_gamma_means_short_dated_atm_options_and_choppier_underlyings(tapes):
    atm_short = share_by_regime(
        tapes, lambda p: dte(p.ts, p.expiry) <= 2 and abs(otm_frac(p.right, p.strike, p.underlying_price)) <= 0.01)
    trend = np.mean([atm_short[r] for r in TRENDS if r in atm_short])
    # Tolerance: contracts traded short-dated at the money at least 1.3x the trend-regime share.
    assert atm_short["dealer_gamma"] >= 1.3 * trend, atm_short

    flips = defaultdict(lambda: [0, 0])
    for tape in tapes:
        for sym in SYMBOLS:
            rets = minute_returns(tape, sym)
            for m, r in rets.items():
                if m - 1 in rets and r != 0 and rets[m - 1] != 0:
                    regime = tape.regime_by_minute[m]
                    if tape.regime_by_minute[m - 1] == regime:
                        flips[regime][0] += int(np.sign(r) != np.sign(rets[m - 1]))
                        flips[regime][1] += 1
    rate = {r: a / b for r, (a, b) in flips.items() if b > 100}
    trend_rate = np.mean([rate[r] for r in TRENDS if r in rate])
    # More sign changes of 1-minute returns in dealer_gamma than in trends (pooled, >100 pairs each).
    assert rate["dealer_gamma"] > trend_rate + 0.02, rate


def test_retail_chase_means_short_dated_otm_calls_iv_shock_and_momentum(tapes):
    otm_calls = share_by_regime(
        tapes, lambda p: p.right == "C" and dte(p.ts, p.expiry) <= 7 and otm_frac("C", p.strike, p.underlying_price) >= 0.01)
    others = np.mean([v for r, v in otm_calls.items() if r not in ("retail_chase",)])
    # Tolerance: short-dated OTM call contracts at least 1.3x their share in other regimes.
    assert otm_calls["retail_chase"] >= 1.3 * others, otm_calls

    shock: dict[str, list[float]] = defaultdict(list)
    for tape in tapes:
        for minute in range(0, 390, 5):
            ts = tape.day.open_ms + minute * MS_PER_MINUTE
            regime = tape.regime_by_minute[minute]
            for sym in SYMBOLS:
                shock[regime].append(get_underlying_state(sym, ts, tape.control, None, SYMBOLS).execution_iv_shock)
    assert np.mean(shock["retail_chase"]) > np.mean(shock["arb_calm"]) + 0.005, {r: np.mean(v) for r, v in shock.items()}


def test_arb_calm_means_neutral_multi_leg_structures_and_quiet_underlyings(tapes):
    multi = share_by_regime(tapes, lambda p: p.multi_leg_id is not None)
    others = np.mean([v for r, v in multi.items() if r != "arb_calm"])
    # Tolerance: multi-leg contracts at least 1.3x their share elsewhere.
    assert multi["arb_calm"] >= 1.3 * others, multi

    moves: dict[str, list[float]] = defaultdict(list)
    for tape in tapes:
        for sym in SYMBOLS:
            for m, r in minute_returns(tape, sym).items():
                moves[tape.regime_by_minute[m]].append(abs(r))
    calm, trend = np.mean(moves["arb_calm"]), np.mean(moves["trend_up"] + moves["trend_down"])
    assert calm < trend, {r: np.mean(v) for r, v in moves.items()}


def test_event_ramp_aligns_option_flow_drift_and_spreads_on_event_symbols(tapes):
    on_event: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for tape in tapes:
        for p in tape.options:
            m = minute_of(tape, p.ts)
            regime = tape.regime_by_minute[m]
            on_event[regime][0] += p.size * (p.underlying in tape.events_by_minute[m])
            on_event[regime][1] += p.size
    share = {r: a / b for r, (a, b) in on_event.items() if b}
    others = np.mean([v for r, v in share.items() if r != "event_ramp"])
    # Tolerance: option contracts on event names at least 1.3x their share in other regimes.
    assert share["event_ramp"] >= 1.3 * others, share

    ev_moves, other_moves, ev_spread, calm_spread = [], [], [], []
    for tape in tapes:
        for sym in SYMBOLS:
            rets = minute_returns(tape, sym)
            for m in range(390):
                spread = tape.spreads.get((sym, m))
                regime = tape.regime_by_minute[m]
                if regime == "event_ramp" and sym in tape.events_by_minute[m]:
                    if m in rets:
                        ev_moves.append(abs(rets[m]))
                    if spread:
                        ev_spread.append(np.mean(spread))
                elif regime == "event_ramp" and m in rets:
                    other_moves.append(abs(rets[m]))
                if regime == "arb_calm" and spread:
                    calm_spread.append(np.mean(spread))
    assert ev_moves and other_moves and ev_spread and calm_spread
    assert np.mean(ev_moves) > np.mean(other_moves), (np.mean(ev_moves), np.mean(other_moves))
    assert np.median(ev_spread) > np.median(calm_spread), (np.median(ev_spread), np.median(calm_spread))
