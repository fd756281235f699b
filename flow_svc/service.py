"""The live flow service: option prints from NATS through the classifier into the SMART_MONEY stream.

Started mid-session with a print history (see ``flow_svc.backfill``), it first replays the session
from the open and publishes what the stream lacks, then joins the live tape where the replay ended.
"""

from __future__ import annotations

import asyncio
import collections
import datetime as dt
import logging
import time

from nats.aio.client import Client as NatsClient
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription
from nats.js.client import JetStreamContext
from nats.js.kv import KeyValue

from flow_svc.backfill import STORED_ORDER_SLACK_MS, PrintHistory, PrintSteps, StoredTail, not_yet_stored, replay
from flow_svc.classifier import SmartMoneyClassifier
from flow_svc.metrics import FlowMetrics
from synthmarket import engine, names, wire
from synthmarket.domain.calendar import EXCHANGE_TZ, trading_day_for
from synthmarket.domain.control import DEFAULT_CONTROL, SyntheticControlState
from synthmarket.domain.control_timeline import Control, TimelineBook, describe_day
from synthmarket.domain.marketdata import EquityQuote, EquityTrade, OptionPrint, SmartMoneyEvent
from synthmarket.domain.session_clock import SessionClock
from synthmarket.infra.backoff import Backoff
from synthmarket.infra.control_follower import ControlFollower
from synthmarket.infra.control_store import ensure_status_bucket
from synthmarket.infra.metrics import MetricsRegistry
from synthmarket.infra.streams import ensure_smart_money_stream, newest_events
from synthmarket.infra.tasks import cancel_and_wait
from synthmarket.infra.wallclock import WallClock, wall_ms
from synthmarket.settings import Settings
from synthmarket.v1 import market_pb2, status_pb2

log = logging.getLogger(__name__)

MSG_ID_HEADER = "Nats-Msg-Id"
SERVICE = "flow_svc"
# Tape time is extrapolated from the last print; a print may reach us this much (wall) later than
# the one before it and still be in order for the classifier (the ingest services publish a step
# of prints every 100 ms).
ARRIVAL_SLACK_MS = 250
STATUS_INTERVAL_S = 1.0
# Live prints that arrive while the session so far is replayed wait here (oldest dropped past this).
MAX_HELD_PRINTS = 200_000
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


class FlowService:
    """Wires NATS, the control entry and the classifier; all classifier calls run on one loop
    (or, during the replay at start, on one worker thread while the loop only holds prints)."""

    def __init__(
        self,
        settings: Settings,
        nc: NatsClient,
        *,
        history: PrintHistory | None = None,
        classifier: SmartMoneyClassifier | None = None,
        metrics: MetricsRegistry | None = None,
        wall_clock: WallClock = wall_ms,
        max_pending: int = MAX_PENDING_EVENTS,
        status_interval_s: float = STATUS_INTERVAL_S,
        control_bucket: str = names.CONTROL_BUCKET,
    ) -> None:
        self.settings = settings
        self.nc = nc
        self.js: JetStreamContext = nc.jetstream(timeout=5)
        self.universe = tuple(settings.symbols)
        self.history = history
        self.classifier = classifier or SmartMoneyClassifier(event_symbol_source=self._event_symbols)
        self.registry = metrics or MetricsRegistry(SERVICE)
        self.metrics = FlowMetrics.create(self.registry)
        self.wall_clock = wall_clock
        self.session_clock = SessionClock(speed=settings.speed)
        self.tape_clock = TapeClock(settings.speed)
        self.status_interval_s = status_interval_s
        self.hosted_control = settings.backend_mode == "synthetic"
        self.control: SyntheticControlState = DEFAULT_CONTROL
        self._book = TimelineBook(self.session_clock.ts, DEFAULT_CONTROL)
        self.timeline: Control = DEFAULT_CONTROL    # the control entry's revisions, in session time
        self.control_revision = 0
        self.control_ready = asyncio.Event()
        self.live = asyncio.Event()     # the replay (if any) is published and live prints flow
        self.published = 0
        self.last_event_ts = 0
        self._queue: asyncio.Queue[tuple[SmartMoneyEvent, bool]] = asyncio.Queue(maxsize=max_pending)
        self._subs: list[Subscription] = []
        self._tasks: list[asyncio.Task] = []
        self._dropped = 0
        self._follower = ControlFollower(self._connection, self._apply, SERVICE, control_bucket, history=True)
        self._held: collections.deque[OptionPrint] | None = None
        self._gap_tape: PrintSteps | None = None    # the replay's tape, until the first live print
        self._join_ts: int | None = None            # live prints older than this were replayed

    # -- lifecycle ----------------------------------------------------------------------------

    async def start(self) -> None:
        await ensure_smart_money_stream(self.js, self.settings.smart_money_retention_hours)
        self._tasks.append(asyncio.create_task(self._follow_control(), name="flow-control"))
        await self.control_ready.wait()
        self._held = collections.deque(maxlen=MAX_HELD_PRINTS)
        # Each subscription's callbacks run one at a time in arrival order, as the classifier needs.
        self._subs.append(await self.nc.subscribe(names.ALL_OPTION_PRINTS, cb=self._on_print))
        self._subs.append(await self.nc.subscribe(names.ALL_EQUITY_TRADES, cb=self._on_trade))
        self._subs.append(await self.nc.subscribe(names.ALL_EQUITY_QUOTES, cb=self._on_quote))
        await self.nc.flush()
        self._tasks += [
            asyncio.create_task(self._publisher(), name="flow-publisher"),
            asyncio.create_task(self._flusher(), name="flow-flusher"),
            asyncio.create_task(self._report_status(), name="flow-status"),
        ]
        if self.history is not None:
            await self._replay_session_so_far()
        held, self._held = self._held, None
        self.live.set()
        for p in held:
            self._classify(p)
        log.info("flow service consuming %s", names.ALL_OPTION_PRINTS)

    async def _replay_session_so_far(self) -> None:
        assert self.history is not None
        began = time.perf_counter()
        now = self.session_clock.ts(self.wall_clock())
        open_ms = trading_day_for(now).open_ms
        tape = await asyncio.to_thread(self.history, self.timeline, self.universe, open_ms)
        events = await asyncio.to_thread(replay, self.classifier, tape, open_ms, now)
        stored = await newest_events(self.js, STORED_ORDER_SLACK_MS)
        tail = StoredTail(stored[0].ts, frozenset(e.event_id for e in stored)) if stored else StoredTail()
        fresh = not_yet_stored(events, tail)
        for event in fresh:
            self._put(event, live=False)
        await self._queue.join()
        self.metrics.replayed_events.inc(len(fresh))
        self._gap_tape, self._join_ts = tape, now
        log.info("replayed the session from the open to %s: %d events, %d published (%.1fs)",
                 _hhmm(now), len(events), len(fresh), time.perf_counter() - began)

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
        if self._held is not None:
            self._held.append(p)        # the replay owns the classifier until it is done
        else:
            self._classify(p)

    def _classify(self, p: OptionPrint) -> None:
        if self._join_ts is not None and p.ts < self._join_ts:
            return                      # the replay had it
        events: list[SmartMoneyEvent] = []
        try:
            if self._gap_tape is not None:
                # Prints between the replay's end and the first live one were published before we
                # listened, or not at all (the options service started later): the tape has them.
                for q in self._gap_tape.step(self._join_ts or p.ts, p.ts):
                    events.extend(self.classifier.observe(q))
                self._gap_tape, self._join_ts = None, p.ts
            wall = self.wall_clock()
            self.tape_clock.observe(p.ts, wall)
            self.metrics.lag_ms.set(self.session_clock.ts(wall) - p.ts)
            events.extend(self.classifier.observe(p))
        except Exception:
            self.metrics.classifier_errors.inc()
            log.exception("classifier failed on print %s", p.id)
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
        if not self.live.is_set():
            return      # context is the latest trade and quote only; the replay owns the classifier
        try:
            self.classifier.observe_equity(update)
        except Exception:
            self.metrics.classifier_errors.inc()
            log.exception("classifier failed on equity update for %s", update.symbol)

    def _enqueue(self, events: list[SmartMoneyEvent]) -> None:
        for event in events:
            self._put(event, live=True)
        self.metrics.publish_queue.set(self._queue.qsize())
        self.metrics.open_clusters.set(self.classifier.open_clusters)

    def _put(self, event: SmartMoneyEvent, live: bool) -> None:
        if self._queue.full():
            self._drop_oldest()
        self._queue.put_nowait((event, live))

    def _drop_oldest(self) -> None:
        dropped, _ = self._queue.get_nowait()
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
            if now_ts is None or not self.live.is_set():
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
            event, live = await self._queue.get()
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
                self.published += 1
                self.last_event_ts = max(self.last_event_ts, event.ts)
                self.metrics.events_published.labels(event.profile_id).inc()
                if live:
                    lag_ms = self.session_clock.ts(self.wall_clock()) - event.ts
                    self.metrics.event_lag.observe(max(0, lag_ms) / 1000.0)
            self._queue.task_done()
            self.metrics.publish_queue.set(self._queue.qsize())

    # -- control and status -------------------------------------------------------------------

    async def _connection(self) -> NatsClient:
        return self.nc

    def _apply(self, control: SyntheticControlState, revision: int | None) -> None:
        if (control, revision or 0) != (self.control, self.control_revision):
            log.info("flow_svc applies control %s (revision %s)", control.preset_id.value, revision or 0)
        self.control, self.control_revision = control, revision or 0
        self.timeline = self._book.add(control)
        self.control_ready.set()

    async def _follow_control(self) -> None:
        if not self.hosted_control:
            self._apply(DEFAULT_CONTROL, None)
            return
        await self._follower.run()

    def nats_reconnected(self) -> None:
        """Call from the connection's reconnected callback (see ``ControlFollower.rewatch``)."""
        self._follower.rewatch()

    def _event_symbols(self, ts: int) -> tuple[str, ...]:
        # The pure engine under the control in force: the same answer the replay and every
        # other process get, without a round trip.
        return engine.get_session_state(ts, self.timeline, self.universe).event_symbols

    def report(self) -> status_pb2.StatusReport:
        day = trading_day_for(self.session_clock.ts(self.wall_clock()))
        return status_pb2.StatusReport(
            service=SERVICE, replica="0", applied_control_revision=self.control_revision,
            last_publish_ts=self.last_event_ts, prints_published=self.published,
            control_timeline=describe_day(self.timeline, day.open_ms, day.close_ms),
        )

    async def _report_status(self) -> None:
        """The status entry says the service is live (written first once the replay is published)."""
        await self.live.wait()
        kv: KeyValue | None = None
        while True:
            try:
                if kv is None:
                    kv = await ensure_status_bucket(self.nc.jetstream(timeout=2))
                await kv.put(names.status_key(SERVICE), self.report().SerializeToString())
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - the next period retries (re-creating the bucket)
                kv = None
                log.debug("flow_svc: status report failed: %s", exc)
            await asyncio.sleep(self.status_interval_s)


def _hhmm(ts: int) -> str:
    return dt.datetime.fromtimestamp(ts / 1000, EXCHANGE_TZ).strftime("%Y-%m-%d %H:%M:%S")


async def start_flow_service(settings: Settings, nc: NatsClient, **kwargs) -> FlowService:
    """Build and start a ``FlowService`` (see its constructor for the keyword arguments)."""
    service = FlowService(settings, nc, **kwargs)
    await service.start()
    return service
