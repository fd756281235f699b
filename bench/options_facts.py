"""Per-preset "must show" figures of the option tape against the real ranges of MARKET_FACTS.

Run from the repository root: .venv/bin/python -m bench.options_facts [--date 2026-11-18] [--seed 20260101]
For each preset: a full flow-only session (options and the classifier, the default ordinary-flow
sample), then the median print size, the share of prints and of premium explained by smart-money
events, the $1M+ prints, the venue shares (largest, smallest, their ratio), the share of time
near-term at-the-money SPY/QQQ quotes are one tick wide, SPY's intraday ATM IV range and the
correlation of its changes with SPY's returns, and the prints below intrinsic or at a zero price.
The real ranges are in ../shared/MARKET_FACTS.md ("Options microstructure and volatility").
tests/unit/test_options_presets.py checks the same figures on part of a session.
"""

from __future__ import annotations

import argparse
import datetime as dt
import time
from collections import Counter
from collections.abc import Iterable

import numpy as np

from synthmarket.domain import chain
from synthmarket.domain.calendar import TradingDay, trading_day
from synthmarket.domain.control import DEFAULT_CONTROL
from synthmarket.domain.marketdata import OptionPrint
from synthmarket.domain.presets import SyntheticControlPresetId
from synthmarket.domain.universe import DEFAULT_SYMBOLS
from synthmarket_cli.offline import SimulationSpec, run_session

IV_BIN_MS = 10 * 60_000
MAX_QUOTE_HOLD_MS = 60_000     # a quote seen on a print stands for at most this long


def session_tape(preset: str, day: TradingDay, seed: int, start_minute: int = 0, minutes: int | None = None,
                 ordinary_scale: float | None = None) -> tuple[list[OptionPrint], set[str]]:
    """The option prints of a flow-only run and the ids of those smart-money events explain."""
    control = DEFAULT_CONTROL.with_update(preset_id=preset, shared_seed=seed)
    start = day.open_ms + start_minute * 60_000
    end = day.close_ms if minutes is None else min(day.close_ms, start + minutes * 60_000)
    spec = SimulationSpec(control, day, start, end, DEFAULT_SYMBOLS, with_equities=False,
                          ordinary_scale=ordinary_scale)
    prints: list[OptionPrint] = []
    explained: set[str] = set()
    for step in run_session(spec):
        prints.extend(step.options)
        explained.update(pid for e in step.events for pid in e.print_ids)
    return prints, explained


def _intrinsic(p: OptionPrint) -> float:
    return max(p.underlying_price - p.strike if p.right == "C" else p.strike - p.underlying_price, 0.0)


def _near_atm(p: OptionPrint, lo_dte: int, hi_dte: int, otm: float) -> bool:
    return (lo_dte <= chain.dte(p.ts, p.expiry) <= hi_dte
            and abs(chain.otm_frac(p.right, p.strike, p.underlying_price)) <= otm)


def one_tick_time_share(prints: Iterable[OptionPrint]) -> float:
    """Share of time near-term (<= 7 DTE) ATM SPY/QQQ quotes seen on the tape are one cent wide: each
    quote stands until the root's next such print (at most MAX_QUOTE_HOLD_MS)."""
    held = one = 0.0
    for root in ("SPY", "QQQ"):
        rows = sorted((p.ts, round(p.ask - p.bid, 4)) for p in prints
                      if p.underlying == root and p.bid is not None and p.ask is not None
                      and p.quote_age_ms < chain.STALE_QUOTE_MS and _near_atm(p, 0, 7, 0.005))
        for (ts, width), (nxt, _) in zip(rows, rows[1:]):
            hold = min(nxt - ts, MAX_QUOTE_HOLD_MS)
            held += hold
            one += hold * (width <= 0.0100001)
    return one / held if held else float("nan")


def iv_path(prints: Iterable[OptionPrint], root: str = "SPY") -> tuple[np.ndarray, np.ndarray]:
    """Median IV and median spot of ``root``'s 1-7 DTE at-the-money prints per IV_BIN_MS bin."""
    bins: dict[int, tuple[list[float], list[float]]] = {}
    for p in prints:
        if p.underlying == root and _near_atm(p, 1, 7, 0.01) and p.iv > 0:
            ivs, spots = bins.setdefault(p.ts // IV_BIN_MS, ([], []))
            ivs.append(p.iv)
            spots.append(p.underlying_price)
    keys = sorted(k for k, (ivs, _) in bins.items() if len(ivs) >= 3)
    return (np.array([np.median(bins[k][0]) for k in keys]), np.array([np.median(bins[k][1]) for k in keys]))


def figures(prints: list[OptionPrint], explained: set[str]) -> dict[str, float]:
    """The tape's must-show figures (see the module docstring)."""
    sizes = np.array([p.size for p in prints])
    premium = np.array([chain.premium(p.price, p.size) for p in prints])
    labelled = np.array([p.id in explained for p in prints])
    venues = Counter(p.exchange for p in prints)
    shares = sorted((venues[v] / len(prints) for v in chain.OPTION_EXCHANGES), reverse=True)
    iv, spot = iv_path(prints)
    d_iv, ret = np.diff(iv), np.diff(np.log(spot))
    corr = float(np.corrcoef(ret, d_iv)[0, 1]) if len(ret) >= 5 and ret.std() > 0 and d_iv.std() > 0 else float("nan")
    return {
        "prints": float(len(prints)),
        "median size": float(np.median(sizes)),
        "labelled prints": float(labelled.mean()),
        "labelled premium": float(premium[labelled].sum() / premium.sum()),
        "$1M+ prints": float((premium > 1_000_000).sum()),
        "venue largest": shares[0],
        "venue smallest": shares[-1],
        "venue ratio": shares[0] / max(shares[-1], 1e-9),
        "SPY/QQQ ATM 1c time": one_tick_time_share(prints),
        "SPY ATM IV range (pts)": float(100 * (iv.max() - iv.min())) if len(iv) else float("nan"),
        "SPY IV~return corr": corr,
        "below intrinsic": float(sum(p.price < _intrinsic(p) - 1e-9 for p in prints)),
        "zero price": float(sum(p.price <= 0.0 for p in prints)),
    }


REAL_RANGES = {
    "median size": "1-2 contracts",
    "labelled prints": "a small minority (2-20%)",
    "labelled premium": "well above the print share",
    "$1M+ prints": "rare: dozens a day on 20 names",
    "venue largest": "10-15% (18 venues)",
    "venue smallest": "under 1%",
    "SPY/QQQ ATM 1c time": "one or two cents wide, mostly one",
    "SPY ATM IV range (pts)": "a point or two (VIX)",
    "SPY IV~return corr": "negative (SPX/VIX -0.7 to -0.8)",
    "below intrinsic": "0",
    "zero price": "0",
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--date", default="2026-11-18")
    parser.add_argument("--seed", type=int, default=20260101)
    args = parser.parse_args()
    day = trading_day(dt.date.fromisoformat(args.date))
    table: dict[str, dict[str, float]] = {}
    for preset in SyntheticControlPresetId:
        started = time.perf_counter()
        table[preset.value] = figures(*session_tape(preset.value, day, args.seed))
        print(f"{preset.value}: {time.perf_counter() - started:.1f} s", flush=True)
    names = list(next(iter(table.values())))
    print(f"\n{'figure':26}" + "".join(f"{p:>15}" for p in table) + "   real")
    for name in names:
        cells = "".join(f"{_fmt(name, table[p][name]):>15}" for p in table)
        print(f"{name:26}{cells}   {REAL_RANGES.get(name, '')}")


def _fmt(name: str, value: float) -> str:
    if name in ("labelled prints", "labelled premium", "venue largest", "venue smallest", "SPY/QQQ ATM 1c time"):
        return f"{value:.1%}"
    if name in ("SPY IV~return corr", "SPY ATM IV range (pts)", "venue ratio"):
        return f"{value:.2f}"
    return f"{value:.0f}"


if __name__ == "__main__":
    main()
