"""The latest smart-money events in memory, and their fan-out to live subscribers (websockets)."""

from __future__ import annotations

import collections
import functools
import itertools
import json
import queue
import threading
from dataclasses import dataclass, field

from admin_gateway.params import EventFilter
from synthmarket.domain.marketdata import SmartMoneyEvent

DEFAULT_CACHE_SIZE = 5000
DEFAULT_SUBSCRIBER_QUEUE = 256


@dataclass(frozen=True)
class CachedEvent:
    seq: int                    # JetStream stream sequence
    event: SmartMoneyEvent

    @functools.cached_property
    def json_text(self) -> str:
        """The public JSON of the event, encoded once however many websockets send it."""
        return json.dumps(self.event.to_dict(), separators=(",", ":"))


@dataclass
class Subscription:
    """One live listener. The queue is bounded: a slow reader skips ahead, it never slows others."""

    filter: EventFilter
    maxsize: int
    id: int = 0
    skipped: int = 0
    closed: bool = False
    _queue: queue.Queue = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._queue = queue.Queue(maxsize=self.maxsize)

    def offer(self, item: CachedEvent) -> None:
        """Called by the feeder thread; never blocks."""
        while True:
            try:
                self._queue.put_nowait(item)
                return
            except queue.Full:
                # Skip ahead: the oldest pending event goes, the newest one stays.
                try:
                    self._queue.get_nowait()
                    self.skipped += 1
                except queue.Empty:
                    pass

    def get(self, timeout: float | None = None) -> CachedEvent | None:
        try:
            return self._queue.get(timeout=timeout)
        except queue.Empty:
            return None

    def pending(self) -> int:
        return self._queue.qsize()


class EventsCache:
    """Thread-safe ring of the newest events plus the set of live subscriptions."""

    def __init__(self, size: int = DEFAULT_CACHE_SIZE, subscriber_queue: int = DEFAULT_SUBSCRIBER_QUEUE) -> None:
        self._events: collections.deque[CachedEvent] = collections.deque(maxlen=size)
        self._subscribers: dict[int, Subscription] = {}
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._subscriber_queue = subscriber_queue
        self.last_seq = 0
        self.closing = False
        self.primed = threading.Event()   # set once the feeder has caught up with the stream

    def add(self, seq: int, event: SmartMoneyEvent) -> None:
        item = CachedEvent(seq, event)
        with self._lock:
            if seq <= self.last_seq:
                return  # a redelivery after a consumer reset
            self.last_seq = seq
            self._events.append(item)
            subscribers = list(self._subscribers.values())
        for sub in subscribers:
            if sub.filter.matches(event):
                sub.offer(item)

    def recent(self, limit: int, flt: EventFilter) -> list[CachedEvent]:
        """Up to ``limit`` matching events, newest first."""
        with self._lock:
            snapshot = list(self._events)
        out: list[CachedEvent] = []
        for item in reversed(snapshot):
            if flt.matches(item.event):
                out.append(item)
                if len(out) >= limit:
                    break
        return out

    @property
    def maxlen(self) -> int:
        return self._events.maxlen or 0

    def __len__(self) -> int:
        with self._lock:
            return len(self._events)

    def subscribe(self, flt: EventFilter, maxsize: int | None = None) -> Subscription:
        sub = Subscription(flt, maxsize or self._subscriber_queue, id=next(self._ids))
        with self._lock:
            if self.closing:
                sub.closed = True
            else:
                self._subscribers[sub.id] = sub
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        sub.closed = True
        with self._lock:
            self._subscribers.pop(sub.id, None)

    def close_all(self) -> None:
        """Shutting down: end every live subscription (their readers notice within a poll)."""
        with self._lock:
            self.closing = True
            subscribers = list(self._subscribers.values())
            self._subscribers.clear()
        for sub in subscribers:
            sub.closed = True

    def subscriber_count(self) -> int:
        with self._lock:
            return len(self._subscribers)
