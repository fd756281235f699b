"""The gateway's clients: NATS (control KV, status KV, smart-money stream) and regime_svc over gRPC.

Views are synchronous (WSGI); every NATS call runs on one asyncio loop in a background thread
(``AsyncBridge``). Every failure to reach a dependency surfaces as ``Unavailable`` (HTTP 503).
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Coroutine, Iterator
from typing import Any, TypeVar

import grpc
from nats.aio.client import Client
from nats.errors import Error as NatsError
from nats.js import JetStreamContext
from nats.js.api import ConsumerConfig, DeliverPolicy
from nats.js.errors import NoStreamResponseError, NotFoundError, ServiceUnavailableError
from nats.js.kv import KeyValue

from admin_gateway.bridge import AsyncBridge, BridgeTimeout
from admin_gateway.errors import Unavailable
from admin_gateway.events_cache import CachedEvent, EventsCache
from admin_gateway.history import HistoryPage, decode_event, history_page, time_ordered
from admin_gateway.params import EventFilter, HistoryQuery, ReplayQuery, decode_cursor
from synthmarket.domain.control import SyntheticControlState, SyntheticDerivedStatus
from synthmarket.domain.profiles import PUBLIC_PROFILE_IDS
from synthmarket.infra.control_store import AbsenceLog, ensure_control_bucket, load_control, write_control
from synthmarket.infra.nats_connection import connect, identity
from synthmarket.infra.status_reports import read_status_reports
from synthmarket.names import CONTROL_BUCKET, SMART_MONEY_STREAM, SMART_MONEY_SUBJECT, STATUS_BUCKET
from synthmarket.settings import Settings
from synthmarket.v1 import regime_pb2, regime_pb2_grpc, status_pb2
from synthmarket.wire import SessionSnapshot, WireError, session_snapshot_from_proto

log = logging.getLogger(__name__)
T = TypeVar("T")

REPLAY_PAGE = 500
# The regime channel lives as long as the gateway. gRPC's default reconnect backoff grows to two
# minutes while the regime server is down, so derived status would stay "unavailable" that long
# after it is back; capped at a second, status recovers within about a second.
REGIME_CHANNEL_OPTIONS = (
    ("grpc.initial_reconnect_backoff_ms", 250),
    ("grpc.min_reconnect_backoff_ms", 250),
    ("grpc.max_reconnect_backoff_ms", 1000),
)


# JetStream answers (and a write is acknowledged) only through a leader that a majority of the
# data's replicas elected: a cluster that lost its quorum answers so, or not at all.
NO_LEADER_HINT = ("a NATS cluster without a majority of its nodes running has no JetStream leader; "
                  "it elects one within seconds once they are back")


class GatewayClients:
    """Connections the views use. ``start()`` begins connecting in the background and returns."""

    def __init__(
        self,
        settings: Settings,
        *,
        cache: EventsCache | None = None,
        control_bucket: str = CONTROL_BUCKET,
        status_bucket: str = STATUS_BUCKET,
        stream: str = SMART_MONEY_STREAM,
        subject: str = SMART_MONEY_SUBJECT,
        op_timeout: float = 2.0,
        grpc_timeout: float = 2.0,
    ) -> None:
        self.settings = settings
        self.cache = cache or EventsCache()
        self.control_bucket = control_bucket
        self.status_bucket = status_bucket
        self.stream = stream
        self.subject = subject
        self.op_timeout = op_timeout
        self.grpc_timeout = grpc_timeout
        self._bridge: AsyncBridge | None = None
        self._nc: Client | None = None
        self._js: JetStreamContext | None = None
        self._control_kv: KeyValue | None = None
        # Every admin request loads the control: an absent entry is logged once, not per request.
        self._control_absence = AbsenceLog()
        self._last_nats_error = "not connected yet"
        self._closing = False
        self._channel: grpc.Channel | None = None
        self._channel_lock = threading.Lock()

    # --- lifecycle ---------------------------------------------------------------------------

    def start(self) -> GatewayClients:
        if self._bridge is None:
            self._bridge = AsyncBridge()
            self._bridge.spawn(self._connect_and_feed())
        return self

    def close(self) -> None:
        self._closing = True
        if self._bridge is not None:
            self._bridge.close(self._close_nats())
            self._bridge = None
        with self._channel_lock:
            if self._channel is not None:
                self._channel.close()
                self._channel = None

    async def _close_nats(self) -> None:
        if self._nc is not None and not self._nc.is_closed:
            await self._nc.close()

    async def _connect_and_feed(self) -> None:
        url = self.settings.nats_url
        self._last_nats_error = f"cannot reach NATS at {url} yet"
        while not self._closing:
            try:
                # Waits for the server, then reconnects forever (one warning per outage).
                self._nc = await connect(url, "admin_gateway", on_disconnected=self._on_disconnected,
                                         credentials=identity(self.settings))
                self._js = self._nc.jetstream(timeout=self.op_timeout)
                log.info("connected to NATS at %s", url)
                break
            except Exception as exc:  # noqa: BLE001 - any failure means retry later
                self._last_nats_error = f"cannot connect to NATS at {url}: {exc or type(exc).__name__}"
                await asyncio.sleep(1.0)
        await self._feed_cache()

    def _on_disconnected(self) -> None:
        url = self.settings.nats_url
        self._last_nats_error = f"disconnected from NATS at {url}; reconnecting"
        if "," in url:
            # The server it was on went away: on a cluster, often with others (a lost quorum).
            self._last_nats_error += f" to the other servers of the cluster ({NO_LEADER_HINT})"

    async def _feed_cache(self) -> None:
        """Follow the stream forever, starting with the newest ``cache size`` events."""
        assert self._js is not None
        while not self._closing:
            try:
                try:
                    info = await self._js.stream_info(self.stream)
                except NotFoundError:
                    # No stream yet (flow_svc creates it): no events is the true answer meanwhile.
                    self.cache.primed.set()
                    await asyncio.sleep(1.0)
                    continue
                first, last = info.state.first_seq, info.state.last_seq
                start = max(first, last - self.cache.maxlen + 1, self.cache.last_seq + 1, 1)
                if last < start:
                    self.cache.primed.set()
                config = ConsumerConfig(deliver_policy=DeliverPolicy.BY_START_SEQUENCE, opt_start_seq=start)
                await self._js.subscribe(
                    self.subject, stream=self.stream, ordered_consumer=True, config=config,
                    cb=self._make_feeder(last),
                )
                return
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - retry until the stream can be followed
                log.warning("cannot follow stream %s yet: %s", self.stream, exc)
                await asyncio.sleep(1.0)

    def _make_feeder(self, caught_up_at: int):
        async def on_msg(msg: Any) -> None:
            seq = msg.metadata.sequence.stream
            event = decode_event(msg.data)
            if event is not None:
                self.cache.add(seq, event)
            if seq >= caught_up_at:
                self.cache.primed.set()

        return on_msg

    # --- plumbing ----------------------------------------------------------------------------

    def _run(self, coro: Coroutine[Any, Any, T], timeout: float | None = None) -> T:
        """Run a NATS coroutine; anything short of an answer becomes ``Unavailable``."""
        nc = self._nc
        if self._bridge is None or nc is None or self._js is None or not nc.is_connected:
            coro.close()
            raise Unavailable(f"NATS unavailable: {self._last_nats_error}")
        try:
            return self._bridge.run(coro, timeout or self.op_timeout * 2)
        except (BridgeTimeout, TimeoutError) as exc:
            raise Unavailable(f"NATS did not answer in time: {exc} ({NO_LEADER_HINT})") from None
        except (NoStreamResponseError, ServiceUnavailableError) as exc:
            raise Unavailable(f"JetStream has no leader for the data: {exc or type(exc).__name__} "
                              f"({NO_LEADER_HINT})") from None
        except (NatsError, ConnectionError, OSError) as exc:
            raise Unavailable(f"NATS request failed: {exc or type(exc).__name__}") from None

    @property
    def nats_connected(self) -> bool:
        return self._nc is not None and self._nc.is_connected

    async def _control_bucket(self) -> KeyValue:
        if self._control_kv is None:
            assert self._js is not None
            self._control_kv = await ensure_control_bucket(self._js, self.control_bucket)
        return self._control_kv

    # --- control -----------------------------------------------------------------------------

    def load_control(self) -> tuple[SyntheticControlState, int | None]:
        async def go() -> tuple[SyntheticControlState, int | None]:
            return await load_control(await self._control_bucket(), absence=self._control_absence)

        return self._run(go())

    def write_control(self, state: SyntheticControlState, expected_revision: int | None) -> int:
        """New revision; raises ``synthmarket.infra.control_store.RevisionConflict`` on a CAS miss."""

        async def go() -> int:
            return await write_control(await self._control_bucket(), state, expected_revision)

        return self._run(go())

    # --- derived status ----------------------------------------------------------------------

    def status_reports(self) -> list[status_pb2.StatusReport]:
        async def go() -> list[status_pb2.StatusReport]:
            assert self._js is not None
            reports = await read_status_reports(self._js, self.status_bucket)
            return [report for report, _ in reports.values()]

        return self._run(go())

    def _regime_stub(self) -> regime_pb2_grpc.RegimeServiceStub:
        with self._channel_lock:
            if self._channel is None:
                self._channel = grpc.insecure_channel(self.settings.regime_grpc_addr, options=REGIME_CHANNEL_OPTIONS)
            return regime_pb2_grpc.RegimeServiceStub(self._channel)

    def session_snapshot(self) -> SessionSnapshot:
        """The regime service's current session (ts 0 = its live session clock), or ``Unavailable``."""
        try:
            reply = self._regime_stub().GetSessionState(
                regime_pb2.GetSessionStateRequest(ts=0), timeout=self.grpc_timeout
            )
            return session_snapshot_from_proto(reply)
        except grpc.RpcError as exc:
            code = exc.code().name if hasattr(exc, "code") else "UNKNOWN"
            raise Unavailable(f"regime_svc at {self.settings.regime_grpc_addr} unavailable ({code})") from None
        except WireError as exc:
            raise Unavailable(f"regime_svc at {self.settings.regime_grpc_addr} sent no usable session: {exc}") from None

    def derived_status(self, control: SyntheticControlState) -> SyntheticDerivedStatus:
        """Session from regime_svc plus hit counts summed over the ingest services' reports."""
        snapshot = self.session_snapshot()
        hits = dict.fromkeys(PUBLIC_PROFILE_IDS, 0)
        for report in self.status_reports():
            for profile, count in report.profile_hit_counts.items():
                if profile in hits:
                    hits[profile] += int(count)
        session = snapshot.session
        return SyntheticDerivedStatus(
            session_phase=session.session_phase.value,
            regime=session.regime.value,
            focus_symbols=tuple(session.focus_symbols),
            profile_hit_counts=hits,
            coverage_window_minutes=control.coverage_window_minutes,
        )

    # --- smart-money stream ------------------------------------------------------------------

    def recent_events(self, limit: int, flt: EventFilter) -> list[CachedEvent]:
        if not self.cache.primed.is_set():
            if not self.nats_connected:
                raise Unavailable(f"NATS unavailable: {self._last_nats_error}")
            # Connected but still loading the newest events: wait briefly rather than answer empty.
            if not self.cache.primed.wait(self.op_timeout):
                raise Unavailable("still loading recent events from the stream")
        return self.cache.recent(limit, flt)

    def history(self, query: HistoryQuery) -> HistoryPage:
        async def go() -> HistoryPage:
            assert self._js is not None
            return await history_page(self._js, self.stream, self.subject, query, self.op_timeout)

        return self._run(go(), timeout=self.op_timeout * 5)

    def replay(self, query: ReplayQuery) -> Iterator[CachedEvent]:
        """Every matching event in [start, end], in event-time order, fetched page by page."""
        first = self.history(HistoryQuery(query.start, query.end, REPLAY_PAGE, None, query.filter))

        def pages() -> Iterator[list[CachedEvent]]:
            page = first
            yield page.events
            while page.next_cursor is not None:
                page = self.history(
                    HistoryQuery(query.start, query.end, REPLAY_PAGE, decode_cursor(page.next_cursor), query.filter)
                )
                yield page.events

        return time_ordered(pages())
