"""The deployment's JetStream assets, created with its replica count before any service starts.

The control bucket, the status bucket and the SMART_MONEY stream get ``NATS_REPLICAS`` copies (3
on a three-node cluster: any one node may die without losing an acknowledged write). Services
that find an asset missing create it with one copy, so this runs first: `synthmarket up` calls
``ensure_jetstream`` itself, compose runs ``python -m synthmarket.infra.jetstream_setup`` once.
An asset that exists with another replica count is scaled to the deployment's.
"""

from __future__ import annotations

import asyncio
import logging
import sys

from nats.js import JetStreamContext
from nats.js.errors import NotFoundError

from synthmarket.infra import nats_connection
from synthmarket.infra.control_store import ensure_control_bucket, ensure_status_bucket
from synthmarket.infra.process import settings_or_exit
from synthmarket.infra.streams import ensure_smart_money_stream
from synthmarket.names import CONTROL_BUCKET, SMART_MONEY_STREAM, STATUS_BUCKET

log = logging.getLogger(__name__)

CONNECT_TIMEOUT_S = 60.0


def replicated_streams(control_bucket: str = CONTROL_BUCKET, status_bucket: str = STATUS_BUCKET) -> tuple[str, ...]:
    """The streams that carry the deployment's state (a KV bucket is the stream ``KV_<bucket>``)."""
    return (f"KV_{control_bucket}", f"KV_{status_bucket}", SMART_MONEY_STREAM)


async def _scale(js: JetStreamContext, stream: str, replicas: int) -> None:
    try:
        info = await js.stream_info(stream)
    except NotFoundError:
        return
    if (info.config.num_replicas or 1) != replicas:
        log.info("scaling stream %s from %s to %d replicas", stream, info.config.num_replicas or 1, replicas)
        await js.update_stream(info.config, num_replicas=replicas)


async def ensure_jetstream(js: JetStreamContext, replicas: int, retention_hours: float = 24.0) -> None:
    """Create what is missing with ``replicas`` copies and scale what exists to it."""
    await ensure_control_bucket(js, replicas=replicas)
    await ensure_status_bucket(js, replicas=replicas)
    await ensure_smart_money_stream(js, retention_hours, replicas)
    for stream in replicated_streams():
        await _scale(js, stream, replicas)


async def _main() -> int:
    settings = settings_or_exit("jetstream_setup")
    logging.basicConfig(level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    credentials = nats_connection.identity(settings)
    stop = asyncio.Event()
    await nats_connection.wait_reachable(settings.nats_url, stop, CONNECT_TIMEOUT_S, credentials)
    nc = await nats_connection.connect_once(settings.nats_url, timeout=5.0, credentials=credentials)
    try:
        # A cluster that just started may still be electing its meta leader: retry for a while.
        for attempt in range(30):
            try:
                await ensure_jetstream(nc.jetstream(timeout=5), settings.nats_replicas,
                                       settings.smart_money_retention_hours)
                break
            except Exception as exc:  # noqa: BLE001 - retried, then reported
                if attempt == 29:
                    print(f"jetstream_setup: {exc or type(exc).__name__}", file=sys.stderr)
                    return 1
                await asyncio.sleep(1.0)
    finally:
        await nc.close()
    log.info("control and status buckets and stream %s have %d replicas", SMART_MONEY_STREAM,
             settings.nats_replicas)
    return 0


if __name__ == "__main__":
    raise SystemExit(asyncio.run(_main()))
