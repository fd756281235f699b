"""The regime gRPC server: a thin servicer over the pure engine, the live control and the session clock."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection
from nats.aio.client import Client as NatsClient

from synthmarket import engine, wire
from synthmarket.domain.control import DEFAULT_CONTROL, SyntheticControlState
from synthmarket.domain.control_timeline import Control, TimelineBook, latest
from synthmarket.domain.session_clock import SessionClock
from synthmarket.domain.universe import resolve_symbols
from synthmarket.infra import nats_connection
from synthmarket.infra.control_follower import ControlFollower
from synthmarket.infra.grpc_errors import abort_with
from synthmarket.infra.tasks import cancel_and_wait
from synthmarket.infra.wallclock import WallClock, wall_ms
from synthmarket.names import CONTROL_BUCKET
from synthmarket.settings import Settings
from synthmarket.v1 import regime_pb2, regime_pb2_grpc

log = logging.getLogger(__name__)

SERVICE_NAME = regime_pb2.DESCRIPTOR.services_by_name["RegimeService"].full_name
# Stream periods outside this range are clamped: faster floods clients, slower looks frozen.
MIN_INTERVAL_MS = 50
MAX_INTERVAL_MS = 60_000
CANCEL_TIMEOUT_S = 3.0




class LiveControl:
    """The control state in force and its KV revision; wakes every waiter when it changes."""

    def __init__(self, state: SyntheticControlState = DEFAULT_CONTROL, revision: int | None = None) -> None:
        self.state = state
        self.timeline: Control = state    # what the engine reads: the entry's revisions in session time
        self.revision = revision
        self.version = 0
        self._changed = asyncio.Event()

    @property
    def wire_revision(self) -> int:
        # The wire says 0 for "no entry; defaults in force".
        return self.revision or 0

    def set(self, state: SyntheticControlState, revision: int | None, timeline: Control | None = None) -> None:
        self.state, self.revision = state, revision
        self.timeline = timeline if timeline is not None else state
        self.version += 1
        self.wake()

    def wake(self) -> None:
        """Wake every waiter (a change, or a server shutting down)."""
        # Swap the event so each wake-up reaches the waiters of that moment exactly once.
        changed, self._changed = self._changed, asyncio.Event()
        changed.set()

    async def wait_change(self, since_version: int, timeout: float) -> bool:
        """True if woken (a change after ``since_version``, possibly before the call, or a wake())."""
        if self.version != since_version:
            return True
        try:
            await asyncio.wait_for(self._changed.wait(), timeout)
        except TimeoutError:
            return False
        return True


async def _cancel_all(tasks: tuple[asyncio.Task, ...], timeout: float = CANCEL_TIMEOUT_S) -> None:
    # Bounded: a NATS unsubscribe stuck on a dead connection must not hold up a shutdown.
    await cancel_and_wait(tasks, timeout)


class RegimeControl:
    """Keeps ``LiveControl`` in line with the KV entry, retrying in the background while NATS is down.

    With a client passed in it watches over that connection; without one it connects itself
    (and closes that connection on stop). Errors never reach the gRPC side: the last good
    control (defaults at boot) stays in force.
    """

    def __init__(self, control: LiveControl, nats_url: str, nc: NatsClient | None = None,
                 bucket: str = CONTROL_BUCKET, credentials: nats_connection.Credentials | None = None,
                 session_ts: Callable[[int], int] | None = None) -> None:
        self.control = control
        self._book = TimelineBook(session_ts or SessionClock().ts, DEFAULT_CONTROL)
        self.nats_url = nats_url
        self._credentials = credentials
        self._nc = nc
        self._owns_nc = nc is None
        self._follower = ControlFollower(self._connection, self._apply, "regime_svc", bucket, history=True)
        self.watching = self._follower.watching
        self._task: asyncio.Task | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._follower.run(), name="regime-control-follower")

    async def _connection(self) -> NatsClient:
        # A boot while NATS is down simply waits here in the background.
        if self._nc is None:
            self._nc = await nats_connection.connect(self.nats_url, "regime_svc", on_reconnected=self._follower.rewatch,
                                                     credentials=self._credentials)
        return self._nc

    def _apply(self, state: SyntheticControlState, revision: int | None) -> None:
        if (state, revision) != (self.control.state, self.control.revision):
            log.info("control now %s at revision %s", state.preset_id.value, revision)
            self.control.set(state, revision, self._book.add(state))

    async def stop(self) -> None:
        if self._task is not None:
            await _cancel_all((self._task,))
        if self._owns_nc and self._nc is not None and not self._nc.is_closed:
            await nats_connection.drain(self._nc, CANCEL_TIMEOUT_S)


class RegimeServicer(regime_pb2_grpc.RegimeServiceServicer):
    """Translates proto <-> engine dataclasses; holds no logic of its own."""

    def __init__(
        self,
        control: LiveControl,
        clock: SessionClock,
        symbols: tuple[str, ...],
        default_interval_ms: int,
        wall_clock: WallClock = wall_ms,
    ) -> None:
        self.control = control
        self.clock = clock
        self.symbols = symbols
        self.default_interval_ms = default_interval_ms
        self.wall_clock = wall_clock
        self.active_streams = 0
        self.closing = False

    def close_streams(self) -> None:
        """End every open stream cleanly so a shutdown need not wait out its grace period."""
        self.closing = True
        self.control.wake()

    def now_ts(self) -> int:
        return self.clock.ts(self.wall_clock())

    def _ts(self, requested: int) -> int:
        return requested if requested else self.now_ts()

    def _snapshot(
        self, ts: int, symbols: tuple[str, ...], state: Control, revision: int
    ) -> regime_pb2.SessionSnapshot:
        session = engine.get_session_state(ts, state, self.symbols)
        underlyings = [engine.get_underlying_state(s, ts, state, session, self.symbols) for s in symbols]
        return wire.session_snapshot_to_proto(session, underlyings, revision, latest(state))

    async def _snapshot_off_loop(self, ts: int, symbols: tuple[str, ...]) -> regime_pb2.SessionSnapshot:
        # Read the control once, on the loop, so the state and the revision reported belong together.
        state, revision = self.control.timeline, self.control.wire_revision
        # The first call for a new day or control builds the day's paths (~0.1 s); a worker
        # thread keeps health checks and other streams answering meanwhile.
        return await asyncio.to_thread(self._snapshot, ts, symbols, state, revision)

    async def GetSessionState(self, request, context):
        try:
            symbols = resolve_symbols(request.symbols)
            return await self._snapshot_off_loop(self._ts(request.ts), symbols)
        except Exception as exc:  # noqa: BLE001 - mapped to a status in one place
            await abort_with(context, exc, "GetSessionState")

    def _underlying(self, symbol: str, ts: int, state: Control) -> regime_pb2.UnderlyingState:
        session = engine.get_session_state(ts, state, self.symbols)
        return wire.underlying_state_to_proto(engine.get_underlying_state(symbol, ts, state, session, self.symbols))

    def _weights(self, symbol: str, ts: int, state: Control) -> regime_pb2.ScenarioWeights:
        session = engine.get_session_state(ts, state, self.symbols)
        return wire.scenario_weights_to_proto(engine.get_scenario_weights(symbol, ts, state, session, self.symbols))

    async def GetUnderlyingState(self, request, context):
        try:
            (symbol,) = resolve_symbols([request.symbol])
            return await asyncio.to_thread(self._underlying, symbol, self._ts(request.ts), self.control.timeline)
        except Exception as exc:  # noqa: BLE001
            await abort_with(context, exc, "GetUnderlyingState")

    async def GetScenarioWeights(self, request, context):
        try:
            (symbol,) = resolve_symbols([request.symbol])
            return await asyncio.to_thread(self._weights, symbol, self._ts(request.ts), self.control.timeline)
        except Exception as exc:  # noqa: BLE001
            await abort_with(context, exc, "GetScenarioWeights")

    async def GetCoverageBoost(self, request, context):
        try:
            profile_id = wire.profile_id_from_proto(request.profile_id)
            coverage = wire.coverage_state_from_proto(request.coverage_state)
            boost = engine.get_coverage_boost(profile_id, coverage, self.control.state)
            return regime_pb2.GetCoverageBoostResponse(boost=boost)
        except Exception as exc:  # noqa: BLE001
            await abort_with(context, exc, "GetCoverageBoost")

    async def GetControl(self, request, context):
        return regime_pb2.GetControlResponse(
            control=wire.control_to_proto(self.control.state), revision=self.control.wire_revision
        )

    async def StreamSessionState(self, request, context):
        try:
            symbols = resolve_symbols(request.symbols)
        except Exception as exc:  # noqa: BLE001
            await abort_with(context, exc, "StreamSessionState")
            return
        interval_ms = request.interval_ms or self.default_interval_ms
        interval_s = min(max(interval_ms, MIN_INTERVAL_MS), MAX_INTERVAL_MS) / 1000.0
        self.active_streams += 1
        try:
            loop = asyncio.get_running_loop()
            next_due = loop.time()
            while not self.closing:
                version = self.control.version
                try:
                    snapshot = await self._snapshot_off_loop(self.now_ts(), symbols)
                except Exception as exc:  # noqa: BLE001
                    await abort_with(context, exc, "StreamSessionState")
                    return
                await context.write(snapshot)
                # A fixed cadence (not "interval after the write") so slow writes do not drift it.
                next_due += interval_s
                now = loop.time()
                if next_due < now:
                    next_due = now
                if self.closing:
                    break   # closed while this stream was busy: the wake-up is gone, never wait for the next one
                if await self.control.wait_change(version, next_due - now):
                    # Pushed at once; the periodic cadence restarts from this push.
                    next_due = loop.time()
            # Returning ends the stream with OK; clients reconnect to another replica or later.
        finally:
            self.active_streams -= 1


@dataclass
class RegimeServer:
    """A running regime server: ``port`` is the bound port (the one chosen when asked for 0)."""

    server: grpc.aio.Server
    port: int
    host: str
    servicer: RegimeServicer
    control: LiveControl
    follower: RegimeControl | None
    health: health.aio.HealthServicer
    _stopped: bool = field(default=False, repr=False)

    @property
    def address(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"

    async def wait_for_control(self, timeout: float = 5.0) -> None:
        """Wait until the KV watch delivered its first state (tests and orderly boots use this)."""
        if self.follower is not None:
            await asyncio.wait_for(self.follower.watching.wait(), timeout)

    async def stop(self, grace: float | None = None) -> None:
        if self._stopped:
            return
        self._stopped = True
        await self.health.enter_graceful_shutdown()
        self.servicer.close_streams()
        await self.server.stop(grace)
        if self.follower is not None:
            await self.follower.stop()


def _split_addr(addr: str) -> tuple[str, int]:
    host, _, port = addr.rpartition(":")
    return (host.strip("[]") or "127.0.0.1"), int(port)


async def serve(
    settings: Settings,
    *,
    nc: NatsClient | None = None,
    addr: str | None = None,
    control_bucket: str = CONTROL_BUCKET,
    follow_control: bool = True,
    clock: SessionClock | None = None,
    wall_clock: WallClock = wall_ms,
) -> RegimeServer:
    """Start the regime gRPC server and the control watch; returns at once with a handle.

    ``addr`` overrides ``settings.regime_grpc_addr`` (port 0 picks a free port). Without ``nc``
    the server connects to ``settings.nats_url`` itself, retrying in the background while NATS
    is down; until a control arrives it serves the defaults.
    """
    bind = addr or settings.regime_grpc_addr
    host, _ = _split_addr(bind)
    control = LiveControl()
    servicer = RegimeServicer(
        control,
        clock or SessionClock(speed=settings.speed),
        settings.symbols,
        settings.regime_stream_interval_ms,
        wall_clock,
    )
    server = grpc.aio.server()
    regime_pb2_grpc.add_RegimeServiceServicer_to_server(servicer, server)
    health_servicer = health.aio.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    reflection.enable_server_reflection(
        (SERVICE_NAME, health.SERVICE_NAME, reflection.SERVICE_NAME), server
    )
    port = server.add_insecure_port(bind)
    if port == 0:
        raise OSError(f"could not bind the regime gRPC server to {bind}")
    await server.start()
    await health_servicer.set(SERVICE_NAME, health_pb2.HealthCheckResponse.SERVING)
    await health_servicer.set("", health_pb2.HealthCheckResponse.SERVING)

    follower = None
    if follow_control:
        follower = RegimeControl(control, settings.nats_url, nc, control_bucket,
                                 nats_connection.identity(settings), servicer.clock.ts)
        follower.start()
    log.info("regime gRPC server listening on %s:%d", host, port)
    return RegimeServer(server, port, host, servicer, control, follower, health_servicer)
