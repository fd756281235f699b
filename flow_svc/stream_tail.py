"""Reading the end of the SMART_MONEY stream, newest first, to know what a restart must not publish again."""

from __future__ import annotations

from nats.js.client import JetStreamContext
from nats.js.errors import NotFoundError

from flow_svc.backfill import STORED_ORDER_SLACK_MS, StoredTail
from synthmarket import wire
from synthmarket.names import SMART_MONEY_STREAM
from synthmarket.v1 import smart_money_pb2

# A bound on the reads, whatever the stream holds: at speed 1 the slack covers a few dozen events.
MAX_TAIL_READS = 20_000


async def stored_tail(js: JetStreamContext, stream: str = SMART_MONEY_STREAM,
                      slack_ms: int = STORED_ORDER_SLACK_MS) -> StoredTail:
    """The newest stored event's ts and the ids of every stored event within ``slack_ms`` of it."""
    state = (await js.stream_info(stream)).state
    if not state.messages:
        return StoredTail()
    newest: int | None = None
    ids: set[str] = set()
    seq = state.last_seq
    reads = 0
    while seq >= state.first_seq and reads < MAX_TAIL_READS:
        reads += 1
        try:
            msg = await js.get_msg(stream, seq)
        except NotFoundError:       # deleted or expired meanwhile
            seq -= 1
            continue
        seq -= 1
        if msg.data is None:
            continue
        event = wire.smart_money_event_from_proto(smart_money_pb2.SmartMoneyEvent.FromString(msg.data))
        if newest is None:
            newest = event.ts
        elif event.ts < newest - slack_ms:
            break
        ids.add(event.event_id)
    return StoredTail(newest, frozenset(ids))
