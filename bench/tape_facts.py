"""Per-preset figures of the equity tape and the continuity of a preset change, from `synthmarket simulate`.

Run from the repository root: .venv/bin/python -m bench.tape_facts [--date 2026-11-20] [--seed 20260101]
For each preset: a full session (and one with `--control-change 12:00=<preset>` from balanced_demo),
then the share of midday time SPY/QQQ/BAC quote one cent wide, trades outside the NBBO without an
exempting condition, opening and closing crosses, the closing cross's share of volume, odd-lot
shares by price, the trade-sign autocorrelation at lags 10 and 100, the opening-minute to midday
volatility ratio, SPY's open-to-close move, and the largest move across the change against that
name's 99th percentile of 1-minute moves. The real ranges are in ../shared/MARKET_FACTS.md.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

import numpy as np

from synthmarket.domain.marketdata import NBBO_EXEMPT_CONDITIONS
from synthmarket.domain.presets import SyntheticControlPresetId

MIDDAY = (120, 300)     # session minutes 11:30-14:30


def simulate(out: Path, date: str, seed: str, *extra: str) -> Path:
    subprocess.run([sys.executable, "-m", "synthmarket_cli", "simulate", "--out", str(out), "--date", date,
                    "--seed", seed, "--no-progress", *extra], check=True, capture_output=True)
    return out


def _records(run: Path) -> tuple[dict[str, list], dict[str, list]]:
    quotes: dict[str, list] = defaultdict(list)
    trades: dict[str, list] = defaultdict(list)
    with open(run / "equities.jsonl") as handle:
        for line in handle:
            r = json.loads(line)
            (quotes if r["type"] == "quote" else trades)[r["symbol"]].append(r)
    return quotes, trades


def figures(run: Path) -> dict[str, str]:
    manifest = json.loads((run / "manifest.json").read_text())
    open_ms = manifest["start_ms"]
    quotes, trades = _records(run)
    out: dict[str, str] = {}
    for symbol in ("SPY", "QQQ", "BAC"):
        q = [r for r in quotes[symbol] if MIDDAY[0] <= (r["ts"] - open_ms) / 60_000 < MIDDAY[1]]
        ts = np.array([r["ts"] for r in q] + [open_ms + MIDDAY[1] * 60_000])
        one = np.array([round(r["ask"] - r["bid"], 4) <= 0.0100001 for r in q])
        out[f"{symbol} 1c (time)"] = f"{np.sum(np.diff(ts) * one) / np.sum(np.diff(ts)):.1%}"
    outside = total = crosses = 0
    close_share, odd = [], {}
    signs_acf10, signs_acf100 = [], []
    for symbol, rows in trades.items():
        book = sorted(quotes[symbol], key=lambda r: r["ts"])
        qts = np.array([r["ts"] for r in book])
        volume = sum(r["size"] for r in rows)
        close_share.append(sum(r["size"] for r in rows if r["condition"] == "CLOSING_CROSS") / max(volume, 1))
        crosses += sum(r["condition"] in ("OPENING_CROSS", "CLOSING_CROSS") for r in rows)
        odd[symbol] = np.mean([r["size"] < 100 for r in rows])
        signs = []
        for r in rows:
            i = np.searchsorted(qts, r["ts"], side="right") - 1
            if i < 0:
                continue
            bid, ask = book[i]["bid"], book[i]["ask"]
            total += 1
            if not bid - 1e-9 <= r["price"] <= ask + 1e-9 and r["condition"] not in NBBO_EXEMPT_CONDITIONS \
                    and not r["off_exchange"]:
                outside += 1
            mid = (bid + ask) / 2
            if r["price"] != mid:
                signs.append(1.0 if r["price"] > mid else -1.0)
        s = np.array(signs) - np.mean(signs)
        if s.size > 200:
            signs_acf10.append(float(np.dot(s[:-10], s[10:]) / np.dot(s, s)))
            signs_acf100.append(float(np.dot(s[:-100], s[100:]) / np.dot(s, s)))
    out["trades outside NBBO, no exemption"] = f"{outside / max(total, 1):.3%}"
    out["crosses per name"] = f"{crosses / max(len(trades), 1):.1f}"
    out["closing cross share (median)"] = f"{np.median(close_share):.1%}"
    out["odd lots SPY/NFLX/BAC"] = "/".join(f"{odd.get(s, float('nan')):.0%}" for s in ("SPY", "NFLX", "BAC"))
    out["sign ACF lag 10/100"] = f"{np.mean(signs_acf10):.3f}/{np.mean(signs_acf100):.3f}"
    spy = sorted(quotes["SPY"], key=lambda r: r["ts"])
    mids = np.array([(r["bid"] + r["ask"]) / 2 for r in spy])
    marks = np.arange(open_ms, manifest["end_ms"], 60_000)
    idx = np.searchsorted([r["ts"] for r in spy], marks, side="right") - 1
    r1 = np.diff(np.log(mids[np.maximum(idx, 0)]))
    out["SPY open/midday 1-min vol"] = f"{np.std(r1[:5]) / np.std(r1[MIDDAY[0]:MIDDAY[1]]):.1f}x"
    out["SPY open-to-close"] = f"{np.log(mids[-1] / mids[0]):+.2%}"
    return out


def change_move(run: Path, at_ms: int) -> str:
    """The largest move across the change, in units of that name's 99th percentile of 1-minute moves."""
    quotes, _ = _records(run)
    worst = 0.0
    for rows in quotes.values():
        ts = np.array([r["ts"] for r in rows])
        mid = np.array([(r["bid"] + r["ask"]) / 2 for r in rows])
        marks = np.arange(ts[0] + 60_000, ts[-1], 60_000)
        ordinary = np.abs(np.diff(np.log(mid[np.searchsorted(ts, marks, side="right") - 1])))
        before = np.searchsorted(ts, at_ms - 30_000, side="right") - 1
        after = np.searchsorted(ts, at_ms + 30_000, side="right") - 1
        worst = max(worst, abs(np.log(mid[after] / mid[before])) / np.quantile(ordinary, 0.99))
    return f"{worst:.2f} x p99"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--date", default="2026-11-20")
    parser.add_argument("--seed", default="20260101")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        for preset in SyntheticControlPresetId:
            run = simulate(Path(tmp) / preset.value, args.date, args.seed, "--preset", preset.value)
            facts = figures(run)
            changed = simulate(Path(tmp) / f"{preset.value}-change", args.date, args.seed, "--minutes", "240",
                               "--control-change", f"12:00={preset.value}")
            at = json.loads((changed / "manifest.json").read_text()).get("control_changes")
            facts["move across a change to it at 12:00"] = change_move(changed, at[0]["ts"]) if at else "n/a (no change)"
            print(preset.value + ": " + "; ".join(f"{k} {v}" for k, v in facts.items()), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
