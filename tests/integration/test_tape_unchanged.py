"""The tape is byte for byte what it was before the package layout moved.

Digests were taken from ``synthmarket simulate`` before the move; a change that alters the tape on
purpose updates or removes them in the same commit, with the reason. Re-recorded: events.jsonl and
the manifest when events became decided on their completing print and stamped with its ts (the
prints, quotes and regime lines did not change). Re-recorded: options, events and the manifest when
the engine's implied volatility got its own dynamics (leverage effect, mean reversion, a daily level).
Re-recorded: every file but regime.jsonl when the equity tape got a tick-bound, book-like NBBO, sale
conditions, auctions, odd lots by price and parent-order sign memory, and option prints took their
spot from that NBBO (issue 12, parts 3-4). Re-recorded: options, events and the manifest when the option
tape got its ordinary flow (most prints: one- and two-lot retail and market-maker trades), venues by
market share, quotes and trades on the Penny Interval Program grid and American prices (issue 13).
Re-recorded: every file when the catalyst calendar began to list names on the public event calendar
(event flow, focus and the equity tape follow it) and to lift and crush implied volatility around
releases. Re-recorded: options, events and the manifest when option prints gained their OPRA sale
condition and their contract's open interest, and events their lead contract's open interest.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

import pytest

CONSOLE_SCRIPT = Path(sys.executable).with_name("synthmarket")

# (preset, seed) -> sha256 of each file for 60 minutes from the open on 2026-11-20, 20 names.
DIGESTS: dict[tuple[str, int], dict[str, str]] = {
    ("balanced_demo", 20260101): {
        "equities.jsonl": "dd3d4dcfeee27688d0c7572e7629040a10a50c57fbec69bbbbbc154da9ce2c98",
        "events.jsonl": "b053b8a35c5e2b64a40a8f996cc4734e534f4c58240d1e8e1b0cfc98c0425471",
        "manifest.json": "c5218b157cc37283687b2743ac0ba959c4f2d15a9e573f5044b85c73da5a34ce",
        "options.jsonl": "d8d12ad15fd223f943265983ac180a10ca60f56432759ad450454676f149badc",
        "regime.jsonl": "d97dca99319f08e81eeb99b02ba5d1aba9e2ce9be5b7609988a50e34aa90401e",
    },
    ("event_day", 7): {
        "equities.jsonl": "ad2b996df8902450639a1fd7a03c54c221edc1a99c223c2b00fa1a575d3f706d",
        "events.jsonl": "1d51102b1b529315318042a9884360ebc42b49f5daa8b2ba0937b17af275fa2d",
        "manifest.json": "558ab5f01d35d027911cd6436ff5478772f5ccbcd6fe917155c0cac658584b6c",
        "options.jsonl": "4678037f5425eef03843c82409a32a720289830e66d7817bf4bf765b14925981",
        "regime.jsonl": "ce3db7a3c29d6fc37998834941162e79ceb3aab4c39191264f7506ed718da18a",
    },
    ("dealer_day", 424242): {
        "equities.jsonl": "2bb8ed35f4aae6c9c58501fdadd1895885c60131a35158f47c313d202ab03977",
        "events.jsonl": "da2692d1c3910333187f2d63e74eb6b53a1a5a10cf5a577e7220e60103b555c9",
        "manifest.json": "3756a7d98209d5b249eafc165f13d4db40d9375351c3939496af523ebebd8c2c",
        "options.jsonl": "f7eb9d58b535cf8ddd453f6932ed3a4f8e59d4c9f83975d81e0d963e61048c63",
        "regime.jsonl": "be0f6dae527b5b3148ad74498742199c47661290fb5e74fb981d0694e04af852",
    },
}


@pytest.mark.parametrize(("preset", "seed"), sorted(DIGESTS))
def test_simulate_output_matches_recorded_digests(tmp_path: Path, preset: str, seed: int):
    done = subprocess.run(
        [str(CONSOLE_SCRIPT), "simulate", "--out", str(tmp_path), "--preset", preset, "--seed", str(seed),
         "--date", "2026-11-20", "--minutes", "60", "--no-progress"],
        capture_output=True, text=True, timeout=180,
    )
    assert done.returncode == 0, done.stderr
    got = {path.name: hashlib.sha256(path.read_bytes()).hexdigest() for path in sorted(tmp_path.iterdir())}
    assert got == DIGESTS[(preset, seed)]
