"""The live ingest loop shared by options_svc and equities_svc: session stream, control, stepping, publish, status."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from nats.aio.client import Client as NatsClient
from nats.js.kv import KeyValue

from synthmarket import engine as regime_engine
from synthmarket import wire
from synthmarket.domain.calendar import trading_day_for
from synthmarket.domain.control import DEFAULT_CONTROL, SyntheticControlState
from synthmarket.domain.control_timeline import Control, TimelineBook, describe_day
from synthmarket.domain.session import SessionState
from synthmarket.domain.session_clock import SessionClock
from synthmarket.infra.control_follower import ControlFollower
from synthmarket.infra.control_store import ensure_status_bucket
from synthmarket.infra.metrics import MetricsRegistry
from synthmarket.infra.regime_stream import follow_regime_stream
from synthmarket.infra.tasks import cancel_and_wait
from synthmarket.infra.wallclock import WallClock, wall_ms
from synthmarket.names import CONTROL_BUCKET, STATUS_BUCKET, status_key
from synthmarket.settings import Settings
from synthmarket.v1 import regime_pb2, status_pb2

log = logging.getLogger(__name__)

Message = tuple[str, bytes]  # (subject, payload)

STEP_WALL_MS = 100
STATUS_INTERVAL_S = 1.0
# A step never covers more than this much session time: after a stall (a paused process, a
# jump of the wall clock) the tape skips ahead instead of flooding subscribers with a backlog.
MAX_CATCHUP_STEPS = 20
MIN_CATCHUP_MS = 5_000


def partition(symbols: Sequence[str], replica: int, replicas: int) -> tuple[str, ...]:
    """Replica ``replica`` of ``replicas`` owns symbol k (in the given order) when k % replicas == replica."""
    if replicas < 1 or not 0 <= replica < replicas:
        raise ValueError(f"replica {replica} of {replicas} does not exist")
    return tuple(s for k, s in enumerate(symbols) if k % replicas == replica)


class UniverseEngine:
    """``synthmarket.engine.regime_engine`` with the session universe pinned to the whole symbol list.

    A replica generates only its own symbols, but focus and event symbols are drawn from the
    universe; pinning it keeps every replica on the regime server's session state.
    """

    def __init__(self, universe: Sequence[str]) -> None:
        self.universe = tuple(universe)

    def get_session_state(self, ts: int, control: Control, symbols: Any = None) -> SessionState:
        return regime_engine.get_session_state(ts, control, self.universe)

    def get_underlying_state(self, symbol: str, ts: int, control: Control,
                             session_state: Any = None, symbols: Any = None) -> Any:
        return regime_engine.get_underlying_state(symbol, ts, control, session_state, self.universe)

    def get_scenario_weights(self, symbol: str, ts: int, control: Control,
                             session_state: Any = None, symbols: Any = None) -> Any:
        return regime_engine.get_scenario_weights(symbol, ts, control, session_state, self.universe)

    def get_coverage_boost(self, profile_id: str, coverage_state: Any, control: Control) -> float:
        return regime_engine.get_coverage_boost(profile_id, coverage_state, control)

    def underlying_path(self, symbol: str, ts_array: Any, control: Control, *,
                        symbols: Any = None) -> Any:
        return regime_engine.underlying_path(symbol, ts_array, control, symbols=self.universe)


class Tape(Protocol):
    """What a service plugs into the loop: a generator wrapped to emit wire-ready messages."""

    def set_control(self, control: Control) -> None: ...

    def step(self, t0_ms: int, t1_ms: int) -> list[tuple[int, str, bytes]]:
        """(ts, subject, payload) for every record with ts in [t0, t1), in ts order."""
        ...

    def hit_counts(self) -> dict[str, int]: ...

    def coverage_debt(self) -> int:
        """Public profiles with no hit in the coverage window (0 when the tape has no profiles)."""
        ...


TapeFactory = Callable[[Control, tuple[str, ...], tuple[str, ...], int], Tape]


@dataclass
class IngestMetrics:
    published: Any
    dropped: Any
    publish_rate: Any
    coverage_debt: Any
    control_revision: Any
    stream_lag_ms: Any
    step_lag_ms: Any
    skipped_ms: Any
    regime_connected: Any
    step_seconds: Any

    @classmethod
    def create(cls, registry: MetricsRegistry) -> IngestMetrics:
        return cls(
            published=registry.counter("messages_published", "Messages published to NATS"),
            dropped=registry.counter("messages_dropped", "Messages dropped while NATS was unreachable"),
            publish_rate=registry.gauge("messages_per_second", "Messages published per second (last status period)"),
            coverage_debt=registry.gauge("coverage_debt", "Public profiles with no hit in the coverage window"),
            control_revision=registry.gauge("control_revision", "KV revision of the control applied (0 = defaults)"),
            stream_lag_ms=registry.gauge(
                "stream_lag_ms", "Session time between our clock and the newest regime snapshot"
            ),
            step_lag_ms=registry.gauge(
                "step_lag_ms", "Session time the tape is behind the session clock (wall time since the last step x speed)"
            ),
            skipped_ms=registry.counter("skipped_ms", "Session time skipped after stalls"),
            regime_connected=registry.gauge("regime_connected", "1 while the regime stream is up"),
            step_seconds=registry.histogram(
                "step_seconds", "Wall time of one generate+publish step",
                buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0),
            ),
        )


@dataclass
class IngestStatus:
    """What the replica reports; mirrored into the StatusReport written to the status KV."""

    applied_revision: int = 0
    session: SessionState | None = None
    snapshot_revision: int = 0
    published: int = 0
    dropped: int = 0
    last_publish_ts: int = 0
    hit_counts: dict[str, int] = field(default_factory=dict)


class IngestService:
    """One ingest replica: owns nothing but tasks on the caller's NATS connection.

    ``tape_factory(control, symbols, universe, start_ts)`` builds the service's tape; it is
    called once the control is known, so the first step already runs under the stored control.
    """

    def __init__(
        self,
        service: str,
        settings: Settings,
        nc: NatsClient,
        tape_factory: TapeFactory,
        *,
        replica: int = 0,
        replicas: int = 1,
        regime_addr: str | None = None,
        clock: SessionClock | None = None,
        wall_clock: WallClock = wall_ms,
        metrics: MetricsRegistry | None = None,
        control_bucket: str = CONTROL_BUCKET,
        status_bucket: str = STATUS_BUCKET,
        step_wall_ms: int = STEP_WALL_MS,
        status_interval_s: float = STATUS_INTERVAL_S,
    ) -> None:
        self.service = service
        self.settings = settings
        self.nc = nc
        self.universe = tuple(settings.symbols)
        self.symbols = partition(self.universe, replica, replicas)
        if not self.symbols:
            raise ValueError(f"{service} replica {replica} of {replicas} owns no symbol of {len(self.universe)}")
        self.replica, self.replicas = replica, replicas
        self.key = status_key(service, replica)
        self.tape_factory = tape_factory
        self.regime_addr = regime_addr or settings.regime_grpc_addr
        self.clock = clock or SessionClock(speed=settings.speed)
        self.wall_clock = wall_clock
        self.registry = metrics or MetricsRegistry(service)
        self.metrics = IngestMetrics.create(self.registry)
        self.control_bucket, self.status_bucket = control_bucket, status_bucket
        self.step_wall_ms = step_wall_ms
        self.status_interval_s = status_interval_s
        self.hosted_control = settings.backend_mode == "synthetic"
        self.control: SyntheticControlState = DEFAULT_CONTROL
        # The control entry's revisions with their session instants: what the tape runs under.
        self._book = TimelineBook(self.clock.ts, DEFAULT_CONTROL)
        self.timeline: Control = DEFAULT_CONTROL
        self.status = IngestStatus()
        self.tape: Tape | None = None
        self.regime_connected = asyncio.Event()
        self.control_ready = asyncio.Event()
        self.publishing = asyncio.Event()
        self._status_kick = asyncio.Event()
        self._control = ControlFollower(self._connection, self._apply, self.key, control_bucket, history=True)
        self._tasks: list[asyncio.Task] = []
        self._snapshot_wall = 0
        self._cursor = 0

    # -- lifecycle ------------------------------------------------------------------------------

    async def start(self) -> None:
        self._tasks = [
            asyncio.create_task(self._follow_control(), name=f"{self.key}-control"),
            asyncio.create_task(self._follow_regime(), name=f"{self.key}-regime"),
            asyncio.create_task(self._run_tape(), name=f"{self.key}-tape"),
            asyncio.create_task(self._report_status(), name=f"{self.key}-status"),
        ]
        log.info(
            "%s replica %d/%d: %d symbols (%s); regime at %s; hosted control %s",
            self.service, self.replica, self.replicas, len(self.symbols), ",".join(self.symbols),
            self.regime_addr, "on" if self.hosted_control else f"off (backend {self.settings.backend_mode})",
        )

    async def stop(self) -> None:
        await cancel_and_wait(self._tasks)
        self._tasks.clear()
        # What was published is flushed by the connection's owner (run_service drains it).

    def nats_reconnected(self) -> None:
        """Call from the connection's reconnected callback: re-watch at once (a restarted server
        lost the old watch's consumer; waiting for its heartbeat check takes ~15 s)."""
        self._control.rewatch()

    # -- control --------------------------------------------------------------------------------

    async def _connection(self) -> NatsClient:
        return self.nc

    def _apply(self, control: SyntheticControlState, revision: int | None) -> None:
        changed = (control, revision or 0) != (self.control, self.status.applied_revision)
        self.control = control
        self.timeline = self._book.add(control)
        self.status.applied_revision = revision or 0
        self.metrics.control_revision.set(self.status.applied_revision)
        if changed:
            log.info("%s applies control %s (revision %s)", self.key, control.preset_id.value, revision or 0)
            self._status_kick.set()
        self.control_ready.set()

    async def _follow_control(self) -> None:
        if not self.hosted_control:
            log.warning(
                "backend mode is %s (OPTIONS_ADAPTER=%s, EQUITIES_ADAPTER=%s): hosted synthetic control "
                "does not apply; running with the default control",
                self.settings.backend_mode, self.settings.options_adapter, self.settings.equities_adapter,
            )
            self._apply(DEFAULT_CONTROL, None)
            return
        await self._control.run()

    # -- regime stream ---------------------------------------------------------------------------

    async def _follow_regime(self) -> None:
        await follow_regime_stream(self.regime_addr, self.settings.regime_stream_interval_ms,
                                   self._on_snapshot, self.regime_connected, self.key,
                                   lambda up: self.metrics.regime_connected.set(1 if up else 0))

    def _on_snapshot(self, msg: regime_pb2.SessionSnapshot) -> None:
        snapshot = wire.session_snapshot_from_proto(msg)
        self.status.session = snapshot.session
        self.status.snapshot_revision = snapshot.control_revision
        self._snapshot_wall = self.wall_clock()
        self.metrics.stream_lag_ms.set(self.clock.ts(self._snapshot_wall) - snapshot.session.ts)

    # -- the tape -------------------------------------------------------------------------------

    async def _run_tape(self) -> None:
        await self.control_ready.wait()
        start = self.clock.ts(self.wall_clock())
        # Built off the loop: the first engine call for a day builds its paths.
        given = self.timeline
        self.tape = await asyncio.to_thread(self.tape_factory, given, self.symbols, self.universe, start)
        self._take_counts()
        self._cursor = start
        period = self.step_wall_ms / 1000.0
        max_span = max(MIN_CATCHUP_MS, int(MAX_CATCHUP_STEPS * self.step_wall_ms * self.clock.speed))
        loop = asyncio.get_running_loop()
        next_due = loop.time()
        last_wall = self.wall_clock()
        while True:
            next_due += period
            wall = self.wall_clock()
            now_ts = self.clock.ts(wall)
            if now_ts > self._cursor:
                # A stall is measured in wall time: the session clock's own jump from one close
                # to the next open is not one (the generators cross the night cheaply).
                stalled = (wall - last_wall) * self.clock.speed
                if stalled > max_span and now_ts - self._cursor > max_span:
                    skipped = now_ts - max_span - self._cursor
                    self.metrics.skipped_ms.inc(skipped)
                    log.warning("%s: tape %d ms behind the session clock; skipping ahead", self.key, skipped)
                    self._cursor = now_ts - max_span
                began = time.perf_counter()
                if self.timeline != given:
                    given = self.timeline
                    self.tape.set_control(given)
                # Off the loop: a step under a new control or on a new day builds the day's paths
                # (seconds of CPU); the control watch and the status reports must not wait for it.
                messages = await asyncio.to_thread(self.tape.step, self._cursor, now_ts)
                self._take_counts()
                self._cursor = now_ts
                last_wall = wall
                await self._publish(messages)
                self.metrics.step_seconds.observe(time.perf_counter() - began)
            # In wall time scaled by speed, so the clock's jump over the night never reads as lag.
            self.metrics.step_lag_ms.set(max(0, (self.wall_clock() - last_wall) * self.clock.speed))
            # A fixed cadence; when a step overruns, the next one starts at once and covers more.
            delay = next_due - loop.time()
            if delay < 0:
                next_due = loop.time()
                delay = 0
            await asyncio.sleep(delay)

    async def _publish(self, messages: list[tuple[int, str, bytes]]) -> None:
        if not messages:
            return
        if not self.nc.is_connected:
            # Live market data: a tape that missed an outage moves on rather than replaying it.
            self.status.dropped += len(messages)
            self.metrics.dropped.inc(len(messages))
            return
        sent = 0
        try:
            for _ts, subject, payload in messages:
                await self.nc.publish(subject, payload)
                sent += 1
        except Exception as exc:  # noqa: BLE001 - connection lost mid-batch
            lost = len(messages) - sent
            self.status.dropped += lost
            self.metrics.dropped.inc(lost)
            log.debug("%s: publish failed after %d messages: %s", self.key, sent, exc)
        if sent:
            self.status.published += sent
            self.status.last_publish_ts = messages[sent - 1][0]
            self.metrics.published.inc(sent)
            self.publishing.set()

    # -- status ---------------------------------------------------------------------------------

    def _take_counts(self) -> None:
        # Between steps, on the loop: a report never reads a tape while a step runs on it.
        assert self.tape is not None
        self.status.hit_counts = self.tape.hit_counts()
        self.metrics.coverage_debt.set(self.tape.coverage_debt())

    def report(self) -> status_pb2.StatusReport:
        session = self.status.session
        return status_pb2.StatusReport(
            service=self.service,
            replica=str(self.replica),
            applied_control_revision=self.status.applied_revision,
            profile_hit_counts={k: int(v) for k, v in self.status.hit_counts.items()},
            session_phase=session.session_phase.value if session else "",
            regime=session.regime.value if session else "",
            focus_symbols=list(session.focus_symbols) if session else [],
            last_publish_ts=self.status.last_publish_ts,
            prints_published=self.status.published,
            control_timeline=self._timeline_today(),
        )

    def _timeline_today(self) -> str:
        day = trading_day_for(self.clock.ts(self.wall_clock()))
        return describe_day(self.timeline, day.open_ms, day.close_ms)

    async def _report_status(self) -> None:
        kv: KeyValue | None = None
        loop = asyncio.get_running_loop()
        last_time, last_count = loop.time(), 0
        while True:
            # asyncio.timeout, not wait_for: on 3.11 wait_for loses a cancel that lands as the
            # kick fires, and this task would then outlive stop().
            try:
                async with asyncio.timeout(self.status_interval_s):
                    await self._status_kick.wait()
            except TimeoutError:
                pass
            self._status_kick.clear()
            now = loop.time()
            if now - last_time >= self.status_interval_s * 0.5:
                self.metrics.publish_rate.set((self.status.published - last_count) / (now - last_time))
                last_time, last_count = now, self.status.published
            if not self.nc.is_connected:
                continue
            try:
                if kv is None:
                    kv = await ensure_status_bucket(self.nc.jetstream(timeout=2), self.status_bucket)
                await kv.put(self.key, self.report().SerializeToString())
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - the next period retries (re-creating the bucket)
                kv = None
                log.debug("%s: status report failed: %s", self.key, exc)
