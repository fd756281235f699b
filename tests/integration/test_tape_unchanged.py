"""The tape is byte for byte what it was before the package layout moved.

Digests were taken from ``synthmarket simulate`` before the move; a change that alters the tape on
purpose updates or removes them in the same commit, with the reason. Re-recorded: events.jsonl and
the manifest when events became decided on their completing print and stamped with its ts (the
prints, quotes and regime lines did not change).
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
        "events.jsonl": "9ec29124f67b804e5fb53f490562105277459762144af4f36295bfed94772156",
        "manifest.json": "0c0c2091283bc07ecd5de074e6a90a943787583c13a38757e3663a35880f7c72",
        "options.jsonl": "01e2c3e807103b2e2adcdf700332fdd5292587dcc5269a13e89b68b6fe40ba46",
        "regime.jsonl": "2af62455c2a348298907d5341a6dd31e40343144268996906b57dc22dc24b604",
    },
    ("event_day", 7): {
        "equities.jsonl": "0ad52fbdb5c1d938b897aab05af977d064df5415bdb955dff05ce91fa973ab44",
        "events.jsonl": "84026be76ab4af511d4374f09b7c3bf0b35a16165cf0ad34028964cc08964b74",
        "manifest.json": "b99e35f3f79c6ac37dad5d2666affed37b8bc5575345be15b0e34193d9970ed7",
        "options.jsonl": "cc3d5de59788f65099ff11be1460df1e755ada50ec8dfcc53b4951e9ce892add",
        "regime.jsonl": "861f74f887c3b1f544b6dbc6e43c9a1170cb4f7dde4fecf1a3eddc373baea2f5",
    },
    ("dealer_day", 424242): {
        "equities.jsonl": "6ac5e4cf0b55924685ca053a9ed28a72b0976b61d9f0fe499bf70c014527f10c",
        "events.jsonl": "f8162f0cc22e0cf635c3be9804a48178aefc96a47f46e27b7349203d05dab04a",
        "manifest.json": "72e15d8ad079959dbcf2b6d42b27018eef57dc8218e55158751eeb204610810c",
        "options.jsonl": "779fc6e292e0e63f2c28f1694413b225fc95b8762ba1fb30de1e5afa2caa76d2",
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
