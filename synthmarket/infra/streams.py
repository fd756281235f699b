"""JetStream stream definitions: the smart-money event stream, created the same way everywhere."""

from __future__ import annotations

from nats.js.api import DiscardPolicy, RetentionPolicy, StorageType, StreamConfig
from nats.js.client import JetStreamContext
from nats.js.errors import NotFoundError

from synthmarket.names import SMART_MONEY_STREAM, SMART_MONEY_SUBJECT

# Publishers set Nats-Msg-Id to the event id; this window turns a republish after a restart into a no-op.
DUPLICATE_WINDOW_S = 120.0


def smart_money_stream_config(retention_hours: float = 24.0) -> StreamConfig:
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
    )


async def ensure_smart_money_stream(js: JetStreamContext, retention_hours: float = 24.0) -> None:
    """Create the stream if missing; bring its limits in line with settings if it exists."""
    config = smart_money_stream_config(retention_hours)
    try:
        await js.stream_info(SMART_MONEY_STREAM)
    except NotFoundError:
        await js.add_stream(config)
        return
    await js.update_stream(config)
