"""A live session at 60x, recorded from NATS, is `synthmarket simulate` of the same date, seed and
control timeline: the same option prints, equity trades and quotes and smart-money events, across
a control change written to the KV while the session runs."""

from __future__ import annotations

import datetime as dt
import json
import re
import subprocess
import sys
from pathlib import Path

import nats
import pytest

from flow_svc.service import start_flow_service
from synthmarket.domain.calendar import EXCHANGE_TZ, trading_day
from synthmarket.domain.control import DEFAULT_CONTROL
from synthmarket.domain.control_timeline import CHANGE_LEAD_MS
from synthmarket.domain.presets import SyntheticControlPresetId
from synthmarket.domain.session_clock import SessionClock
from synthmarket.infra.control_store import write_control
from tests.support.live_tape import (
    ReleasedWall,
    TapeRecorder,
    assert_same_lines,
    canonical,
    iso_utc,
    live_settings,
    read_report,
    start_ingest,
    stored_events,
    tapes_reached,
)
from tests.support.waiting import eventually

pytestmark = pytest.mark.integration

# Before the days of test_flow_replay: a flow service's replay reads the newest stored events, and
# events of a later day on the shared stream would read as its session already published.
DAY = trading_day(dt.date(2026, 12, 15))
SPEED = 60.0
SEED = 31337
WINDOW_MIN = 8
# The run goes on this long past the window, so every pattern begun in it is decided on both sides.
TAIL_MIN = 2
CHANGE_MIN = 4                       # the control change lands this many minutes after the open
NEW_PRESET = SyntheticControlPresetId.RETAIL_CHASE
INITIAL = DEFAULT_CONTROL.with_update(shared_seed=SEED)     # no updated_at: in force all day


def simulate(out: Path, changes: list[str]) -> dict[str, list[str]]:
    """`synthmarket simulate` from the open, as canonical lines per file (ts before the window's end)."""
    args = [sys.executable, "-m", "synthmarket_cli", "simulate", "--out", str(out), "--date", DAY.date.isoformat(),
            "--seed", str(SEED), "--preset", INITIAL.preset_id.value, "--minutes", str(WINDOW_MIN + TAIL_MIN),
            "--no-progress", *(a for c in changes for a in ("--control-change", c))]
    subprocess.run(args, check=True, timeout=120, capture_output=True)
    end = DAY.open_ms + WINDOW_MIN * 60_000
    tape = {}
    for kind in ("options", "equities", "events"):
        records = [json.loads(line) for line in (out / f"{kind}.jsonl").read_text().splitlines()]
        tape[kind] = sorted(canonical(r) for r in records if r["ts"] < end)
    return tape


def changes_of(timeline: str) -> list[str]:
    """``--control-change`` arguments of a status report's timeline (``preset/seed N@HH:MM ...``)."""
    parts = re.findall(r"(\w+)/seed (\d+)@([\d:]+)", timeline)
    assert parts and parts[0][2] == "09:30", timeline
    out = []
    for preset, seed, at in parts[1:]:
        assert int(seed) == SEED, timeline
        assert at.count(":") == 1, f"the change at {at} is not on a whole minute: simulate cannot run it"
        out.append(f"{at}={preset}")
    return out


async def test_a_live_session_with_a_control_change_is_simulate_of_that_timeline(nats_url, js, make_kv, tmp_path):
    control_kv = await make_kv("ctl")
    status_kv = await make_kv("status", history=1)
    await write_control(control_kv, INITIAL, 0)
    settings = live_settings(nats_url, SPEED)
    clock = SessionClock(speed=SPEED)
    wall = ReleasedWall(DAY.open_ms)
    end = DAY.open_ms + WINDOW_MIN * 60_000
    stack = await start_ingest(nats_url, settings, wall, replicas=1,
                               control_bucket=control_kv._name, status_bucket=status_kv._name)
    flow_nc = await nats.connect(nats_url, connect_timeout=5, max_reconnect_attempts=0)
    flow = await start_flow_service(settings, flow_nc, wall_clock=wall, control_bucket=control_kv._name,
                                    status_interval_s=0.2)
    recorder = TapeRecorder()
    try:
        await recorder.start(nats_url)
        wall.release()
        # The operator writes at a whole wall second, so the change (its session instant is that of
        # updated_at plus the lead) lands on a whole session minute, which simulate can express.
        change_ts = DAY.open_ms + CHANGE_MIN * 60_000
        stamp = DAY.open_ms + int((change_ts - DAY.open_ms) / SPEED) - CHANGE_LEAD_MS
        await eventually(lambda: wall() >= stamp, 30, "the moment of the control write")
        revision = await write_control(control_kv, INITIAL.with_update(
            preset_id=NEW_PRESET, updated_at=iso_utc(stamp), updated_by="operator"), None)
        reports = {}

        async def applied() -> bool:
            for key in ("options_svc.0", "equities_svc.0"):
                reports[key] = await read_report(status_kv, key)
            return all(r is not None and r.applied_control_revision == revision for r in reports.values()) \
                and flow.control_revision == revision

        await eventually(applied, 10, f"revision {revision} applied by every service")
        await tapes_reached(stack, wall, clock, end + TAIL_MIN * 60_000)
    finally:
        await stack.stop()
        await recorder.stop()
        await eventually(lambda: (flow.tape_clock.now(wall()) or 0) >= end + TAIL_MIN * 60_000, 10, "flow caught up")
        await flow.stop(grace=10)
        await flow_nc.close()

    timelines = {key: r.control_timeline for key, r in reports.items() if r is not None}
    timelines["flow_svc"] = flow.report().control_timeline
    assert len(timelines) == 3, timelines
    assert len(set(timelines.values())) == 1, timelines
    changes = changes_of(timelines["flow_svc"])
    at = dt.datetime.fromtimestamp(change_ts / 1000, EXCHANGE_TZ).strftime("%H:%M")
    assert changes == [f"{at}={NEW_PRESET.value}"]

    want = simulate(tmp_path / "sim", changes)
    live = recorder.tape(end)
    live["events"] = sorted(canonical(e.to_dict()) for e in await stored_events(js, DAY) if e.ts < end)
    assert len(want["events"]) > 50 and any(json.loads(e)["ts"] >= change_ts for e in want["events"]), \
        "too few events, or none after the change: the comparison proves little"
    for kind in ("options", "equities", "events"):
        assert_same_lines(live[kind], want[kind], f"live {kind} against simulate")
    # The change is part of what was compared: the session without it is another one.
    unchanged = simulate(tmp_path / "unchanged", [])
    assert unchanged["events"] != want["events"]
