"""The regime gRPC server against real NATS: reflection, health, unary parity, errors, the stream."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import subprocess
from collections.abc import AsyncIterator, Awaitable, Callable

import grpc
import nats
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from regime_svc.server import SERVICE_NAME, RegimeServer, serve
from synthmarket import engine, wire
from synthmarket.domain.calendar import trading_day
from synthmarket.domain.control import DEFAULT_CONTROL, SyntheticProfileWeightMap
from synthmarket.domain.presets import SyntheticControlPresetId
from synthmarket.domain.session import CoverageState
from synthmarket.domain.session_clock import SessionClock
from synthmarket.infra.control_store import ensure_control_bucket, write_control
from synthmarket.infra.embedded_nats import EmbeddedNats, find_nats_server, free_port
from synthmarket.names import CONTROL_KEY
from synthmarket.settings import load_settings
from synthmarket.v1 import regime_pb2, regime_pb2_grpc, smart_money_pb2
from tests.support.logs import warning_messages
from tests.support.waiting import eventually

pytestmark = pytest.mark.integration

DAY = trading_day(dt.date(2026, 11, 24))  # a Tuesday
MIDDAY_TS = DAY.at("12:15")
PRE_OPEN_TS = DAY.at("08:00")
# A fixed wall instant inside the session so "ts = 0 means now" is checkable exactly.
FIXED_WALL = DAY.at("11:00") + 1234

EVENT_DAY = DEFAULT_CONTROL.with_update(
    preset_id=SyntheticControlPresetId.EVENT_DAY,
    shared_seed=7,
    profile_weights=SyntheticProfileWeightMap({"vol_seller": 1.6}),
    updated_by="ops",
)


@pytest.fixture
async def control_kv(js, unique_bucket_name):
    name = unique_bucket_name("ctl")
    kv = await ensure_control_bucket(js, name)
    kv.bucket_name = name
    try:
        yield kv
    finally:
        await js.delete_key_value(name)


@pytest.fixture
def settings(nats_url):
    return load_settings({"NATS_URL": nats_url, "REGIME_GRPC_ADDR": "127.0.0.1:0"})


@pytest.fixture
async def start_regime(settings, nats_client) -> AsyncIterator[Callable[..., Awaitable[RegimeServer]]]:
    started: list[RegimeServer] = []

    async def start(bucket: str, **kwargs) -> RegimeServer:
        kwargs.setdefault("nc", nats_client)
        server = await serve(settings, control_bucket=bucket, **kwargs)
        started.append(server)
        if kwargs["nc"] is not None:
            await server.wait_for_control(timeout=5)
        return server

    yield start
    for server in started:
        await server.stop(0)


@pytest.fixture
async def regime(start_regime, control_kv) -> RegimeServer:
    return await start_regime(control_kv.bucket_name, wall_clock=lambda: FIXED_WALL)


@pytest.fixture
async def channel(regime) -> AsyncIterator[grpc.aio.Channel]:
    async with grpc.aio.insecure_channel(regime.address) as ch:
        yield ch


async def test_binds_loopback_on_an_ephemeral_port(regime):
    assert regime.host == "127.0.0.1" and regime.port > 0


async def test_reflection_lists_the_regime_service(channel):
    stub = reflection_pb2_grpc.ServerReflectionStub(channel)

    async def requests():
        yield reflection_pb2.ServerReflectionRequest(list_services="")

    names: list[str] = []
    async for response in stub.ServerReflectionInfo(requests()):
        names = [s.name for s in response.list_services_response.service]
    assert "synthmarket.v1.RegimeService" in names
    assert SERVICE_NAME == "synthmarket.v1.RegimeService"
    assert "grpc.health.v1.Health" in names


async def test_health_reports_serving(channel):
    stub = health_pb2_grpc.HealthStub(channel)
    for service in ("", SERVICE_NAME):
        reply = await stub.Check(health_pb2.HealthCheckRequest(service=service), timeout=5)
        assert reply.status == health_pb2.HealthCheckResponse.SERVING, service


async def test_unary_calls_match_the_pure_engine(channel, settings):
    stub = regime_pb2_grpc.RegimeServiceStub(channel)
    symbols = ("NVDA", "SPY")
    snap = await stub.GetSessionState(regime_pb2.GetSessionStateRequest(ts=MIDDAY_TS, symbols=symbols), timeout=5)
    session = engine.get_session_state(MIDDAY_TS, DEFAULT_CONTROL, settings.symbols)
    expected = wire.session_snapshot_to_proto(
        session, [engine.get_underlying_state(s, MIDDAY_TS, DEFAULT_CONTROL, session, settings.symbols) for s in symbols], 0,
        DEFAULT_CONTROL,
    )
    assert snap == expected
    assert [u.symbol for u in snap.underlyings] == list(symbols)

    under = await stub.GetUnderlyingState(regime_pb2.GetUnderlyingStateRequest(symbol="AAPL", ts=MIDDAY_TS))
    assert wire.underlying_state_from_proto(under) == engine.get_underlying_state(
        "AAPL", MIDDAY_TS, DEFAULT_CONTROL, session, settings.symbols
    )

    weights = await stub.GetScenarioWeights(regime_pb2.GetScenarioWeightsRequest(symbol="TSLA", ts=MIDDAY_TS))
    pure = engine.get_scenario_weights("TSLA", MIDDAY_TS, DEFAULT_CONTROL, session, settings.symbols)
    assert dict(weights.weights) == pytest.approx(dict(pure.weights), rel=1e-12)
    assert weights.intensity == pytest.approx(pure.intensity, rel=1e-12)

    coverage = CoverageState(now_ms=MIDDAY_TS, window_minutes=20, hits={"arbitrage": 0, "retail_whale": 5})
    reply = await stub.GetCoverageBoost(
        regime_pb2.GetCoverageBoostRequest(
            profile_id=smart_money_pb2.SMART_MONEY_PROFILE_ID_ARBITRAGE,
            coverage_state=wire.coverage_state_to_proto(coverage),
        )
    )
    assert reply.boost == pytest.approx(engine.get_coverage_boost("arbitrage", coverage, DEFAULT_CONTROL), rel=1e-12)


async def test_ts_zero_means_the_session_clock_now(channel, settings):
    stub = regime_pb2_grpc.RegimeServiceStub(channel)
    snap = await stub.GetSessionState(regime_pb2.GetSessionStateRequest())
    now_ts = SessionClock(speed=settings.speed).ts(FIXED_WALL)
    assert snap.session.ts == now_ts
    assert snap.session == wire.session_state_to_proto(
        engine.get_session_state(now_ts, DEFAULT_CONTROL, settings.symbols)
    )


@pytest.mark.parametrize(
    "call, request_msg, needle",
    [
        ("GetUnderlyingState", regime_pb2.GetUnderlyingStateRequest(symbol="ZZZZ", ts=MIDDAY_TS), "ZZZZ"),
        ("GetScenarioWeights", regime_pb2.GetScenarioWeightsRequest(symbol="NOPE", ts=MIDDAY_TS), "NOPE"),
        ("GetSessionState", regime_pb2.GetSessionStateRequest(ts=MIDDAY_TS, symbols=["SPY", "XX1"]), "XX1"),
        ("GetSessionState", regime_pb2.GetSessionStateRequest(ts=PRE_OPEN_TS), ""),
        ("GetUnderlyingState", regime_pb2.GetUnderlyingStateRequest(symbol="SPY", ts=PRE_OPEN_TS), ""),
        ("GetCoverageBoost", regime_pb2.GetCoverageBoostRequest(), "profile"),
    ],
    ids=["bad-symbol", "bad-symbol-weights", "bad-symbol-snapshot", "pre-open", "pre-open-underlying",
         "unset-profile"],
)
async def test_bad_requests_are_invalid_argument(channel, call, request_msg, needle):
    stub = regime_pb2_grpc.RegimeServiceStub(channel)
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await getattr(stub, call)(request_msg, timeout=5)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    details = caught.value.details() or ""
    assert needle in details
    assert "Traceback" not in details


async def test_stream_rejects_unknown_symbol(channel):
    stub = regime_pb2_grpc.RegimeServiceStub(channel)
    call = stub.StreamSessionState(regime_pb2.StreamSessionStateRequest(symbols=["SPY", "BOGUS"]))
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        async for _ in call:
            pass
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT


async def test_stream_pushes_at_the_interval(start_regime, control_kv):
    server = await start_regime(control_kv.bucket_name)
    async with grpc.aio.insecure_channel(server.address) as ch:
        stub = regime_pb2_grpc.RegimeServiceStub(ch)
        call = stub.StreamSessionState(regime_pb2.StreamSessionStateRequest(symbols=["QQQ"], interval_ms=200))
        arrivals: list[float] = []
        snaps: list[regime_pb2.SessionSnapshot] = []
        loop = asyncio.get_running_loop()
        async with asyncio.timeout(10):
            async for snap in call:
                arrivals.append(loop.time())
                snaps.append(snap)
                if len(snaps) == 6:
                    break
        call.cancel()
    gaps = [b - a for a, b in zip(arrivals, arrivals[1:])]
    # Tolerance: the mean period within 200 ms +/- 25 %, and no single gap over 600 ms (a busy
    # 2-core box may stall one push; the fixed cadence then catches up, so single gaps vary).
    mean_gap = (arrivals[-1] - arrivals[0]) / len(gaps)
    assert 0.15 <= mean_gap <= 0.25, gaps
    assert max(gaps) <= 0.6, gaps
    assert [s.underlyings[0].symbol for s in snaps] == ["QQQ"] * 6
    ts = [s.session.ts for s in snaps]
    assert ts == sorted(ts) and ts[-1] > ts[0]
    assert all(s.control_revision == 0 for s in snaps)  # the bucket is empty: defaults
    assert await server_stream_count_drops_to_zero(server)


async def server_stream_count_drops_to_zero(server: RegimeServer) -> bool:
    async def closed() -> bool:
        return server.servicer.active_streams == 0

    await eventually(closed, 5, "the cancelled stream to end on the server")
    return True


async def test_control_write_is_pushed_at_once(start_regime, control_kv):
    server = await start_regime(control_kv.bucket_name)
    async with grpc.aio.insecure_channel(server.address) as ch:
        stub = regime_pb2_grpc.RegimeServiceStub(ch)
        # A long interval, so the only way to see the new revision within 1 s is the push on change.
        call = stub.StreamSessionState(regime_pb2.StreamSessionStateRequest(symbols=["SPY"], interval_ms=30_000))
        stream = call.__aiter__()
        async with asyncio.timeout(5):
            first = await anext(stream)
        assert first.control_revision == 0
        loop = asyncio.get_running_loop()
        written_at = loop.time()
        revision = await write_control(control_kv, EVENT_DAY, None)
        async with asyncio.timeout(1.0):  # the brief's bound: visible within 1 s
            pushed = await anext(stream)
        latency = loop.time() - written_at
        call.cancel()
        assert pushed.control_revision == revision
        assert wire.control_from_proto(pushed.control) == EVENT_DAY
        # The pushed snapshot is computed with the new control.
        expected = engine.get_session_state(pushed.session.ts, EVENT_DAY, server.servicer.symbols)
        assert pushed.session == wire.session_state_to_proto(expected)
        assert latency < 1.0
        got = await stub.GetControl(regime_pb2.GetControlRequest())
        assert got.revision == revision and wire.control_from_proto(got.control) == EVENT_DAY


async def test_absent_entry_serves_defaults_with_a_warning(start_regime, control_kv, caplog):
    with caplog.at_level(logging.WARNING):
        server = await start_regime(control_kv.bucket_name)
    assert server.control.state == DEFAULT_CONTROL and server.control.revision is None
    assert any("absent" in m for m in warning_messages(caplog)), warning_messages(caplog)
    async with grpc.aio.insecure_channel(server.address) as ch:
        got = await regime_pb2_grpc.RegimeServiceStub(ch).GetControl(regime_pb2.GetControlRequest())
    assert got.revision == 0 and wire.control_from_proto(got.control) == DEFAULT_CONTROL


async def test_corrupt_entry_serves_defaults_with_a_warning(start_regime, control_kv, caplog):
    bad = await control_kv.put(CONTROL_KEY, b"{definitely not json")
    with caplog.at_level(logging.WARNING):
        server = await start_regime(control_kv.bucket_name)
    assert server.control.state == DEFAULT_CONTROL and server.control.revision == bad
    assert any("unreadable" in m for m in warning_messages(caplog)), warning_messages(caplog)
    async with grpc.aio.insecure_channel(server.address) as ch:
        stub = regime_pb2_grpc.RegimeServiceStub(ch)
        got = await stub.GetControl(regime_pb2.GetControlRequest())
        assert got.revision == bad and wire.control_from_proto(got.control) == DEFAULT_CONTROL
        # Still serving real answers.
        snap = await stub.GetSessionState(regime_pb2.GetSessionStateRequest(ts=MIDDAY_TS))
        assert snap.session.ts == MIDDAY_TS


async def test_boot_without_nats_serves_defaults_then_follows_once_nats_is_up(settings, caplog, unique_bucket_name):
    port = free_port("127.0.0.1")
    nats_server = EmbeddedNats(host="127.0.0.1", port=port)   # not started yet
    offline = load_settings({"NATS_URL": f"nats://127.0.0.1:{port}", "NATS_USER": "regime_svc",
                             "NATS_PASSWORD": nats_server.passwords["regime_svc"], "REGIME_GRPC_ADDR": "127.0.0.1:0"})
    bucket = unique_bucket_name("ctl")
    with caplog.at_level(logging.WARNING, logger="regime_svc.server"):
        server = await serve(offline, control_bucket=bucket)
    try:
        async with grpc.aio.insecure_channel(server.address) as ch:
            stub = regime_pb2_grpc.RegimeServiceStub(ch)
            got = await stub.GetControl(regime_pb2.GetControlRequest(), timeout=5)
            assert got.revision == 0 and wire.control_from_proto(got.control) == DEFAULT_CONTROL
            await eventually(lambda: any("unavailable" in m for m in warning_messages(caplog)), 5, "a retry warning")

            await asyncio.to_thread(nats_server.start)

            nc = await nats.connect(nats_server.url_as())
            try:
                kv = await ensure_control_bucket(nc.jetstream(), bucket)
                revision = await write_control(kv, EVENT_DAY, None)

                async def follows() -> bool:
                    reply = await stub.GetControl(regime_pb2.GetControlRequest(), timeout=5)
                    return reply.revision == revision

                # Retry backoff is capped at 10 s; the first retries come sooner.
                await eventually(follows, 15, "the server to pick up the control once NATS is up")
            finally:
                await nc.close()
    finally:
        await server.stop(0)
        await asyncio.to_thread(nats_server.stop)


async def test_unexpected_errors_are_internal_without_a_trace(channel, monkeypatch, caplog):
    def broken(*args, **kwargs):
        raise RuntimeError("secret detail from deep inside")

    monkeypatch.setattr(engine, "get_scenario_weights", broken)
    stub = regime_pb2_grpc.RegimeServiceStub(channel)
    with caplog.at_level(logging.ERROR, logger="synthmarket.infra.grpc_errors"), \
            pytest.raises(grpc.aio.AioRpcError) as caught:
            await stub.GetScenarioWeights(regime_pb2.GetScenarioWeightsRequest(symbol="SPY", ts=MIDDAY_TS))
    assert caught.value.code() == grpc.StatusCode.INTERNAL
    assert caught.value.details() == "internal error"
    # The trace stays in the server log.
    assert any(r.exc_info and "secret detail" in str(r.exc_info[1]) for r in caplog.records)


async def test_stop_ends_open_streams_without_waiting_out_the_grace(start_regime, control_kv):
    server = await start_regime(control_kv.bucket_name)
    async with grpc.aio.insecure_channel(server.address) as ch:
        stub = regime_pb2_grpc.RegimeServiceStub(ch)
        call = stub.StreamSessionState(regime_pb2.StreamSessionStateRequest(interval_ms=30_000))
        stream = call.__aiter__()
        async with asyncio.timeout(5):
            await anext(stream)
        loop = asyncio.get_running_loop()
        started = loop.time()
        await server.stop(grace=10)
        took = loop.time() - started
        async with asyncio.timeout(5):
            rest = [snap async for snap in stream]
        assert rest == [] and await call.code() == grpc.StatusCode.OK
    # Tolerance: well under the 10 s grace (the stream ends on its own at once).
    assert took < 2.0, took


async def test_a_stop_while_a_stream_builds_its_snapshot_still_ends_it_at_once(start_regime, control_kv):
    server = await start_regime(control_kv.bucket_name)
    building = asyncio.Event()
    snapshot = server.servicer._snapshot_off_loop

    async def slow_snapshot(*args):
        building.set()
        await asyncio.sleep(0.3)
        return await snapshot(*args)

    server.servicer._snapshot_off_loop = slow_snapshot
    async with grpc.aio.insecure_channel(server.address) as ch:
        stub = regime_pb2_grpc.RegimeServiceStub(ch)
        call = stub.StreamSessionState(regime_pb2.StreamSessionStateRequest(interval_ms=30_000))
        stream = call.__aiter__()
        reading = asyncio.ensure_future(anext(stream))
        async with asyncio.timeout(5):
            await building.wait()
        # The wake-up of the stop arrives while the stream is busy, not waiting for one.
        loop = asyncio.get_running_loop()
        started = loop.time()
        await server.stop(grace=10)
        took = loop.time() - started
        async with asyncio.timeout(5):
            first = await reading
            rest = [snap async for snap in stream]
        assert first.session.ts > 0 and rest == [] and await call.code() == grpc.StatusCode.OK
    # Tolerance: well under the 10 s grace, as for an idle stream.
    assert took < 2.0, took


def _spawn_nats(port: int, store: str) -> subprocess.Popen:
    # The binary directly (not EmbeddedNats): a restart must reuse the same port, which Python's
    # free-port probe refuses while the old sockets sit in TIME_WAIT.
    return subprocess.Popen(
        [find_nats_server(), "-js", "-a", "127.0.0.1", "-p", str(port), "-sd", store],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )


async def test_control_follows_across_a_nats_restart(tmp_path):
    port = free_port("127.0.0.1")
    url = f"nats://127.0.0.1:{port}"
    store = str(tmp_path / "js")
    proc = _spawn_nats(port, store)
    server = None
    try:
        settings = load_settings({"NATS_URL": url, "REGIME_GRPC_ADDR": "127.0.0.1:0"})
        server = await serve(settings)  # owns its connection, as under `python -m regime_svc`
        await server.wait_for_control(timeout=10)
        nc = await nats.connect(url)
        kv = await ensure_control_bucket(nc.jetstream())
        first = await write_control(kv, EVENT_DAY, None)
        await eventually(lambda: server.control.revision == first, 5, "the first write")
        await nc.close()

        proc.terminate()
        await asyncio.to_thread(proc.wait, 10)
        proc = _spawn_nats(port, store)

        async def connect() -> bool:
            try:
                nonlocal nc
                nc = await nats.connect(url, connect_timeout=1, max_reconnect_attempts=0)
                return True
            except Exception:  # noqa: BLE001 - not up yet
                return False

        await eventually(connect, 10, "NATS to come back")
        try:
            kv = await ensure_control_bucket(nc.jetstream())
            second = await write_control(kv, DEFAULT_CONTROL.with_update(updated_by="after-restart"), first)
            loop = asyncio.get_running_loop()
            started = loop.time()
            # Tolerance: 3 s covers the client's 1 s reconnect wait plus a fresh watch; the old
            # consumer's heartbeat check alone would take ~15 s.
            await eventually(lambda: server.control.revision == second, 3, "the write after the restart")
            assert server.control.state.updated_by == "after-restart"
            assert loop.time() - started < 3
        finally:
            await nc.close()
    finally:
        if server is not None:
            await server.stop(0)
        proc.terminate()
        await asyncio.to_thread(proc.wait, 10)
