"""Same (ts, control, seed) gives the same engine output in separate processes with different hash seeds."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# Dumps a whole day at 1-minute resolution: every session state, five underlyings, two weight
# vectors per minute, for two presets and a custom universe. Floats are written with repr.
DUMP = textwrap.dedent("""
    import dataclasses, datetime as dt, hashlib, json, sys
    from synthmarket.engine.regime_engine import get_scenario_weights, get_session_state, get_underlying_state
    from synthmarket.domain.calendar import trading_day
    from synthmarket.domain.control import SyntheticControlState
    from synthmarket.domain.presets import SyntheticControlPresetId as P

    def enc(x):
        if dataclasses.is_dataclass(x):
            return {f.name: enc(getattr(x, f.name)) for f in dataclasses.fields(x)}
        if isinstance(x, float):
            return repr(x)
        if isinstance(x, (tuple, list)):
            return [enc(v) for v in x]
        if hasattr(x, "items"):
            return {k: enc(v) for k, v in x.items()}
        return getattr(x, "value", x)

    def dump():
        day = trading_day(dt.date(2026, 11, 24))
        lines = []
        for preset, symbols in ((P.BALANCED_DEMO, None), (P.EVENT_DAY, ("SPY", "TSLA", "NVDA", "AMD", "JPM", "XOM"))):
            control = SyntheticControlState(preset_id=preset, shared_seed=987654321)
            for m in range(390):
                ts = day.open_ms + m * 60_000 + 1_234
                s = get_session_state(ts, control, symbols=symbols)
                row = [enc(s)]
                for sym in ("SPY", "TSLA", "NVDA", "JPM", "XOM"):
                    row.append(enc(get_underlying_state(sym, ts, control, s, symbols=symbols)))
                for sym in ("TSLA", "JPM"):
                    row.append(enc(get_scenario_weights(sym, ts, control, s, symbols=symbols)))
                lines.append(json.dumps(row, sort_keys=True))
        text = "\\n".join(lines)
        return hashlib.sha256(text.encode()).hexdigest(), lines[200]
""")
SCRIPT = DUMP + "\ndigest, sample = dump()\nsys.stdout.write(digest + '\\n' + sample)\n"


def _run(hash_seed: str) -> tuple[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONHASHSEED"}
    env["PYTHONHASHSEED"] = hash_seed
    out = subprocess.run([sys.executable, "-c", SCRIPT], cwd=ROOT, env=env, capture_output=True, text=True,
                         timeout=120, check=True).stdout
    digest, sample = out.split("\n", 1)
    return digest, sample


def test_full_day_dump_is_identical_across_processes_and_hash_seeds():
    a = _run("1")
    b = _run("4242")
    assert a[0] == b[0], f"dumps differ between processes:\n{a[1]}\n{b[1]}"
    row = json.loads(a[1])
    assert row[0]["regime"] and row[0]["focus_symbols"] and float(row[1]["price"]) > 0


def test_in_process_dump_matches_subprocess():
    # The same code run in this process (whatever caches it already holds) gives the same digest.
    namespace: dict = {}
    exec(compile(DUMP, "<dump>", "exec"), namespace)
    digest, _ = namespace["dump"]()
    assert digest == _run("99")[0]
    assert len(digest) == len(hashlib.sha256(b"").hexdigest())
