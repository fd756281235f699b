"""The live flow service: option prints from NATS through the classifier into the SMART_MONEY stream."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from nats.aio.client import Client as NatsClient
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription
from nats.js.client import JetStreamContext
from prometheus_client import Counter, Gauge

from flow_svc.classifier import SmartMoneyClassifier
from synthmarket import names, wire
from synthmarket.domain.marketdata import EquityQuote, EquityTrade, SmartMoneyEvent
from synthmarket.domain.session_clock import SessionClock
from synthmarket.infra.backoff import Backoff
from synthmarket.infra.metrics import MetricsRegistry
from synthmarket.infra.regime_stream import follow_regime_stream
from synthmarket.infra.streams import ensure_smart_money_stream
from synthmarket.infra.tasks import cancel_and_wait
from synthmarket.infra.wallclock import WallClock, wall_ms
from synthmarket.settings import Settings
from synthmarket.v1 import market_pb2, regime_pb2

log = logging.getLogger(__name__)

MSG_ID_HEADER = "Nats-Msg-Id"
# Tape time is extrapolated from the last print; a print may reach us this much (wall) later than
# the one before it and still be in order for the classifier.
ARRIVAL_SLACK_MS = 500
# Between regime snapshots: the service only needs the event calendar, which changes slowly.
# Events waiting for a JetStream ack. While JetStream refuses writes (say, the store is full) the
# classifier keeps producing; past this many the oldest are dropped (and counted) so the service's
# memory stays bounded (an event is well under a kilobyte); a normal ack backlog is a handful.
MAX_PENDING_EVENTS = 50_000



class TapeClock:
    """"Now" in tape time, extrapolated from the newest print at the configured speed.

    Flushing by the tape's own time (not the wall clock) keeps the classifier's promise that no
    older print follows, even when the publisher's clock or speed differs from ours.
    """

    def __init__(self, speed: float, slack_ms: int = ARRIVAL_SLACK_MS) -> None:
        self.speed = speed
        self.slack_ms = slack_ms
        self.last_ts: int | None = None
        self._last_wall: int = 0

    def observe(self, ts: int, wall: int) -> None:
        if self.last_ts is None or ts >= self.last_ts:
            self.last_ts, self._last_wall = ts, wall

    def now(self, wall: int) -> int | None:
        if self.last_ts is None:
            return None
        elapsed = max(0, wall - self._last_wall - self.slack_ms)
        return self.last_ts + int(elapsed * self.speed)


@dataclass
class FlowMetrics:
    prints_consumed: Counter
    prints_rejected: Counter
    equity_updates: Counter
    events_published: Counter
    events_duplicate: Counter
    publish_errors: Counter
    events_dropped: Counter
    classifier_errors: Counter
    publish_queue: Gauge
    lag_ms: Gauge
    open_clusters: Gauge
    regime_connected: Gauge

    @classmethod
    def create(cls, registry: MetricsRegistry) -> FlowMetrics:
        return cls(
            prints_consumed=registry.counter("prints_consumed", "Option prints read from NATS"),
            prints_rejected=registry.counter("prints_rejected", "Messages that did not decode as OptionPrint"),
            equity_updates=registry.counter("equity_updates", "Equity trades and quotes read for context"),
            events_published=registry.counter(
                "events_published", "Smart-money events stored in JetStream", ["profile_id"]
            ),
            events_duplicate=registry.counter(
                "events_duplicate", "Publishes JetStream dropped as duplicates (same event id)"
            ),
            publish_errors=registry.counter("publish_errors", "Failed publish attempts (retried)"),
            events_dropped=registry.counter(
                "events_dropped", "Oldest unpublished events dropped while the publish queue was full"
            ),
            classifier_errors=registry.counter("classifier_errors", "Prints or flushes the classifier failed on"),
            publish_queue=registry.gauge("publish_queue", "Events waiting to be published"),
            lag_ms=registry.gauge("lag_ms", "Session-clock now minus the newest print's ts (ms of tape time)"),
            open_clusters=registry.gauge("open_clusters", "Clusters the classifier holds open"),
            regime_connected=registry.gauge("regime_connected", "1 while the regime stream is up"),
        )


class FlowService:
    """Wires NATS, the regime stream and the classifier; all classifier calls run on one loop."""

    def __init__(
        self,
        settings: Settings,
        nc: NatsClient,
        *,
        regime_addr: str | None = None,
        classifier: SmartMoneyClassifier | None = None,
        metrics: MetricsRegistry | None = None,
        wall_clock: WallClock = wall_ms,
        max_pending: int = MAX_PENDING_EVENTS,
    ) -> None:
        self.settings = settings
        self.nc = nc
        self.js: JetStreamContext = nc.jetstream(timeout=5)
        self.regime_addr = regime_addr or settings.regime_grpc_addr
        self.classifier = classifier or SmartMoneyClassifier()
        self.registry = metrics or MetricsRegistry("flow_svc")
        self.metrics = FlowMetrics.create(self.registry)
        self.wall_clock = wall_clock
        self.session_clock = SessionClock(speed=settings.speed)
        self.tape_clock = TapeClock(settings.speed)
        self._queue: asyncio.Queue[SmartMoneyEvent] = asyncio.Queue(maxsize=max_pending)
        self._subs: list[Subscription] = []
        self._tasks: list[asyncio.Task] = []
        self._dropped = 0
        self.regime_connected = asyncio.Event()
        self.event_symbols: tuple[str, ...] = ()

    # -- lifecycle ----------------------------------------------------------------------------

    async def start(self) -> None:
        await ensure_smart_money_stream(self.js, self.settings.smart_money_retention_hours)
        # Each subscription's callbacks run one at a time in arrival order, as the classifier needs.
        self._subs.append(await self.nc.subscribe(names.ALL_OPTION_PRINTS, cb=self._on_print))
        self._subs.append(await self.nc.subscribe(names.ALL_EQUITY_TRADES, cb=self._on_trade))
        self._subs.append(await self.nc.subscribe(names.ALL_EQUITY_QUOTES, cb=self._on_quote))
        await self.nc.flush()
        self._tasks = [
            asyncio.create_task(self._publisher(), name="flow-publisher"),
            asyncio.create_task(self._flusher(), name="flow-flusher"),
            asyncio.create_task(self._follow_regime(), name="flow-regime-stream"),
        ]
        log.info("flow service consuming %s; regime at %s", names.ALL_OPTION_PRINTS, self.regime_addr)

    async def stop(self, grace: float = 5.0) -> None:
        for sub in self._subs:
            try:
                await sub.unsubscribe()
            except Exception:  # noqa: BLE001 - the connection may already be gone
                pass
        self._subs.clear()
        # Give queued events a chance to land before the publisher goes.
        try:
            async with asyncio.timeout(grace):
                await self._queue.join()
        except TimeoutError:
            log.warning("stopping with %d unpublished events", self._queue.qsize())
        # Bounded: a publish stuck on a dead connection must not hold up a shutdown.
        await cancel_and_wait(self._tasks, grace)
        self._tasks.clear()

    # -- NATS input ---------------------------------------------------------------------------

    async def _on_print(self, msg: Msg) -> None:
        try:
            p = wire.option_print_from_proto(market_pb2.OptionPrint.FromString(msg.data))
        except Exception as exc:  # noqa: BLE001 - a bad message must not stop the tape
            self.metrics.prints_rejected.inc()
            log.warning("dropping undecodable option print on %s: %s", msg.subject, exc)
            return
        self.metrics.prints_consumed.inc()
        wall = self.wall_clock()
        self.tape_clock.observe(p.ts, wall)
        self.metrics.lag_ms.set(self.session_clock.ts(wall) - p.ts)
        try:
            events = self.classifier.observe(p)
        except Exception:
            self.metrics.classifier_errors.inc()
            log.exception("classifier failed on print %s", p.id)
            return
        self._enqueue(events)

    async def _on_trade(self, msg: Msg) -> None:
        try:
            trade = wire.equity_trade_from_proto(market_pb2.EquityTrade.FromString(msg.data))
        except Exception as exc:  # noqa: BLE001
            log.debug("dropping undecodable equity trade: %s", exc)
            return
        self._observe_equity(trade)

    async def _on_quote(self, msg: Msg) -> None:
        try:
            quote = wire.equity_quote_from_proto(market_pb2.EquityQuote.FromString(msg.data))
        except Exception as exc:  # noqa: BLE001
            log.debug("dropping undecodable equity quote: %s", exc)
            return
        self._observe_equity(quote)

    def _observe_equity(self, update: EquityTrade | EquityQuote) -> None:
        self.metrics.equity_updates.inc()
        try:
            self.classifier.observe_equity(update)
        except Exception:
            self.metrics.classifier_errors.inc()
            log.exception("classifier failed on equity update for %s", update.symbol)

    def _enqueue(self, events: list[SmartMoneyEvent]) -> None:
        for event in events:
            if self._queue.full():
                self._drop_oldest()
            self._queue.put_nowait(event)
        self.metrics.publish_queue.set(self._queue.qsize())
        self.metrics.open_clusters.set(self.classifier.open_clusters)

    def _drop_oldest(self) -> None:
        dropped = self._queue.get_nowait()
        self._queue.task_done()
        self.metrics.events_dropped.inc()
        self._dropped += 1
        # One line per thousand, not per event: the condition lasts as long as JetStream refuses.
        if self._dropped % 1000 == 1:
            log.warning("publish queue full (%d events); dropped %d so far, latest %s",
                        self._queue.maxsize, self._dropped, dropped.event_id)

    # -- timers -------------------------------------------------------------------------------

    async def _flusher(self) -> None:
        period = max(self.settings.flow_flush_interval_ms, 10) / 1000.0
        while True:
            await asyncio.sleep(period)
            now_ts = self.tape_clock.now(self.wall_clock())
            if now_ts is None:
                continue
            try:
                events = self.classifier.flush(now_ts)
            except Exception:
                self.metrics.classifier_errors.inc()
                log.exception("classifier flush failed at ts %s", now_ts)
                continue
            self._enqueue(events)

    async def _publisher(self) -> None:
        while True:
            event = await self._queue.get()
            backoff = Backoff()
            data = wire.smart_money_event_to_proto(event).SerializeToString()
            while True:
                try:
                    ack = await self.js.publish(
                        names.SMART_MONEY_SUBJECT, data, headers={MSG_ID_HEADER: event.event_id}
                    )
                    break
                except asyncio.CancelledError:
                    raise
                except Exception as exc:  # noqa: BLE001 - retry: the msg id makes it idempotent
                    self.metrics.publish_errors.inc()
                    delay = backoff.next_delay()
                    log.warning("publishing %s failed (%s); retrying in %.2fs", event.event_id, exc, delay)
                    await asyncio.sleep(delay)
            if ack.duplicate:
                self.metrics.events_duplicate.inc()
            else:
                self.metrics.events_published.labels(event.profile_id).inc()
            self._queue.task_done()
            self.metrics.publish_queue.set(self._queue.qsize())

    # -- regime stream ------------------------------------------------------------------------

    async def _follow_regime(self) -> None:
        """Keep the classifier's event calendar current from the regime stream, reconnecting."""
        await follow_regime_stream(self.regime_addr, self.settings.regime_stream_interval_ms,
                                   self._on_snapshot, self.regime_connected, "flow_svc",
                                   lambda up: self.metrics.regime_connected.set(1 if up else 0))

    def _on_snapshot(self, snapshot: regime_pb2.SessionSnapshot) -> None:
        self.event_symbols = tuple(snapshot.session.event_symbols)
        self.classifier.set_event_symbols(snapshot.session.ts, self.event_symbols)


async def start_flow_service(settings: Settings, nc: NatsClient, **kwargs) -> FlowService:
    """Build and start a ``FlowService`` (see its constructor for the keyword arguments)."""
    service = FlowService(settings, nc, **kwargs)
    await service.start()
    return service
