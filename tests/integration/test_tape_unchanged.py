"""The tape is byte for byte what it was before the package layout moved.

Digests were taken from ``synthmarket simulate`` before the move; a change that alters the tape on
purpose updates or removes them in the same commit, with the reason. Re-recorded: events.jsonl and
the manifest when events became decided on their completing print and stamped with its ts (the
prints, quotes and regime lines did not change). Re-recorded: options, events and the manifest when
the engine's implied volatility got its own dynamics (leverage effect, mean reversion, a daily level).
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
        "equities.jsonl": "8aa074094b1cc1cdd3fd55cd7765518ab0e19e567f1c64ea14c240db181b5a8e",
        "events.jsonl": "f2177d4ba05f9d4b3e39629b68446a74d2dd25792716b3c7b6d3a7fdfb6cddd0",
        "manifest.json": "91714b5d83d8f185155b238afc9e91fede8530fe01e7d90e8628467be32dcfcf",
        "options.jsonl": "6b75ade86a53d82242c51ba47a7d9a2e079b3681fad9ac43c09bff0b23c33b52",
        "regime.jsonl": "2af62455c2a348298907d5341a6dd31e40343144268996906b57dc22dc24b604",
    },
    ("event_day", 7): {
        "equities.jsonl": "0ad52fbdb5c1d938b897aab05af977d064df5415bdb955dff05ce91fa973ab44",
        "events.jsonl": "e9bde295c5682759635ab82cd2977dfa9ae27cf21ebd1772838ab776aa82a5a7",
        "manifest.json": "15a38d23e94dfc9a9b82e7b6ba07c49ac629c37df0b008b5fbb864743ae94868",
        "options.jsonl": "ffe6a066559f739efeaeb9826a7377295c9cdaca449a8224dae9f1ac45ea0048",
        "regime.jsonl": "861f74f887c3b1f544b6dbc6e43c9a1170cb4f7dde4fecf1a3eddc373baea2f5",
    },
    ("dealer_day", 424242): {
        "equities.jsonl": "6ac5e4cf0b55924685ca053a9ed28a72b0976b61d9f0fe499bf70c014527f10c",
        "events.jsonl": "1af263a6787cd541fa82d53dfffee7a71cb6f42919dfcc8dae7d0c7f0b79c4d5",
        "manifest.json": "a1f0480791d7909c8c9b2c93c9a7c409ddc43fbf76f055c5ddbf56ca49896281",
        "options.jsonl": "081ccbfa23021ce5dd076c486f9df63e0898a8f74f511c835d307b5d4e71d499",
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
