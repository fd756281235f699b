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
        "equities.jsonl": "ad0ec125dc4864789136b5dc5b2ec6a260f2dfbffa77ca502a49e8bd8bc02231",
        "events.jsonl": "3780325852711d4e6d2f374ebc35901a06a85af32a6281bea24d4741000a11b6",
        "manifest.json": "a932a75e5e1bed0a23840994c0ea37970d3dfc84317726036c86872ce99ac17c",
        "options.jsonl": "1584facc51b24ce11f003c0894dab6a7e4cb5a372625446b9ab506738c778b83",
        "regime.jsonl": "2af62455c2a348298907d5341a6dd31e40343144268996906b57dc22dc24b604",
    },
    ("event_day", 7): {
        "equities.jsonl": "935c47cb4aa722cafcc2a767b748a8409cf212a640ae6ddbb53e918cd39b539b",
        "events.jsonl": "ce73721ef282176e699eda66ea86a54886d82d64fc417a0be7149ab613d04ad5",
        "manifest.json": "5a639b3887eec12bab7b5c9208025d53b2abc1ef93dfbf49bc46a44be850db61",
        "options.jsonl": "3b7946c1f61420fdb161a51f4b94a44cdb05c0d0aac3b786ba577a77e48f594b",
        "regime.jsonl": "861f74f887c3b1f544b6dbc6e43c9a1170cb4f7dde4fecf1a3eddc373baea2f5",
    },
    ("dealer_day", 424242): {
        "equities.jsonl": "d340c41ad6d6775b3193b9f0abb8c36044b5aac2251712e89bb8a3f4a88dece7",
        "events.jsonl": "91482d14b13acb2c1c441e5630e8c2cc473f598b72fb42f36b101d3cf7ea6518",
        "manifest.json": "05e20d2dff339e7630d34be1db47179c85256b6837ddb7df22202cad326ccc9d",
        "options.jsonl": "46ebf10ae5700702cf5408b328a3202e6d22922391483783b84c00e0e7ab1326",
        "regime.jsonl": "c5c35c93560a7c6569952e6705426787dc59a7db909d349e496041c2457d831b",
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
