"""JetStream KV against a real NATS server: raw entries, the control store, the embedded server."""

from __future__ import annotations

import asyncio
import json
import logging
import sys
import time
from pathlib import Path

import nats
import pytest

from synthmarket.domain.control import DEFAULT_CONTROL, SyntheticProfileWeightMap
from synthmarket.domain.presets import SyntheticControlPresetId
from synthmarket.infra.control_store import (
    CONTROL_HISTORY,
    RevisionConflict,
    ensure_control_bucket,
    ensure_status_bucket,
    load_control,
    watch_control,
    write_control,
)
from synthmarket.infra.embedded_nats import EmbeddedNats, EmbeddedNatsError, find_nats_server
from synthmarket.names import CONTROL_KEY
from tests.support.logs import warning_messages

pytestmark = pytest.mark.integration


async def test_kv_entry_round_trips_through_real_jetstream(make_kv):
    kv = await make_kv()
    first = await kv.put("global", b'{"a":1}')
    second = await kv.put("global", b'{"a":2}')
    entry = await kv.get("global")
    assert entry.value == b'{"a":2}'
    assert entry.revision == second > first


EVENT_DAY = DEFAULT_CONTROL.with_update(
    preset_id=SyntheticControlPresetId.EVENT_DAY,
    coverage_window_minutes=30,
    shared_seed=42,
    profile_weights=SyntheticProfileWeightMap({"retail_whale": 1.6}),
    updated_by="ops-a",
)
DEALER_DAY = DEFAULT_CONTROL.with_update(preset_id=SyntheticControlPresetId.DEALER_DAY, updated_by="ops-b")


async def test_ensure_buckets_are_idempotent_and_keep_history(js, unique_bucket_name):
    control_name, status_name = unique_bucket_name("ctl"), unique_bucket_name("st")
    try:
        kv = await ensure_control_bucket(js, control_name)
        await write_control(kv, EVENT_DAY, None)
        again = await ensure_control_bucket(js, control_name)
        status = await again.status()
        assert status.history == CONTROL_HISTORY == 64
        # The second call bound to the existing bucket instead of replacing it.
        assert (await load_control(again))[0] == EVENT_DAY
        st = await ensure_status_bucket(js, status_name)
        assert (await st.status()).bucket == status_name
    finally:
        for name in (control_name, status_name):
            await js.delete_key_value(name)


async def test_absent_entry_loads_defaults_with_one_warning(make_kv, caplog):
    kv = await make_kv()
    with caplog.at_level(logging.WARNING, logger="synthmarket.infra.control_store"):
        state, revision = await load_control(kv)
    assert state == DEFAULT_CONTROL
    assert revision is None
    assert len(warning_messages(caplog)) == 1 and "absent" in warning_messages(caplog)[0]


async def test_write_then_load_round_trips_state_and_revision(make_kv):
    kv = await make_kv()
    revision = await write_control(kv, EVENT_DAY, None)
    state, loaded_revision = await load_control(kv)
    assert state == EVENT_DAY
    assert loaded_revision == revision
    raw = json.loads((await kv.get(CONTROL_KEY)).value)
    assert raw["preset_id"] == "event_day" and raw["profile_weights"]["retail_whale"] == 1.6


@pytest.mark.parametrize(
    "raw, reason",
    [
        (b"{not json", "not valid JSON"),
        (json.dumps({"preset_id": "moon_day"}).encode(), "preset_id"),
        (b"", "empty"),
    ],
    ids=["corrupt-json", "invalid-payload", "empty"],
)
async def test_unreadable_entry_loads_defaults_with_its_revision(make_kv, caplog, raw, reason):
    kv = await make_kv()
    bad_revision = await kv.put(CONTROL_KEY, raw)
    with caplog.at_level(logging.WARNING, logger="synthmarket.infra.control_store"):
        state, revision = await load_control(kv)
    assert state == DEFAULT_CONTROL
    # The revision is kept so an operator's compare-and-set write can replace the bad value.
    assert revision == bad_revision
    warnings = warning_messages(caplog)
    assert len(warnings) == 1 and reason in warnings[0], warnings
    fixed = await write_control(kv, EVENT_DAY, revision)
    assert (await load_control(kv)) == (EVENT_DAY, fixed)


async def test_compare_and_set_conflict_names_current_revision(make_kv):
    kv = await make_kv()
    base = await write_control(kv, DEFAULT_CONTROL, None)
    # Operator A saves first, based on the revision both operators read.
    a_revision = await write_control(kv, EVENT_DAY, base)
    assert a_revision > base
    # Operator B read the same base revision: the write must fail, not overwrite A.
    with pytest.raises(RevisionConflict) as caught:
        await write_control(kv, DEALER_DAY, base)
    assert caught.value.expected_revision == base
    assert caught.value.current_revision == a_revision
    assert str(a_revision) in str(caught.value)
    assert await load_control(kv) == (EVENT_DAY, a_revision)
    # Last writer wins when no revision is given.
    lww = await write_control(kv, DEALER_DAY, None)
    assert await load_control(kv) == (DEALER_DAY, lww)


async def test_expected_revision_zero_means_create_only(make_kv):
    kv = await make_kv()
    created = await write_control(kv, EVENT_DAY, 0)
    with pytest.raises(RevisionConflict) as caught:
        await write_control(kv, DEALER_DAY, 0)
    assert caught.value.current_revision == created
    assert (await load_control(kv))[0] == EVENT_DAY


async def test_history_keeps_every_revision(make_kv):
    kv = await make_kv(history=CONTROL_HISTORY)
    revisions = [await write_control(kv, s, None) for s in (DEFAULT_CONTROL, EVENT_DAY, DEALER_DAY)]
    history = await kv.history(CONTROL_KEY)
    assert [e.revision for e in history] == revisions
    assert [json.loads(e.value)["preset_id"] for e in history] == ["balanced_demo", "event_day", "dealer_day"]


async def test_watch_sees_every_change_and_survives_corrupt_entries(make_kv, caplog):
    kv = await make_kv()
    seen: list[tuple[object, int | None]] = []
    got = asyncio.Event()

    async def consume() -> None:
        async for item in watch_control(kv):
            seen.append(item)
            got.set()

    async def next_item(count: int) -> tuple[object, int | None]:
        # Poll with a deadline instead of sleeping a fixed time.
        async with asyncio.timeout(5):
            while len(seen) < count:
                got.clear()
                await got.wait()
        return seen[count - 1]

    task = asyncio.create_task(consume())
    try:
        assert await next_item(1) == (DEFAULT_CONTROL, None)  # absent at start
        r1 = await write_control(kv, EVENT_DAY, None)
        assert await next_item(2) == (EVENT_DAY, r1)
        with caplog.at_level(logging.WARNING, logger="synthmarket.infra.control_store"):
            r2 = await kv.put(CONTROL_KEY, b"\x00garbage")
            assert await next_item(3) == (DEFAULT_CONTROL, r2)
        assert any("unreadable" in m for m in warning_messages(caplog))
        r3 = await write_control(kv, DEALER_DAY, r2)
        assert await next_item(4) == (DEALER_DAY, r3)
        await kv.delete(CONTROL_KEY)
        state, _ = await next_item(5)
        assert state == DEFAULT_CONTROL
        assert not task.done(), "the watcher must keep running after corrupt and deleted entries"
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task


async def test_watch_starts_from_the_stored_entry(make_kv):
    kv = await make_kv()
    r1 = await write_control(kv, EVENT_DAY, None)
    stream = watch_control(kv)
    try:
        async with asyncio.timeout(5):
            first = await anext(stream)
        assert first == (EVENT_DAY, r1)
        r2 = await write_control(kv, DEALER_DAY, r1)
        async with asyncio.timeout(5):
            # The end-of-replay marker must not show up as a spurious "defaults" state.
            assert await anext(stream) == (DEALER_DAY, r2)
    finally:
        await stream.aclose()


# -- the embedded server ----------------------------------------------------------------------


async def _put_and_get(url: str, value: bytes | None) -> bytes:
    nc = await nats.connect(url, connect_timeout=5, max_reconnect_attempts=0)
    try:
        kv = await ensure_control_bucket(nc.jetstream(timeout=5))
        if value is not None:
            await kv.put(CONTROL_KEY, value)
        return (await kv.get(CONTROL_KEY)).value
    finally:
        await nc.close()


async def test_embedded_store_dir_keeps_kv_across_restarts(tmp_path):
    store = tmp_path / "js"
    with EmbeddedNats(store_dir=store) as first:
        assert await _put_and_get(first.url_as(), b'{"kept":true}') == b'{"kept":true}'
    with EmbeddedNats(store_dir=store) as second:
        assert await _put_and_get(second.url_as(), None) == b'{"kept":true}'
    assert store.is_dir()


def test_embedded_temporary_store_and_process_are_gone_after_stop():
    server = EmbeddedNats().start()
    store, proc = server.store_dir, server.process
    assert store is not None and store.is_dir() and proc is not None
    server.stop()
    assert proc.poll() is not None
    assert not store.exists()
    with pytest.raises(EmbeddedNatsError):
        _ = server.url


def test_binary_is_found_next_to_the_interpreter_without_path(monkeypatch):
    monkeypatch.setenv("PATH", "")
    found = find_nats_server()
    assert Path(found).parent == Path(sys.executable).parent


def test_a_server_that_cannot_start_fails_fast_with_its_output(tmp_path):
    fake = tmp_path / "nats-server"
    fake.write_text("#!/bin/sh\necho 'cannot listen: address in use' >&2\nexit 3\n")
    fake.chmod(0o755)
    started = time.monotonic()
    with pytest.raises(EmbeddedNatsError, match=r"exited with code 3(.|\n)*address in use"):
        EmbeddedNats(binary=str(fake), startup_timeout=10).start()
    assert time.monotonic() - started < 5, "an exiting server must not wait out the startup timeout"


def test_missing_docker_engine_is_detected_fast(monkeypatch):
    from tests.conftest import _docker_answers

    # Nothing listens on port 1: the container branch must give up and fall through quickly.
    monkeypatch.setenv("DOCKER_HOST", "tcp://127.0.0.1:1")
    started = time.monotonic()
    assert _docker_answers(timeout=2.0) is False
    assert time.monotonic() - started < 2.5
