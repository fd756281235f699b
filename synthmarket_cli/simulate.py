"""`synthmarket simulate`: one session on a virtual clock, written as JSON Lines files."""

from __future__ import annotations

import argparse
import datetime as dt
import functools
import gc
import json
import math
import os
import sys
import time
from pathlib import Path
from typing import IO

from synthmarket.domain.calendar import (
    EXCHANGE_TZ,
    SESSION_MINUTES,
    CalendarError,
    exchange_date,
    is_trading_date,
    trading_day,
)
from synthmarket.domain.control import (
    ALLOWED_WEIGHTS,
    ALLOWED_WINDOWS,
    DEFAULT_SEED,
    SEED_MAX,
    SyntheticControlState,
    validate_control,
)
from synthmarket.domain.marketdata import OptionPrint
from synthmarket.domain.presets import SyntheticControlPresetId
from synthmarket.domain.profiles import PUBLIC_PROFILE_IDS
from synthmarket.domain.universe import DEFAULT_SYMBOLS, UNIVERSE
from synthmarket_cli.control_changes import describe, parse_change, timeline

OUTPUT_FILES = ("regime.jsonl", "options.jsonl", "equities.jsonl", "events.jsonl")
LABELS_FILE = "labels.jsonl"
MANIFEST_FILE = "manifest.json"
PART_SUFFIX = ".part"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.description = "Run one synthetic session on a virtual clock and write JSON Lines files."
    parser.add_argument("--out", required=True, metavar="DIR", help="output directory (created if missing)")
    parser.add_argument("--preset", default="balanced_demo", choices=[p.value for p in SyntheticControlPresetId])
    parser.add_argument("--seed", type=_seed, default=DEFAULT_SEED, help=f"shared seed, 0..2^64-1 (default {DEFAULT_SEED})")
    parser.add_argument("--date", type=_date, default=None,
                        help="trading day YYYY-MM-DD (default: the most recent one)")
    parser.add_argument("--start", type=_hhmm, default="09:30", help="exchange time HH:MM (default 09:30)")
    parser.add_argument("--minutes", type=_positive_int, default=None,
                        help="minutes to simulate (default: until the close, 16:00 or 13:00 on an early close)")
    parser.add_argument("--symbols", type=_symbols, default=None,
                        help=f"comma-separated symbols (default: all {len(DEFAULT_SYMBOLS)})")
    parser.add_argument("--coverage-assist", choices=("on", "off"), default="on")
    parser.add_argument("--control-change", action="append", default=[], type=parse_change,
                        metavar="HH:MM=PRESET|HH:MM=seed:N",
                        help="change the control at that exchange time (repeatable): a new preset changes the "
                             "dynamics from then on and moves no level; a new seed is a new market")
    parser.add_argument("--window", type=int, choices=ALLOWED_WINDOWS, default=20, help="coverage window, minutes")
    parser.add_argument("--weight", action="append", default=[], type=_weight, metavar="PROFILE=0.6|1.0|1.6",
                        help="profile weight (repeatable)")
    parser.add_argument("--labels", action="store_true", help="test only: also write the hidden labels")
    parser.add_argument("--no-progress", action="store_true", help="never draw the progress bar")


def _seed(text: str) -> int:
    try:
        value = int(text, 10)
    except ValueError:
        raise argparse.ArgumentTypeError(f"seed must be an integer, got {text!r}") from None
    if not 0 <= value <= SEED_MAX:
        raise argparse.ArgumentTypeError(f"seed must be between 0 and {SEED_MAX}")
    return value


def _date(text: str) -> dt.date:
    try:
        day = dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"date must be YYYY-MM-DD, got {text!r}") from None
    try:
        trading_day(day)
    except CalendarError as exc:    # a weekend, a market holiday or a special closure, named in the message
        raise argparse.ArgumentTypeError(str(exc)) from None
    return day


def _hhmm(text: str) -> str:
    try:
        hour, minute = (int(p) for p in text.split(":"))
        dt.time(hour, minute)
    except (ValueError, TypeError):
        raise argparse.ArgumentTypeError(f"start must be HH:MM, got {text!r}") from None
    if not (dt.time(9, 30) <= dt.time(hour, minute) < dt.time(16, 0)):
        raise argparse.ArgumentTypeError(f"start must be within the 09:30-16:00 session, got {text}")
    return f"{hour:02d}:{minute:02d}"


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number of minutes, got {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError("minutes must be positive")
    return value


def _symbols(text: str) -> tuple[str, ...]:
    symbols: list[str] = []
    for raw in text.split(","):
        sym = raw.strip().upper()
        if not sym:
            continue
        if sym not in UNIVERSE:
            raise argparse.ArgumentTypeError(f"unknown symbol {sym!r}; known: {', '.join(UNIVERSE)}")
        if sym not in symbols:
            symbols.append(sym)
    if not symbols:
        raise argparse.ArgumentTypeError("no symbols given")
    return tuple(symbols)


def _weight(text: str) -> tuple[str, float]:
    profile, sep, raw = text.partition("=")
    if not sep or profile not in PUBLIC_PROFILE_IDS:
        raise argparse.ArgumentTypeError(f"expected PROFILE=WEIGHT with PROFILE one of {', '.join(PUBLIC_PROFILE_IDS)}")
    try:
        value = float(raw)
    except ValueError:
        raise argparse.ArgumentTypeError(f"weight for {profile} must be 0.6, 1.0 or 1.6, got {raw!r}") from None
    if not any(abs(value - w) < 1e-9 for w in ALLOWED_WEIGHTS):
        raise argparse.ArgumentTypeError(f"weight for {profile} must be 0.6, 1.0 or 1.6, got {raw}")
    return profile, value


def control_from_args(args: argparse.Namespace) -> SyntheticControlState:
    weights = dict.fromkeys(PUBLIC_PROFILE_IDS, 1.0)
    weights.update(dict(args.weight))
    return validate_control(
        {
            "preset_id": args.preset,
            "coverage_assist": args.coverage_assist == "on",
            "coverage_window_minutes": args.window,
            "shared_seed": args.seed,
            "profile_weights": weights,
        }
    )


def _local_hhmm(ts_ms: int) -> str:
    return dt.datetime.fromtimestamp(ts_ms / 1000, EXCHANGE_TZ).strftime("%H:%M")


def _default_date() -> dt.date:
    day = exchange_date(int(time.time() * 1000))
    while not is_trading_date(day):
        day -= dt.timedelta(days=1)
    return day


class _Progress:
    """A one-line progress bar on a terminal; silent otherwise."""

    def __init__(self, total_ms: int, stream: IO[str], enabled: bool) -> None:
        self.total = max(total_ms, 1)
        self.stream = stream
        self.enabled = enabled
        self.last_draw = 0.0
        self.started = time.monotonic()

    def update(self, done_ms: int, counts: dict[str, int], final: bool = False) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        if not final and now - self.last_draw < 0.1:
            return
        self.last_draw = now
        frac = min(done_ms / self.total, 1.0)
        bar = "#" * int(frac * 30)
        tally = " ".join(f"{k}={v}" for k, v in counts.items())
        self.stream.write(f"\r[{bar:<30}] {frac * 100:5.1f}% {now - self.started:5.1f}s {tally}")
        if final:
            self.stream.write("\n")
        self.stream.flush()


# Each step writes a few kilobytes per file: large buffers turn them into few system calls.
FILE_BUFFER_BYTES = 1 << 20

# One encoder for every line: json.dumps with options would build a new encoder per record.
_dumps = json.JSONEncoder(separators=(",", ":"), allow_nan=False).encode
_str = json.encoder.encode_basestring_ascii


def _option_line(p: OptionPrint) -> str:
    """An option print, byte-identical to _dumps(p.to_dict()) at half its cost."""
    return (f'{{"id":{_str(p.id)},"ts":{p.ts},"underlying":{_str(p.underlying)},"contract":{_str(p.contract)},'
            f'"expiry":{_str(p.expiry)},"strike":{_num(p.strike)},"right":{_str(p.right)},'
            f'"price":{_num(p.price)},"size":{p.size},"exchange":{_str(p.exchange)},'
            f'"bid":{_optional_num(p.bid)},"ask":{_optional_num(p.ask)},"iv":{_num(p.iv)},'
            f'"underlying_price":{_num(p.underlying_price)},'
            f'"multi_leg_id":{"null" if p.multi_leg_id is None else _str(p.multi_leg_id)},'
            f'"quote_age_ms":{p.quote_age_ms},"condition":{_str(p.condition)},"open_interest":{p.open_interest}}}\n')


def _optional_num(value: float | None) -> str:
    return "null" if value is None else _num(value)


# Prices repeat all session long (they sit on a penny grid) and a float repr costs more than the
# rest of a line: remember recent ones. Only positive floats use it (0.0 and -0.0 are one key).
_price_text = functools.lru_cache(maxsize=1 << 13)(float.__repr__)   # ~93% hits over a session


def _num(value: float) -> str:
    if type(value) is float and 0.0 < value < math.inf:
        return _price_text(value)
    if not math.isfinite(value):
        raise ValueError(f"non-finite number in the tape: {value!r}")
    return float.__repr__(float(value)) if isinstance(value, float) else str(int(value))


def run(args: argparse.Namespace) -> int:
    from synthmarket_cli.offline import SimulationSpec, run_session  # heavy imports only when running

    try:
        day = trading_day(args.date or _default_date())
    except CalendarError as exc:
        print(f"synthmarket simulate: error: {exc}", file=sys.stderr)
        return 2
    start_ms = day.at(args.start)
    close = _local_hhmm(day.close_ms)
    if start_ms >= day.close_ms:
        print(f"synthmarket simulate: error: --start {args.start} is not before the {close} close on {day.date}",
              file=sys.stderr)
        return 2
    end_ms = day.close_ms
    if args.minutes is not None:
        end_ms = start_ms + args.minutes * 60_000
        if end_ms > day.close_ms:
            end_ms = day.close_ms
            early = " (an early close)" if day.minutes < SESSION_MINUTES else ""
            print(f"synthmarket simulate: --minutes {args.minutes} clamped to {(end_ms - start_ms) // 60_000}: "
                  f"{day.date} closes at {close}{early}", file=sys.stderr)
    initial = control_from_args(args)
    try:
        control = timeline(initial, args.control_change, day)
    except ValueError as exc:
        print(f"synthmarket simulate: error: {exc}", file=sys.stderr)
        return 2
    spec = SimulationSpec(
        control=control,
        day=day,
        start_ms=start_ms,
        end_ms=end_ms,
        symbols=args.symbols or DEFAULT_SYMBOLS,
        with_labels=args.labels,
        equity_lines=True,
    )

    out_dir = Path(args.out)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        print(f"synthmarket simulate: error: cannot create {out_dir}: {exc}", file=sys.stderr)
        return 2
    names = list(OUTPUT_FILES) + ([LABELS_FILE] if args.labels else [])
    # A finished run is recognised by its manifest; drop any previous one (and stale labels) first.
    for stale in [MANIFEST_FILE, LABELS_FILE, *OUTPUT_FILES]:
        (out_dir / stale).unlink(missing_ok=True)

    progress = _Progress(end_ms - start_ms, sys.stderr, sys.stderr.isatty() and not args.no_progress)
    counts = {"options": 0, "equities": 0, "events": 0}
    # Closed in the finally below, after the manifest decides whether the run completed.
    files = {name: open(out_dir / (name + PART_SUFFIX), "w", encoding="utf-8", newline="\n",  # noqa: SIM115
                        buffering=FILE_BUFFER_BYTES)
             for name in names}
    started = time.monotonic()
    # The tape makes no reference cycles: its objects are freed by their counts. What the cyclic
    # collector would walk is the growing caches beside them (a full day: 65 passes, 5% of the run,
    # and not a byte less at the peak), so it rests until the run ends.
    collecting = gc.isenabled()
    gc.disable()
    try:
        for step in run_session(spec):
            if step.regime:
                files["regime.jsonl"].write("".join(_dumps(r) + "\n" for r in step.regime))
            if step.options:
                files["options.jsonl"].write("".join(map(_option_line, step.options)))
            if step.equity_text:
                files["equities.jsonl"].write(step.equity_text)
            if step.events:
                files["events.jsonl"].write("".join(_dumps(e.to_dict()) + "\n" for e in step.events))
            if args.labels and step.labels:
                files[LABELS_FILE].write(
                    "".join(_dumps({"print_id": p, "family": f, "subtype": s}) + "\n" for p, f, s in step.labels)
                )
            counts["options"] += len(step.options)
            counts["equities"] += step.equity_count
            counts["events"] += len(step.events)
            progress.update(step.t1 - start_ms, counts)
    except BaseException:
        for handle in files.values():
            handle.close()
        for name in names:
            (out_dir / (name + PART_SUFFIX)).unlink(missing_ok=True)
        raise
    finally:
        if collecting:
            # Every object made since the disable counts as young: enabled as is, the collector would
            # walk the whole heap at the next allocation and again at exit (half a second on a full
            # day). What lives now lives until the process ends, so it is frozen out of both. A
            # caller in the same process gets its collector back, its own objects frozen with them.
            gc.freeze()
            gc.enable()
    for handle in files.values():
        handle.close()
    for name in names:
        os.replace(out_dir / (name + PART_SUFFIX), out_dir / name)
    elapsed = time.monotonic() - started
    progress.update(end_ms - start_ms, counts, final=True)
    manifest = {
        "date": day.date.isoformat(),
        "start_ms": start_ms,
        "end_ms": end_ms,
        "symbols": list(spec.symbols),
        "control": initial.to_dict(),
        **({"control_changes": describe(control)} if describe(control) else {}),
        "files": names,
        "counts": counts,
    }
    (out_dir / MANIFEST_FILE).write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    total = sum(counts.values())
    print(
        f"wrote {out_dir}: {counts['options']} option prints, {counts['equities']} equity records, "
        f"{counts['events']} smart-money events in {elapsed:.1f}s ({total / max(elapsed, 1e-9):,.0f} records/s)",
        file=sys.stderr,
    )
    return 0
