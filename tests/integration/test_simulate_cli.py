"""`synthmarket simulate` end to end: files, determinism, hidden-label hygiene and bad options."""

from __future__ import annotations

import datetime as dt
import json
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from options_svc.families import ALL_SUBTYPES, SUBTYPES
from options_svc.ordinary import ORDINARY_SUBTYPE
from synthmarket.domain.calendar import EXCHANGE_TZ
from synthmarket.domain.profiles import FAMILY_IDS, NEUTRAL_NOISE
from tests.support.waiting import wait_until

RUN = [sys.executable, "-m", "synthmarket_cli.main", "simulate"]
SHORT = ["--date", "2026-11-18", "--start", "10:00", "--minutes", "12", "--symbols", "SPY,AAPL,NVDA,TSLA,JPM"]
FILES = ("regime.jsonl", "options.jsonl", "equities.jsonl", "events.jsonl")


def simulate(out: Path, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run([*RUN, "--out", str(out), *extra], capture_output=True, text=True, timeout=180)


@pytest.fixture(scope="module")
def labelled_run(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("sim") / "a"
    done = simulate(out, *SHORT, "--seed", "7", "--labels")
    assert done.returncode == 0, done.stderr
    return out


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_cli_module_runs_as_console_script():
    # The console script and `python -m synthmarket_cli.main` are the same entry point.
    done = subprocess.run([*RUN, "--help"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and "--coverage-assist" in done.stdout


def test_writes_every_file_with_its_minimum_fields(labelled_run: Path):
    assert sorted(p.name for p in labelled_run.iterdir()) == sorted([*FILES, "labels.jsonl", "manifest.json"])
    required = {
        "regime.jsonl": {"ts", "session_phase", "regime", "volatility_level", "liquidity_level",
                         "quote_cleanliness", "focus_symbols", "event_symbols"},
        "options.jsonl": {"id", "ts", "underlying", "contract", "expiry", "strike", "right", "price", "size",
                          "exchange", "bid", "ask", "iv", "underlying_price", "multi_leg_id"},
        "events.jsonl": {"event_id", "ts", "profile_id", "underlying", "direction", "premium", "contracts",
                         "print_ids"},
        "labels.jsonl": {"print_id", "family", "subtype"},
    }
    for name, fields in required.items():
        rows = read_jsonl(labelled_run / name)
        assert rows, f"{name} is empty"
        for row in rows:
            assert fields <= row.keys(), f"{name} row lacks {fields - row.keys()}"
            assert isinstance(row.get("ts", 0), int)
    trades = [r for r in read_jsonl(labelled_run / "equities.jsonl") if r["type"] == "trade"]
    quotes = [r for r in read_jsonl(labelled_run / "equities.jsonl") if r["type"] == "quote"]
    assert trades and quotes
    assert {"ts", "symbol", "price", "size", "venue", "off_exchange"} <= trades[0].keys()
    assert {"ts", "symbol", "bid", "ask", "bid_size", "ask_size"} <= quotes[0].keys()
    for name in FILES:
        stamps = [r["ts"] for r in read_jsonl(labelled_run / name)]
        assert stamps == sorted(stamps), f"{name} is not in time order"


def test_regime_lines_at_least_once_a_minute(labelled_run: Path):
    stamps = [r["ts"] for r in read_jsonl(labelled_run / "regime.jsonl")]
    gaps = [b - a for a, b in zip(stamps, stamps[1:])]
    assert max(gaps) <= 60_000
    assert len(stamps) >= 12


def test_labels_cover_every_print_and_events_explain_real_prints(labelled_run: Path):
    print_ids = {r["id"] for r in read_jsonl(labelled_run / "options.jsonl")}
    labels = {r["print_id"]: r for r in read_jsonl(labelled_run / "labels.jsonl")}
    assert set(labels) == print_ids
    for row in labels.values():
        # The ordinary flow (most of the tape) is neutral noise outside every scenario.
        assert row["subtype"] in SUBTYPES[row["family"]] or (row["family"], row["subtype"]) == (NEUTRAL_NOISE,
                                                                                              ORDINARY_SUBTYPE)
    for event in read_jsonl(labelled_run / "events.jsonl"):
        assert set(event["print_ids"]) <= print_ids
        assert all(labels[p]["family"] != NEUTRAL_NOISE for p in event["print_ids"])


def test_no_hidden_label_anywhere_in_public_files(labelled_run: Path):
    # DESIGN.md lists 22 subtype names (institutional_directional has four).
    assert len(ALL_SUBTYPES) == 22
    forbidden = set(ALL_SUBTYPES) | {NEUTRAL_NOISE, ORDINARY_SUBTYPE, '"family"', '"subtype"'}
    for name in ("options.jsonl", "equities.jsonl", "events.jsonl"):
        text = (labelled_run / name).read_text(encoding="utf-8")
        leaked = sorted(word for word in forbidden if word in text)
        assert not leaked, f"{name} leaks {leaked}"
    # Prints carry no profile or family name at all; only events name a public profile.
    for name in ("options.jsonl", "equities.jsonl"):
        text = (labelled_run / name).read_text(encoding="utf-8")
        assert not [f for f in FAMILY_IDS if f in text], name


def test_same_arguments_give_byte_identical_files(tmp_path: Path, labelled_run: Path):
    again = tmp_path / "b"
    done = simulate(again, *SHORT, "--seed", "7", "--labels")
    assert done.returncode == 0, done.stderr
    for name in [*FILES, "labels.jsonl", "manifest.json"]:
        assert (again / name).read_bytes() == (labelled_run / name).read_bytes(), name


def test_another_seed_gives_another_tape(tmp_path: Path, labelled_run: Path):
    other = tmp_path / "c"
    assert simulate(other, *SHORT, "--seed", "8").returncode == 0
    assert (other / "options.jsonl").read_bytes() != (labelled_run / "options.jsonl").read_bytes()
    assert not (other / "labels.jsonl").exists()


@pytest.mark.parametrize(
    "args, message",
    [
        (["--preset", "loud"], "--preset"),
        (["--seed", "-1"], "seed"),
        (["--seed", str(1 << 64)], "seed"),
        (["--date", "2026-11-22"], "not a trading day"),
        (["--date", "2025-01-09"], "2025-01-09 is not a trading day: NYSE closed (special closure)"),
        (["--date", "2026-11-26"], "2026-11-26 is not a trading day: NYSE closed (Thanksgiving)"),
        (["--date", "2026-11-27", "--start", "13:00"], "not before the 13:00 close on 2026-11-27"),
        (["--date", "26-11-2026"], "YYYY-MM-DD"),
        (["--start", "08:00"], "09:30-16:00"),
        (["--start", "noon"], "HH:MM"),
        (["--minutes", "0"], "positive"),
        (["--symbols", "SPY,ZZZZ"], "unknown symbol"),
        (["--coverage-assist", "maybe"], "--coverage-assist"),
        (["--window", "15"], "--window"),
        (["--weight", "vol_seller=2"], "0.6, 1.0 or 1.6"),
        (["--weight", "neutral_noise=1.6"], "PROFILE"),
    ],
)
def test_bad_options_exit_2_with_a_clear_message_and_write_nothing(tmp_path: Path, args, message):
    out = tmp_path / "bad"
    done = simulate(out, *SHORT, *args)
    assert done.returncode == 2
    assert message in done.stderr
    assert not out.exists() or not any(out.iterdir())


def test_an_interrupted_run_leaves_nothing_that_looks_complete(tmp_path: Path):
    out = tmp_path / "cut"
    # A runner that started us in the background may have left SIGINT ignored, and an ignored
    # signal stays ignored in children: give the run the default handling a terminal would.
    proc = subprocess.Popen([*RUN, "--out", str(out), "--date", "2026-11-18", "--no-progress"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        # Wait until the run has started writing, then interrupt it.
        wait_until((out / "options.jsonl.part").exists, 60, "the run to start writing", interval=0.05)
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode != 0
    assert not (out / "manifest.json").exists()
    assert not [p.name for p in out.iterdir() if p.suffix == ".jsonl"]


def test_an_early_close_ends_the_run_at_1300_and_says_minutes_were_clamped(tmp_path: Path):
    # 2026-11-27, the day after Thanksgiving, closes at 13:00 New York: 210 minutes from the open.
    out = tmp_path / "half"
    done = simulate(out, "--date", "2026-11-27", "--minutes", "400", "--symbols", "SPY,AAPL,NVDA", "--no-progress")
    assert done.returncode == 0, done.stderr
    clamp = [line for line in done.stderr.splitlines() if "clamped" in line]
    assert clamp == ["synthmarket simulate: --minutes 400 clamped to 210: 2026-11-27 closes at 13:00 (an early close)"]
    close_ms = int(dt.datetime(2026, 11, 27, 13, 0, tzinfo=EXCHANGE_TZ).timestamp() * 1000)
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["end_ms"] == close_ms
    for name in ("options.jsonl", "equities.jsonl"):
        stamps = [r["ts"] for r in read_jsonl(out / name)]
        assert stamps and close_ms - 60_000 <= max(stamps) < close_ms, name
    phases = {r["session_phase"] for r in read_jsonl(out / "regime.jsonl") if r["ts"] >= close_ms - 30 * 60_000}
    assert phases and phases <= {"power_hour", "after_event"}


def test_by_default_an_early_close_day_runs_until_1300(tmp_path: Path):
    out = tmp_path / "half-default"
    done = simulate(out, "--date", "2026-12-24", "--start", "12:30", "--symbols", "SPY", "--no-progress")
    assert done.returncode == 0, done.stderr
    assert "clamped" not in done.stderr
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["end_ms"] == int(dt.datetime(2026, 12, 24, 13, 0, tzinfo=EXCHANGE_TZ).timestamp() * 1000)
