"""n replicas of the ingest services publish together exactly the prints of one process, and those
are the offline runner's prints of the same window: the symbol split loses nothing, repeats
nothing and changes no byte."""

from __future__ import annotations

import datetime as dt

import pytest

from synthmarket.domain.calendar import trading_day
from synthmarket.domain.control import DEFAULT_CONTROL
from synthmarket.domain.session_clock import SessionClock
from synthmarket.infra.control_store import write_control
from synthmarket_cli.offline import SimulationSpec, run_session
from tests.support.live_tape import (
    ReleasedWall,
    TapeRecorder,
    assert_same_lines,
    live_settings,
    offline_tape,
    start_ingest,
    tapes_reached,
)

pytestmark = pytest.mark.integration

DAY = trading_day(dt.date(2027, 2, 9))
SPEED = 60.0
WINDOW_MS = 3 * 60_000
SEED = 4242
CONTROL = DEFAULT_CONTROL.with_update(shared_seed=SEED)     # no updated_at: in force all day


async def _live_tape(nats_url: str, make_kv, replicas: int) -> tuple[dict[str, list[str]], int, int]:
    """(canonical tape of the window, messages recorded, messages the replicas say they published)."""
    control_kv = await make_kv("ctl")
    status_kv = await make_kv("status", history=1)
    await write_control(control_kv, CONTROL, 0)
    settings = live_settings(nats_url, SPEED)
    wall = ReleasedWall(DAY.open_ms)
    stack = await start_ingest(nats_url, settings, wall, replicas=replicas,
                               control_bucket=control_kv._name, status_bucket=status_kv._name)
    recorder = TapeRecorder()
    try:
        await recorder.start(nats_url)
        wall.release()
        await tapes_reached(stack, wall, SessionClock(speed=SPEED), DAY.open_ms + WINDOW_MS)
    finally:
        await stack.stop()
        await recorder.stop()
    published = sum(s.status.published for s in stack.services)
    return recorder.tape(DAY.open_ms + WINDOW_MS), len(recorder.messages), published


async def test_the_union_of_n_replicas_is_one_process_and_the_offline_runner(nats_url, make_kv):
    end = DAY.open_ms + WINDOW_MS
    steps = list(run_session(SimulationSpec(CONTROL, DAY, DAY.open_ms, end, settings_symbols())))
    want = offline_tape((p for s in steps for p in s.options), (r for s in steps for r in s.equities), end)
    assert len(want["options"]) > 1_000 and len(want["equities"]) > 5_000, "too short a window to prove much"

    one, recorded, published = await _live_tape(nats_url, make_kv, 1)
    assert recorded == published
    for kind in ("options", "equities"):
        assert_same_lines(one[kind], want[kind], f"one process's {kind} against the offline runner")

    for n in (2, 3):
        split, recorded, published = await _live_tape(nats_url, make_kv, n)
        # Nothing published twice by two replicas, nothing lost on the way.
        assert recorded == published, f"{n} replicas"
        for kind in ("options", "equities"):
            assert_same_lines(split[kind], one[kind], f"{n} replicas' {kind} against one process's")


def settings_symbols() -> tuple[str, ...]:
    return live_settings("nats://unused", SPEED).symbols
