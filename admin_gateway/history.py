"""Reading the smart-money JetStream stream: time lookup by sequence, range scans and time-ordered replay."""

from __future__ import annotations

import heapq
import logging
from collections.abc import AsyncIterator, Iterable, Iterator
from dataclasses import dataclass

from google.protobuf.message import DecodeError
from nats.js import JetStreamContext
from nats.js.api import ConsumerConfig, DeliverPolicy
from nats.js.errors import NotFoundError

from admin_gateway.events_cache import CachedEvent
from admin_gateway.params import HistoryQuery, encode_cursor
from synthmarket.domain.marketdata import SmartMoneyEvent
from synthmarket.domain.profiles import PUBLIC_PROFILE_IDS
from synthmarket.v1 import smart_money_pb2
from synthmarket.wire import WireError, smart_money_event_from_proto

log = logging.getLogger(__name__)

# Events reach the stream in publish order, which may trail event time by a classifier flush;
# scans start this much before the range and stop this much after it so no event is missed.
ORDER_SLACK_MS = 5 * 60_000
# How many stream messages one history page may read before it hands back a cursor.
SCAN_BUDGET = 5_000


@dataclass(frozen=True)
class HistoryPage:
    events: list[CachedEvent]
    next_cursor: str | None


def decode_event(data: bytes | None) -> SmartMoneyEvent | None:
    """The public event in a stream message, or None for anything unreadable (skipped, logged)."""
    if not data:
        return None
    try:
        msg = smart_money_pb2.SmartMoneyEvent.FromString(data)
        event = smart_money_event_from_proto(msg)
    except (DecodeError, WireError, ValueError, TypeError) as exc:
        log.warning("skipping an unreadable smart-money message: %s", exc)
        return None
    # Only the six public categories ever leave the gateway.
    return event if event.profile_id in PUBLIC_PROFILE_IDS else None


async def subject_bounds(js: JetStreamContext, stream: str, subject: str) -> tuple[int, int] | None:
    """(first kept sequence, sequence of the newest message on ``subject``), or None when there is
    nothing to read: no stream, no message kept, or none on the subject.

    A stream that never held a message reports first_seq 0, and a consumer asked to start at
    sequence 0 is refused by the server ("optional start sequence is not set"); and a scan that
    waited for a last_seq holding no message of the subject (deleted, expired, another subject)
    would wait until it timed out. So an empty stream is answered here, and scans end at the
    newest message the subject really has.
    """
    try:
        info = await js.stream_info(stream)
    except NotFoundError:
        return None
    if not info.state.messages:
        return None
    try:
        newest = await js.get_msg(stream, subject=subject, direct=True)
    except NotFoundError:
        return None
    if not newest.seq:
        return None
    return max(1, info.state.first_seq), newest.seq


async def event_at_or_after(
    js: JetStreamContext, stream: str, subject: str, seq: int
) -> tuple[int, SmartMoneyEvent | None] | None:
    try:
        raw = await js.get_msg(stream, seq=seq, subject=subject, next=True, direct=True)
    except NotFoundError:
        return None
    return raw.seq or seq, decode_event(raw.data)


async def lower_bound(js: JetStreamContext, stream: str, subject: str, first: int, last: int, ts: int) -> int:
    """Smallest sequence whose event time is >= ``ts`` (binary search; event time ~ sequence order)."""
    lo, hi = first, last + 1
    while lo < hi:
        mid = (lo + hi) // 2
        found = await event_at_or_after(js, stream, subject, mid)
        if found is None:
            hi = mid
            continue
        seq, event = found
        if seq >= hi:
            hi = mid
        elif event is None or event.ts < ts:
            lo = seq + 1
        else:
            hi = mid
    return lo


async def scan(
    js: JetStreamContext, stream: str, subject: str, start_seq: int, last_seq: int, timeout: float
) -> AsyncIterator[tuple[int, SmartMoneyEvent | None]]:
    """Every message from ``start_seq`` (>= 1) through ``last_seq``, in sequence order.

    Ends early once the consumer has nothing pending, so a message removed after the bounds
    were read does not leave the scan waiting for it.
    """
    config = ConsumerConfig(
        deliver_policy=DeliverPolicy.BY_START_SEQUENCE, opt_start_seq=start_seq, inactive_threshold=30.0
    )
    sub = await js.subscribe(subject, stream=stream, ordered_consumer=True, config=config)
    try:
        while True:
            msg = await sub.next_msg(timeout=timeout)
            seq = msg.metadata.sequence.stream
            yield seq, decode_event(msg.data)
            if seq >= last_seq or msg.metadata.num_pending == 0:
                return
    finally:
        try:
            await sub.unsubscribe()
        except Exception:  # noqa: BLE001 - the ephemeral consumer expires on its own
            pass


async def history_page(
    js: JetStreamContext, stream: str, subject: str, query: HistoryQuery, timeout: float,
    scan_budget: int = SCAN_BUDGET,
) -> HistoryPage:
    """One page of events in [start, end], stream order (oldest first), with a cursor to the rest."""
    bounds = await subject_bounds(js, stream, subject)
    if bounds is None:
        return HistoryPage([], None)
    first, last = bounds
    if query.cursor is None:
        seq = await lower_bound(js, stream, subject, first, last, query.start - ORDER_SLACK_MS)
    else:
        # Messages older than the retention window are gone; carry on from the oldest kept.
        seq = max(query.cursor, first)
    if seq > last:
        return HistoryPage([], None)
    events: list[CachedEvent] = []
    scanned = 0
    async for s, event in scan(js, stream, subject, seq, last, timeout):
        scanned += 1
        if event is not None:
            if event.ts > query.end + ORDER_SLACK_MS:
                return HistoryPage(events, None)
            if query.start <= event.ts <= query.end and query.filter.matches(event):
                events.append(CachedEvent(s, event))
        if len(events) >= query.limit or scanned >= scan_budget:
            return HistoryPage(events, encode_cursor(s + 1) if s < last else None)
    return HistoryPage(events, None)


def time_ordered(pages: Iterable[list[CachedEvent]], slack_ms: int = ORDER_SLACK_MS) -> Iterator[CachedEvent]:
    """Re-order a near-sorted sequence of pages into event-time order.

    An event is released once the stream has moved ``slack_ms`` past it, so an event that
    arrived late (up to the slack) is still emitted in its place. Ties keep stream order.
    """
    heap: list[tuple[int, int, CachedEvent]] = []
    newest = None
    for page in pages:
        for item in page:
            heapq.heappush(heap, (item.event.ts, item.seq, item))
            newest = item.event.ts if newest is None else max(newest, item.event.ts)
            while heap and heap[0][0] < newest - slack_ms:
                yield heapq.heappop(heap)[2]
    while heap:
        yield heapq.heappop(heap)[2]
