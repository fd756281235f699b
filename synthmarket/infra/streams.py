"""JetStream stream definitions: the smart-money event stream, created the same way everywhere, and its tail."""

from __future__ import annotations

from nats.js.api import DiscardPolicy, RetentionPolicy, StorageType, StreamConfig
from nats.js.client import JetStreamContext
from nats.js.errors import NotFoundError

from synthmarket import wire
from synthmarket.domain.marketdata import SmartMoneyEvent
from synthmarket.names import SMART_MONEY_STREAM, SMART_MONEY_SUBJECT
from synthmarket.v1 import smart_money_pb2

# Publishers set Nats-Msg-Id to the event id; this window turns a republish after a restart into a no-op.
DUPLICATE_WINDOW_S = 120.0


def smart_money_stream_config(retention_hours: float = 24.0, replicas: int = 1) -> StreamConfig:
    return StreamConfig(
        name=SMART_MONEY_STREAM,
        description="Public smart-money events, kept for history and replay",
        subjects=[SMART_MONEY_SUBJECT],
        retention=RetentionPolicy.LIMITS,
        storage=StorageType.FILE,
        discard=DiscardPolicy.OLD,
        max_age=retention_hours * 3600.0,
        duplicate_window=DUPLICATE_WINDOW_S,
        allow_direct=True,
        num_replicas=replicas,
    )


async def ensure_smart_money_stream(js: JetStreamContext, retention_hours: float = 24.0,
                                    replicas: int | None = None) -> None:
    """Create the stream if missing; bring its limits in line with settings if it exists.

    ``replicas=None`` keeps an existing stream's replica count (a new one gets 1): the deployment
    decides it (see synthmarket/infra/jetstream_setup.py), and an update that left it out would
    scale a replicated stream down to one copy.
    """
    try:
        info = await js.stream_info(SMART_MONEY_STREAM)
    except NotFoundError:
        await js.add_stream(smart_money_stream_config(retention_hours, replicas or 1))
        return
    current = info.config.num_replicas or 1
    await js.update_stream(smart_money_stream_config(retention_hours, replicas or current))


# A bound on the reads of ``newest_events``, whatever the stream holds.
MAX_TAIL_READS = 20_000


async def newest_events(js: JetStreamContext, within_ms: int,
                        stream: str = SMART_MONEY_STREAM) -> list[SmartMoneyEvent]:
    """The stored events from the newest back to ``within_ms`` older than it (in stream order, newest first)."""
    state = (await js.stream_info(stream)).state
    out: list[SmartMoneyEvent] = []
    seq = state.last_seq
    reads = 0
    while state.messages and seq >= state.first_seq and reads < MAX_TAIL_READS:
        reads += 1
        try:
            msg = await js.get_msg(stream, seq)
        except NotFoundError:       # deleted or expired meanwhile
            seq -= 1
            continue
        seq -= 1
        if not msg.data:
            continue
        event = wire.smart_money_event_from_proto(smart_money_pb2.SmartMoneyEvent.FromString(msg.data))
        if out and event.ts < out[0].ts - within_ms:
            break
        out.append(event)
    return out
