"""The web server's NATS feed: option prints, equity trades and quotes, thinned and fanned out to websockets.

One asyncio loop on a daemon thread owns the NATS connection. Message callbacks only update the
pure views in ``market_view`` (under a lock, because websocket threads read snapshots); a flusher
on the same loop turns them into small JSON messages every ``flush_interval_s`` and hands each to
every subscriber's bounded queue. A subscriber that falls behind loses messages and is sent a
fresh snapshot instead, so one slow browser never grows memory or slows the others.
"""

from __future__ import annotations

import asyncio
import json
import logging
import queue
import threading
from dataclasses import dataclass, field
from typing import Any

from nats.js.errors import BucketNotFoundError, NoKeysError, NotFoundError

from synthmarket.domain.control import DEFAULT_CONTROL
from synthmarket.domain.control_timeline import Control
from synthmarket.domain.session_clock import SessionClock
from synthmarket.infra.control_store import AbsenceLog, load_timeline
from synthmarket.infra.nats_connection import connect, identity
from synthmarket.names import (
    ALL_EQUITY_QUOTES,
    ALL_EQUITY_TRADES,
    ALL_OPTION_PRINTS,
    CONTROL_BUCKET,
    EQUITY_QUOTES_PREFIX,
    EQUITY_TRADES_PREFIX,
    OPTION_PRINTS_PREFIX,
    STATUS_BUCKET,
)
from synthmarket.settings import Settings
from synthmarket.v1 import market_pb2, status_pb2
from synthmarket.wire import equity_quote_from_proto, equity_trade_from_proto, option_print_from_proto
from webui.market_view import PrintSampler, SessionView, SymbolBoard, session_view

log = logging.getLogger(__name__)

RECENT_PRINTS = 60          # prints kept for a new browser's first screen
SUBSCRIBER_QUEUE = 64       # messages a browser may lag behind before it is resynced
HEARTBEAT_S = 10.0          # lets an idle browser tell a quiet tape from a dead socket
SESSION_POLL_S = 2.0
CONTROL_POLL_S = 2.0


@dataclass(eq=False)  # identity equality: subscribers live in a set
class Subscription:
    """One browser's inbox. ``get`` returns a JSON text or None after ``timeout``."""

    inbox: queue.Queue[str] = field(default_factory=lambda: queue.Queue(SUBSCRIBER_QUEUE))
    lagged: bool = False
    closed: bool = False  # set by the feed: the browser should reconnect (get() returns "")

    def get(self, timeout: float) -> str | None:
        if self.closed:
            return ""
        try:
            return self.inbox.get(timeout=timeout)
        except queue.Empty:
            return None


def _dumps(message: dict[str, Any]) -> str:
    return json.dumps(message, separators=(",", ":"))


class MarketFeed:
    """Subscribes to the market-data subjects and the status bucket; fans out thinned JSON."""

    def __init__(
        self,
        settings: Settings,
        *,
        status_bucket: str = STATUS_BUCKET,
        control_bucket: str = CONTROL_BUCKET,
        flush_interval_s: float = 0.25,
        prints_per_s: float = 12.0,
        symbols_interval_s: float = 1.0,
        include_regime: bool | None = None,
        control_poll_s: float = CONTROL_POLL_S,
    ) -> None:
        self.settings = settings
        self.status_bucket = status_bucket
        self.control_bucket = control_bucket
        # The control in force, for the engine's views (charts, prior closes, catalysts). Like the
        # ingest services: defaults unless both adapters are synthetic, and until the entry is read.
        self.control: Control = DEFAULT_CONTROL
        self._session_ts = SessionClock(speed=settings.speed).ts    # stamps the entry's revisions
        self.hosted_control = settings.backend_mode == "synthetic"
        self.control_poll_s = control_poll_s
        self.flush_interval_s = flush_interval_s
        self.include_regime = settings.public_synthetic_admin if include_regime is None else include_regime
        self.sampler = PrintSampler(max(1, round(prints_per_s * flush_interval_s)))
        # Symbol rows carry whole sparklines, so they go out less often than prints.
        self.symbols_every = max(1, round(symbols_interval_s / flush_interval_s))
        self._flushes = 0
        self.board = SymbolBoard()
        self.session = SessionView()
        self.recent: list[dict[str, Any]] = []
        self.decode_errors = 0
        self._lock = threading.Lock()
        self._subs: set[Subscription] = set()
        self._subs_lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._nc: Any = None
        self._closing = False
        self.connected = threading.Event()

    # --- lifecycle -----------------------------------------------------------------------------

    def start(self) -> MarketFeed:
        if self._thread is not None:
            return self
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run_loop, name="webui-market", daemon=True)
        self._thread.start()
        return self

    def _run_loop(self) -> None:
        assert self._loop is not None
        asyncio.set_event_loop(self._loop)
        self._loop.create_task(self._main())
        self._loop.run_forever()

    def close(self, timeout: float = 5.0) -> None:
        self._closing = True
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return

        async def shutdown() -> None:
            if self._nc is not None and not self._nc.is_closed:
                try:
                    await self._nc.close()
                except Exception:  # noqa: BLE001 - best effort while shutting down
                    pass
            self.connected.clear()  # a deliberate close reports no outage, so the hook does not run
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

        try:
            asyncio.run_coroutine_threadsafe(shutdown(), loop).result(timeout)
        except Exception:  # noqa: BLE001
            pass
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout)
        self._thread = None

    async def _main(self) -> None:
        url = self.settings.nats_url
        while not self._closing:
            try:
                # Waits for the server, then reconnects forever (one warning per outage).
                self._nc = await connect(url, "webui", on_disconnected=self._on_disconnected,
                                         on_reconnected=self._on_reconnected, credentials=identity(self.settings))
                break
            except Exception as exc:  # noqa: BLE001 - keep trying; the page shows the feed as down
                log.warning("market feed cannot reach NATS at %s yet: %s", url, exc)
                await asyncio.sleep(1.0)
        if self._closing:
            return
        for subject in (ALL_OPTION_PRINTS, ALL_EQUITY_TRADES, ALL_EQUITY_QUOTES):
            await self._nc.subscribe(subject, cb=self._on_msg)
        self.connected.set()
        log.info("market feed subscribed on %s", url)
        tasks = [self._flush_forever(), self._session_forever(), self._heartbeat_forever()]
        if self.hosted_control:
            tasks.append(self._control_forever())
        await asyncio.gather(*tasks)

    def _on_disconnected(self) -> None:
        self.connected.clear()
        self._broadcast({"type": "heartbeat", "feed": {"nats": False}})

    def _on_reconnected(self) -> None:
        self.connected.set()
        self._broadcast({"type": "heartbeat", "feed": {"nats": True}})

    async def _on_msg(self, msg: Any) -> None:
        self.ingest(msg.subject, msg.data)

    # --- ingest (any thread) ---------------------------------------------------------------------

    def ingest(self, subject: str, data: bytes) -> None:
        """Decode one market-data message and fold it into the views; bad payloads are counted."""
        try:
            if subject.startswith(OPTION_PRINTS_PREFIX + "."):
                item = option_print_from_proto(market_pb2.OptionPrint.FromString(data))
                with self._lock:
                    self.sampler.offer(item)
            elif subject.startswith(EQUITY_TRADES_PREFIX + "."):
                trade = equity_trade_from_proto(market_pb2.EquityTrade.FromString(data))
                with self._lock:
                    self.board.on_trade(trade)
            elif subject.startswith(EQUITY_QUOTES_PREFIX + "."):
                quote = equity_quote_from_proto(market_pb2.EquityQuote.FromString(data))
                with self._lock:
                    self.board.on_quote(quote)
        except Exception as exc:  # noqa: BLE001 - one bad message must not stop the feed
            self.decode_errors += 1
            if self.decode_errors <= 3:
                log.warning("undecodable market message on %s: %s", subject, exc)

    def set_session(self, view: SessionView) -> None:
        with self._lock:
            changed = view != self.session
            self.session = view
        if changed:
            self._broadcast({"type": "session", "session": view.to_dict(self.include_regime)})

    # --- fan-out -------------------------------------------------------------------------------

    def flush(self) -> None:
        """Drain the views into one message per kind and broadcast it."""
        self._flushes += 1
        with self._lock:
            prints = self.sampler.drain()
            if prints:
                self.recent = (self.recent + prints)[-RECENT_PRINTS:]
            symbols = self.board.take_changes() if self._flushes % self.symbols_every == 0 else []
        if prints:
            self._broadcast({"type": "prints", "items": prints})
        if symbols:
            self._broadcast({"type": "symbols", "items": symbols})

    def snapshot_message(self) -> str:
        with self._lock:
            message = {
                "type": "snapshot",
                "prints": list(self.recent),
                "symbols": self.board.snapshot(),
                "session": self.session.to_dict(self.include_regime),
                "feed": {"nats": self.connected.is_set()},
            }
        return _dumps(message)

    def subscribe(self) -> Subscription:
        sub = Subscription()
        sub.inbox.put_nowait(self.snapshot_message())
        with self._subs_lock:
            self._subs.add(sub)
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        with self._subs_lock:
            self._subs.discard(sub)

    @property
    def subscriber_count(self) -> int:
        with self._subs_lock:
            return len(self._subs)

    def _broadcast(self, message: dict[str, Any]) -> None:
        text = _dumps(message)
        with self._subs_lock:
            subs = list(self._subs)
        for sub in subs:
            if sub.lagged:
                continue
            try:
                sub.inbox.put_nowait(text)
            except queue.Full:
                sub.lagged = True
        for sub in subs:
            if sub.lagged and sub.inbox.empty():
                # Caught up on what it had: a snapshot replaces everything it missed.
                sub.lagged = False
                sub.inbox.put_nowait(self.snapshot_message())

    def drop_all(self) -> None:
        """Disconnect every browser (they reconnect and resync); used on shutdown and in tests."""
        with self._subs_lock:
            subs = list(self._subs)
            self._subs.clear()
        for sub in subs:
            sub.closed = True
            try:
                sub.inbox.put_nowait("")  # wakes a waiting websocket loop, which then closes
            except queue.Full:
                pass

    # --- periodic tasks --------------------------------------------------------------------------

    async def _flush_forever(self) -> None:
        while True:
            await asyncio.sleep(self.flush_interval_s)
            self.flush()

    async def _heartbeat_forever(self) -> None:
        while True:
            await asyncio.sleep(HEARTBEAT_S)
            self._broadcast({"type": "heartbeat", "feed": {"nats": self.connected.is_set()}})

    async def _session_forever(self) -> None:
        js = self._nc.jetstream(timeout=2)
        kv = None
        while True:
            try:
                if kv is None:
                    kv = await js.key_value(self.status_bucket)
                reports = []
                for key in sorted(await kv.keys()):
                    entry = await kv.get(key)
                    r = status_pb2.StatusReport.FromString(entry.value or b"")
                    reports.append({
                        "session_phase": r.session_phase, "regime": r.regime,
                        "focus_symbols": list(r.focus_symbols), "last_publish_ts": r.last_publish_ts,
                    })
                self.set_session(session_view(reports))
            except (BucketNotFoundError, NoKeysError, NotFoundError):
                pass  # no ingest service has reported yet
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - the header keeps its last context
                log.debug("session context unavailable: %s", exc)
            await asyncio.sleep(SESSION_POLL_S)

    async def _control_forever(self) -> None:
        """Read the control entry's history every ``control_poll_s`` (the day's timeline, as every service
        runs it). Only read: the web terminal may not create the bucket (the services that may do so at
        start), and an absent entry means defaults."""
        js = self._nc.jetstream(timeout=2)
        kv = None
        absence = AbsenceLog()
        while True:
            try:
                if kv is None:
                    kv = await js.key_value(self.control_bucket)
                self.control = await load_timeline(kv, self._session_ts, absence=absence)
            except (BucketNotFoundError, NotFoundError):
                pass  # no service has made the bucket yet: defaults stay in force
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - the last control read stays in force
                log.debug("control entry unavailable: %s", exc)
            await asyncio.sleep(self.control_poll_s)
